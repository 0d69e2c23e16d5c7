"""The emulator's slow mode: what the benchmark and the role's parallel waits rely on."""

from __future__ import annotations

import time


def test_slow_rds_and_elasticache_stay_creating_then_turn_available(emulator, aws):
    emulator.slow(rds=2, elasticache=2)
    try:
        aws.rds.create_db_instance(
            DBInstanceIdentifier="slowdb",
            DBInstanceClass="db.t4g.micro",
            Engine="postgres",
            MasterUsername="u",
            MasterUserPassword="not-a-secret-1",  # noqa: S106 - the emulator's dummy
            AllocatedStorage=20,
        )
        aws.elasticache.create_replication_group(
            ReplicationGroupId="slowrg",
            ReplicationGroupDescription="x",
            CacheNodeType="cache.t4g.micro",
            Engine="redis",
        )
        started = time.monotonic()
        db = aws.rds.describe_db_instances(DBInstanceIdentifier="slowdb")["DBInstances"][0]
        group = aws.elasticache.describe_replication_groups(ReplicationGroupId="slowrg")["ReplicationGroups"][0]
        assert db["DBInstanceStatus"] == "creating"
        assert group["Status"] == "creating"
        time.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
        assert aws.rds.describe_db_instances(DBInstanceIdentifier="slowdb")["DBInstances"][0]["DBInstanceStatus"] == (
            "available"
        )
        assert aws.elasticache.describe_replication_groups(ReplicationGroupId="slowrg")["ReplicationGroups"][0][
            "Status"
        ] == ("available")
    finally:
        emulator.slow()
        aws.rds.delete_db_instance(DBInstanceIdentifier="slowdb", SkipFinalSnapshot=True)
        aws.elasticache.delete_replication_group(ReplicationGroupId="slowrg")
