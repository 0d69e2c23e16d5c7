"""webstack.aws.database through ansible-playbook on the emulator.

moto 5.2.5 applies every ModifyDBInstance at once (no PendingModifiedValues) and has no ResetDBParameterGroup:
the pending overlay and the reset of a removed parameter are tested with botocore's Stubber in
tests/unit/plugins/module_utils/_kinds/test_rds.py (test_*_stubber)."""

from __future__ import annotations

import json
import os
import tempfile

import pytest
import yaml
from common import run_playbook
from helpers import failing_case, network_with_groups, quartet, remove_network_with_groups, run_task

ENV = "dbt"
PASSWORD = "Sup3r-Secret-Pa55word"  # noqa: S105 - a test password that must never appear in any output


@pytest.fixture(scope="module")
def prereq(emulator):
    made = network_with_groups(emulator, ENV, "10.62.0.0/16", ["load_balancer", "instance", "database"])
    group_ids = made["security_groups"]["group_ids"]
    yield {
        "subnets": made["network"]["subnet_ids"]["database"],
        "security_groups": [group_ids["database"]],
        "instance_group": group_ids["instance"],
    }
    import boto3

    rds = boto3.client(
        "rds",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    for env in (ENV, "dbp", "dbs"):  # a failed test may leave protection on
        for instance in rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [env]}])["DBInstances"]:
            rds.modify_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"], DeletionProtection=False)
        run_task(emulator, "database", {"environment": env, "state": "absent", "final_snapshot": False})
    remove_network_with_groups(emulator, ENV)


def base(prereq, env=ENV, **more):
    args = {"environment": env, "subnets": prereq["subnets"], "security_groups": prereq["security_groups"]}
    args.update(more)
    return args


def final_snapshots(aws, env):
    found = aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return sorted(s["DBSnapshotIdentifier"] for s in found if s["DBSnapshotIdentifier"].startswith(env + "-final-"))


def rds_calls(run):
    return dict((k.split(":", 1)[-1], v) for k, v in run.calls["by_action"].items())


def test_create_update_protect_and_delete(emulator, aws, prereq):
    # -- check mode on an empty account, with the earlier layers not made yet: unknowns are null ----------------
    fresh = run_task(emulator, "database", {"environment": ENV, "subnets": None, "security_groups": []}, check=True)
    assert fresh.actions() == [
        ("create", "subnet_group", "subnet_group"),
        ("create", "parameter_group", "postgres16"),
        ("create", "db_instance", "database"),
    ]
    out = fresh.result["database"]
    assert out["identifier"] is None and out["arn"] is None and out["endpoint"] is None
    assert out["secret_arn"] is None and out["parameter_group"] is None and out["subnet_group"] is None
    assert fresh.calls["mutating"] == 0
    instance_plan = fresh.plan[2]["fields"]
    assert instance_plan["security_groups"]["after"].startswith("(known after apply")
    assert "master_password" not in instance_plan  # managed by RDS: nothing to show

    # -- create -----------------------------------------------------------------------------------------------
    args = base(prereq, parameters={"log_min_duration_statement": 500})
    runs = quartet(emulator, "database", args)
    assert runs.first_check.actions() == fresh.actions()
    out = runs.apply.result["database"]
    db = aws.rds.describe_db_instances(DBInstanceIdentifier=ENV)["DBInstances"][0]
    assert out["identifier"] == ENV and out["arn"] == db["DBInstanceArn"]
    assert out["endpoint"] == db["Endpoint"]["Address"] and out["port"] == 5432
    assert out["secret_arn"] == db["MasterUserSecret"]["SecretArn"]
    assert (out["master_username"], out["database_name"], out["engine_version"]) == ("ebroot", "ebdb", "16.4")
    assert out["status"] == "available" and out["pending_modifications"] == {} and out["final_snapshot"] is None
    assert (out["parameter_group"], out["subnet_group"]) == ("dbt-postgres16", "dbt")
    assert (db["Engine"], db["DBInstanceClass"], db["AllocatedStorage"], db["StorageType"]) == (
        "postgres",
        "db.t4g.micro",
        20,
        "gp3",
    )
    assert db["PubliclyAccessible"] is False and db["CopyTagsToSnapshot"] is True and db["DeletionProtection"] is True
    assert db["StorageEncrypted"] is True and db["BackupRetentionPeriod"] == 7 and db["MultiAZ"] is False
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == prereq["security_groups"]
    assert db["DBParameterGroups"][0]["DBParameterGroupName"] == "dbt-postgres16"
    tags = dict((t["Key"], t["Value"]) for t in db["TagList"])
    assert tags["webstack:environment"] == ENV and tags["webstack:layer"] == "database"
    assert tags["webstack:resource"] == "database" and tags["Name"] == "dbt-database"
    group = aws.rds.describe_db_subnet_groups(DBSubnetGroupName=ENV)["DBSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(prereq["subnets"])
    tags = aws.rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"]
    assert {"Key": "webstack:resource", "Value": "subnet_group"} in tags
    pg = aws.rds.describe_db_parameter_groups(DBParameterGroupName="dbt-postgres16")["DBParameterGroups"][0]
    assert pg["DBParameterGroupFamily"] == "postgres16"
    tags = aws.rds.list_tags_for_resource(ResourceName=pg["DBParameterGroupArn"])["TagList"]
    assert {"Key": "webstack:environment", "Value": ENV} in tags
    params = aws.rds.describe_db_parameters(DBParameterGroupName="dbt-postgres16", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in params] == [("log_min_duration_statement", "500")]
    # the no-op run: one call per read, nothing else
    reads = rds_calls(runs.again)
    assert reads == {
        "DescribeDBSubnetGroups": 1,
        "DescribeDBParameterGroups": 1,
        "DescribeDBParameters": 1,
        "DescribeDBInstances": 1,
        "ListTagsForResource": 2,
    }, reads
    print("no-op second apply: %d calls, %d mutating" % (runs.again.calls["total"], runs.again.calls["mutating"]))

    # -- update, applied now: class, backups, parameters added and changed, tags -------------------------------
    update = base(
        prereq,
        instance_class="db.t4g.small",
        backup_retention=14,
        backup_window="03:00-03:30",
        maintenance_window="Sun:04:00-sun:04:30",
        parameters={"log_min_duration_statement": 1000, "work_mem": "8192", "log_connections": True},
        tags={"team": "data"},
        apply_immediately=True,
    )
    runs = quartet(emulator, "database", update)
    assert runs.first_check.actions() == [
        ("update", "subnet_group", "subnet_group"),
        ("update", "parameter_group", "postgres16"),
        ("update", "db_instance", "database"),
    ]
    assert sorted(runs.first_check.plan[0]["fields"]) == ["tags"]
    changed = runs.first_check.plan[2]["fields"]
    assert sorted(changed) == ["backup_retention", "backup_window", "instance_class", "maintenance_window", "tags"]
    assert changed["instance_class"] == {"before": "db.t4g.micro", "after": "db.t4g.small"}
    diff = runs.first_check.result["diff"]
    assert diff["after"]["parameter_group postgres16"]["parameters"]["work_mem"] == "8192"
    db = aws.rds.describe_db_instances(DBInstanceIdentifier=ENV)["DBInstances"][0]
    assert (db["DBInstanceClass"], db["BackupRetentionPeriod"], db["PreferredBackupWindow"]) == (
        "db.t4g.small",
        14,
        "03:00-03:30",
    )
    assert db["PreferredMaintenanceWindow"] == "sun:04:00-sun:04:30"
    assert dict((t["Key"], t["Value"]) for t in db["TagList"])["team"] == "data"
    params = aws.rds.describe_db_parameters(DBParameterGroupName="dbt-postgres16", Source="user")["Parameters"]
    assert dict((p["ParameterName"], p["ParameterValue"]) for p in params) == {
        "log_min_duration_statement": "1000",
        "work_mem": "8192",
        "log_connections": "1",
    }
    methods = dict((p["ParameterName"], p.get("ApplyMethod")) for p in params)
    assert methods["work_mem"] == "pending-reboot"  # moto gives no ApplyType: the safe default

    # -- a change for the maintenance window: the second run is a no-op ----------------------------------------
    later = dict(update, apply_immediately=False, instance_class="db.t4g.medium", multi_az=True)
    runs = quartet(emulator, "database", later)
    assert runs.first_check.actions() == [("update", "db_instance", "database")]
    sent = rds_calls(runs.apply)
    assert sent.get("ModifyDBInstance") == 1

    # -- delete with deletion protection on: refused before any mutating call, check mode too -------------------
    for check in (True, False):
        refused = run_task(
            emulator, "database", {"environment": ENV, "state": "absent"}, check=check, expect_failure=True
        )
        assert "deletion_protection=false" in refused.result["msg"] and "state=absent" in refused.result["msg"]
        assert refused.calls["mutating"] == 0, refused.calls
    assert aws.rds.describe_db_instances(DBInstanceIdentifier=ENV)["DBInstances"]
    # and a replacement is refused the same way (even when allowed)
    refused = run_task(
        emulator, "database", dict(later, database_name="other", allow_replacement=True), expect_failure=True
    )
    assert "deletion_protection=false" in refused.result["msg"] and refused.calls["mutating"] == 0
    # a major upgrade needs allow_major_version_upgrade
    refused = run_task(emulator, "database", dict(later, engine_version="17.2"), check=True, expect_failure=True)
    assert refused.result["option"] == "allow_major_version_upgrade" and refused.calls["mutating"] == 0

    # -- turn protection off, then delete: a final snapshot is taken and kept ----------------------------------
    runs = quartet(emulator, "database", dict(later, deletion_protection=False))
    assert runs.first_check.plan[0]["fields"]["deletion_protection"] == {"before": True, "after": False}
    # a replacement without allow_replacement is refused, naming the field
    refused = run_task(
        emulator,
        "database",
        dict(later, deletion_protection=False, database_name="other"),
        check=True,
        expect_failure=True,
    )
    assert "allow_replacement" in refused.result["msg"] and "database_name" in refused.result["msg"]
    runs = quartet(emulator, "database", {"environment": ENV, "state": "absent"})
    assert runs.first_check.actions() == [
        ("delete", "db_instance", "database"),
        ("delete", "parameter_group", "postgres16"),
        ("delete", "subnet_group", "subnet_group"),
    ]
    (snapshot,) = final_snapshots(aws, ENV)
    assert runs.apply.result["database"]["final_snapshot"] == snapshot
    assert len(snapshot) == len("dbt-final-") + 14 and snapshot[len("dbt-final-") :].isdigit()
    assert not aws.rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [ENV]}])["DBInstances"]
    assert not [
        g for g in aws.rds.describe_db_parameter_groups()["DBParameterGroups"] if "dbt-" in g["DBParameterGroupName"]
    ]
    assert not [g for g in aws.rds.describe_db_subnet_groups()["DBSubnetGroups"] if g["DBSubnetGroupName"] == ENV]
    # still there on a later run
    run_task(emulator, "database", {"environment": ENV, "state": "absent"})
    assert final_snapshots(aws, ENV) == [snapshot]


def test_replacement_snapshots_and_final_snapshot_false_does_not(emulator, aws, prereq):
    args = base(prereq, env="dbs", deletion_protection=False)
    run_task(emulator, "database", args)
    # moto names its automated snapshot rds:<id>-<minute> and keeps it (DeleteAutomatedBackups=False), so the
    # replacement's create would collide with it within the same minute; real RDS keeps retained backups apart.
    for snap in aws.rds.describe_db_snapshots(DBInstanceIdentifier="dbs", SnapshotType="automated")["DBSnapshots"]:
        aws.rds.delete_db_snapshot(DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
    # a create-only change, allowed: the old instance goes with a final snapshot, an empty one comes
    replaced = quartet(emulator, "database", dict(args, database_name="appdb", allow_replacement=True))
    assert replaced.first_check.actions() == [("replace", "db_instance", "database")]
    assert replaced.first_check.plan[0]["replace_reasons"] == ["database_name"]
    taken = replaced.apply.result["database"]["final_snapshot"]
    assert taken and final_snapshots(aws, "dbs") == [taken]
    assert replaced.again.result["database"]["final_snapshot"] is None
    db = aws.rds.describe_db_instances(DBInstanceIdentifier="dbs")["DBInstances"][0]
    assert db["DBName"] == "appdb"
    # final_snapshot=false: deleted with no snapshot
    gone = run_task(emulator, "database", {"environment": "dbs", "state": "absent", "final_snapshot": False})
    assert gone.changed and ("delete", "db_instance", "database") in gone.actions()
    assert not aws.rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": ["dbs"]}])["DBInstances"]
    assert final_snapshots(aws, "dbs") == [taken]


def run_verbose(emulator, args, *flags):
    """One database task with ansible-playbook -vvv, plain output (the whole of it is searched for the password)."""
    play = [
        {
            "name": "test",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "task under test", "webstack.aws.database": args, "register": "out"}],
        }
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
        yaml.safe_dump(play, handle)
        path = handle.name
    try:
        return run_playbook(path, emulator.endpoint, "-vvv", *flags, json_output=False)
    finally:
        os.unlink(path)


def test_master_password_is_never_shown(emulator, aws, prereq):
    args = base(prereq, env="dbp", master_password=PASSWORD, deletion_protection=False, final_snapshot=False)
    for flags in (("--check", "--diff"), ("--diff",)):
        run = run_verbose(emulator, args, *flags)
        assert run.returncode == 0, run.stdout[-3000:]
        assert PASSWORD not in run.stdout and PASSWORD not in run.stderr
        assert "(secret, not shown)" in run.stdout or "secret, not shown" in run.stdout
    db = aws.rds.describe_db_instances(DBInstanceIdentifier="dbp")["DBInstances"][0]
    assert "MasterUserSecret" not in db
    # on_create (the default): the password is not sent again, nothing to do
    again = run_task(emulator, "database", args)
    assert again.changed is False and again.calls["mutating"] == 0
    assert again.result["database"]["secret_arn"] is None
    # always: sent every run, shown only as a placeholder, and always a change
    always = dict(args, update_password="always")  # noqa: S106 - an option, not a password
    for attempt in (1, 2):
        sent = run_task(emulator, "database", always, diff=True)
        assert sent.changed is True, attempt
        fields = sent.plan[0]["fields"]
        assert fields == {"master_password": {"before": None, "after": "(secret, not shown)"}}
        assert rds_calls(sent).get("ModifyDBInstance") == 1
    run = run_verbose(emulator, always, "--diff")
    assert PASSWORD not in run.stdout and PASSWORD not in run.stderr
    # back to a managed password (RDS keeps it in Secrets Manager)
    managed = run_task(emulator, "database", base(prereq, env="dbp", deletion_protection=False, final_snapshot=False))
    assert managed.plan[0]["fields"]["managed_password"] == {"before": False, "after": True}
    assert managed.result["database"]["secret_arn"]
    run_task(emulator, "database", {"environment": "dbp", "state": "absent", "final_snapshot": False})


BAD_INPUTS = [
    ({"allocated_storage": 10}, "allocated_storage"),
    ({"instance_class": "t3.micro"}, "instance_class"),
    ({"backup_retention": 36}, "backup_retention"),
    ({"backup_window": "3:00-03:30"}, "backup_window"),
    ({"maintenance_window": "sunday:04:00-sun:04:30"}, "maintenance_window"),
    ({"max_allocated_storage": 20}, "max_allocated_storage"),
    ({"master_password": "short"}, "master_password"),
]


def bad_case(args, option):
    """The module arguments of one bad-input case."""
    return dict({"environment": "dbt-bad", "subnets": ["subnet-1", "subnet-2"], "security_groups": ["sg-1"]}, **args)


@pytest.mark.parametrize("args, option", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, option):
    out = failing_case(emulator, "database", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, option))
    assert out.result["option"] == option, out.result
    assert out.result["msg"].startswith(option + ":")
    assert out.calls["total"] == 0, out.calls
    assert '"short"' not in json.dumps(out.result)
