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


def test_emulator_fills_moto_gaps_the_way_aws_answers(aws):
    """tools/awsemu.patch_moto and NOT_FOUND: what moto 5.2.5 lacks for a complete teardown."""
    import botocore.exceptions
    import pytest

    with pytest.raises(botocore.exceptions.ClientError) as missing:
        aws.rds.describe_db_parameter_groups(DBParameterGroupName="no-such-group")
    assert missing.value.response["Error"]["Code"] == "DBParameterGroupNotFound"

    cache = aws.elasticache
    cache.create_cache_subnet_group(
        CacheSubnetGroupName="gap", CacheSubnetGroupDescription="d", SubnetIds=["subnet-12345678"]
    )
    cache.create_replication_group(
        ReplicationGroupId="gap",
        ReplicationGroupDescription="x",
        CacheNodeType="cache.t4g.micro",
        Engine="redis",
        CacheSubnetGroupName="gap",
    )
    with pytest.raises(botocore.exceptions.ClientError) as in_use:
        cache.delete_cache_subnet_group(CacheSubnetGroupName="gap")
    assert in_use.value.response["Error"]["Code"] == "CacheSubnetGroupInUse"
    deleted = cache.delete_replication_group(ReplicationGroupId="gap", FinalSnapshotIdentifier="gap-final")
    assert deleted["ReplicationGroup"]["Status"] == "deleting"
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        cache.describe_replication_groups(ReplicationGroupId="gap")
    assert gone.value.response["Error"]["Code"] == "ReplicationGroupNotFoundFault"
    assert [s["SnapshotName"] for s in cache.describe_snapshots(SnapshotName="gap-final")["Snapshots"]] == ["gap-final"]
    cache.delete_cache_subnet_group(CacheSubnetGroupName="gap")
    assert "gap" not in [g["CacheSubnetGroupName"] for g in cache.describe_cache_subnet_groups()["CacheSubnetGroups"]]
    cache.delete_snapshot(SnapshotName="gap-final")


def test_describe_cache_clusters_lists_the_nodes_when_asked(aws):
    """tools/awsemu.patch_moto: moto 5.2.5 answers no CacheNodes (nor the security groups), which
    community.aws.elasticache reads on every run."""
    cache = aws.elasticache
    cache.create_cache_cluster(
        CacheClusterId="nodes",
        Engine="redis",
        CacheNodeType="cache.t4g.micro",
        NumCacheNodes=1,
        Port=6380,
        SecurityGroupIds=["sg-12345678"],
    )
    try:
        cluster = cache.describe_cache_clusters(CacheClusterId="nodes", ShowCacheNodeInfo=True)["CacheClusters"][0]
        [node] = cluster["CacheNodes"]
        assert node["CacheNodeId"] == "0001"
        assert node["CacheNodeStatus"] == "available"
        assert node["ParameterGroupStatus"] == "in-sync"
        assert node["Endpoint"]["Port"] == 6380
        assert node["Endpoint"]["Address"].startswith("nodes.")
        assert node["CustomerAvailabilityZone"]
        assert node["CacheNodeCreateTime"] == cluster["CacheClusterCreateTime"]
        assert cluster["CacheSecurityGroups"] == []
        assert cluster["SecurityGroups"] == [{"SecurityGroupId": "sg-12345678", "Status": "active"}]
        plain = cache.describe_cache_clusters(CacheClusterId="nodes")["CacheClusters"][0]
        assert "CacheNodes" not in plain
    finally:
        cache.delete_cache_cluster(CacheClusterId="nodes")
