"""RDS kinds (``_kinds/rds.py``): the pending overlay, parameter diffing, and with botocore's Stubber the paths
moto 5.2.5 cannot produce: changes pending for the maintenance window, ResetDBParameterGroup, an instance that
stays ``creating`` for a while, a major upgrade moving to a new parameter group."""

from __future__ import annotations

import copy
import datetime

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Engine, EngineError
from ansible_collections.webstack.aws.plugins.module_utils._kinds import rds
from ansible_collections.webstack.aws.plugins.module_utils._kinds.rds import RdsState
from ansible_collections.webstack.aws.plugins.module_utils._layers.database import (
    DatabaseLayer,
    argument_spec,
)

ENV = "shop"
ARN = "arn:aws:rds:us-east-1:123456789012:db:shop"
SUBNETS = ["subnet-0a", "subnet-0b"]
GROUPS = ["sg-0123"]
WHEN = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)  # noqa: UP017 - older Pythons too


def params(**more):
    result = dict((name, spec.get("default")) for name, spec in argument_spec().items())
    result.update(environment=ENV, state="present", tags=None, purge_tags=True, wait=True, wait_timeout=900)
    result.update(subnets=list(SUBNETS), security_groups=list(GROUPS))
    result.update(more)
    return result


def client():
    session = botocore.session.get_session()
    return session.create_client(
        "rds",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy key; the Stubber answers every call
    )


def tags(key):
    return [
        {"Key": "Name", "Value": "%s-%s" % (ENV, key.replace("_", "-"))},
        {"Key": "webstack:environment", "Value": ENV},
        {"Key": "webstack:layer", "Value": "database"},
        {"Key": "webstack:resource", "Value": key},
    ]


def instance(**more):
    found = {
        "DBInstanceIdentifier": ENV,
        "DBInstanceArn": ARN,
        "DBInstanceClass": "db.t4g.micro",
        "Engine": "postgres",
        "EngineVersion": "16.4",
        "DBInstanceStatus": "available",
        "MasterUsername": "ebroot",
        "DBName": "ebdb",
        "Endpoint": {"Address": "shop.abc.us-east-1.rds.amazonaws.com", "Port": 5432},
        "AllocatedStorage": 20,
        "StorageType": "gp3",
        "Iops": 3000,
        "StorageThroughput": 125,
        "MultiAZ": False,
        "StorageEncrypted": True,
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k-1",
        "BackupRetentionPeriod": 7,
        "PreferredBackupWindow": "03:00-03:30",
        "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
        "DBParameterGroups": [{"DBParameterGroupName": "shop-postgres16", "ParameterApplyStatus": "in-sync"}],
        "DBSubnetGroup": {"DBSubnetGroupName": ENV},
        "VpcSecurityGroups": [{"VpcSecurityGroupId": g, "Status": "active"} for g in GROUPS],
        "DeletionProtection": True,
        "PubliclyAccessible": False,
        "CopyTagsToSnapshot": True,
        "MasterUserSecret": {"SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1"},
        "PendingModifiedValues": {},
        "TagList": tags("database"),
    }
    found.update(more)
    return dict((k, v) for k, v in found.items() if v is not None)


def stub_reads(stub, db=None, parameters=None, family="postgres16", more_groups=()):
    """The reads of one run, in the engine's order: subnet group, parameter groups, instance."""
    stub.add_response(
        "describe_db_subnet_groups",
        {
            "DBSubnetGroups": [
                {
                    "DBSubnetGroupName": ENV,
                    "DBSubnetGroupDescription": "webstack shop: database subnets",
                    "DBSubnetGroupArn": "arn:aws:rds:us-east-1:123456789012:subgrp:shop",
                    "Subnets": [{"SubnetIdentifier": s} for s in SUBNETS],
                }
            ]
        },
        {"DBSubnetGroupName": ENV},
    )
    stub.add_response(
        "list_tags_for_resource",
        {"TagList": tags("subnet_group")},
        {"ResourceName": "arn:aws:rds:us-east-1:123456789012:subgrp:shop"},
    )
    groups = [family] + list(more_groups)
    stub.add_response(
        "describe_db_parameter_groups",
        {
            "DBParameterGroups": [
                {
                    "DBParameterGroupName": "%s-%s" % (ENV, g),
                    "DBParameterGroupFamily": g,
                    "Description": "x",
                    "DBParameterGroupArn": "arn:aws:rds:us-east-1:123456789012:pg:%s-%s" % (ENV, g),
                }
                for g in groups
            ]
            + [{"DBParameterGroupName": "shop-prod-postgres16", "DBParameterGroupArn": "arn:other"}]
        },
        {},
    )
    for g in groups:
        stub.add_response(
            "list_tags_for_resource",
            {"TagList": tags(g)},
            {"ResourceName": "arn:aws:rds:us-east-1:123456789012:pg:%s-%s" % (ENV, g)},
        )
        stub.add_response(
            "describe_db_parameters",
            {"Parameters": list(parameters or [])},
            {"DBParameterGroupName": "%s-%s" % (ENV, g), "Source": "user"},
        )
    stub.add_response(
        "describe_db_instances",
        {"DBInstances": [db] if db else []},
        {"Filters": [{"Name": "db-instance-id", "Values": [ENV]}]},
    )


def run(layer, args, rds_client, check_mode=False):
    """What run_layer does, without Ansible: validate, read, plan, apply."""
    layer.validate(args, check_mode)
    ctx = Context(ENV, layer.layer, clients={"rds": rds_client}, check_mode=check_mode, sleep=lambda s: None)
    engine = Engine(ctx, layer.kinds())
    current = engine.read()
    desired = layer.desired(ctx, args, current) if args["state"] == "present" else {}
    plan = engine.plan(desired)
    if plan.changed and not check_mode:
        engine.apply(plan, desired)
    return ctx, plan


# -- pure helpers ----------------------------------------------------------------------------------------------


def test_pending_values_are_laid_over_the_current_ones():
    db = instance(
        PendingModifiedValues={
            "DBInstanceClass": "db.t4g.medium",
            "MultiAZ": True,
            "AllocatedStorage": 50,
            "Port": 5433,
        }
    )
    fields = rds.instance_fields(db)
    assert fields["instance_class"] == "db.t4g.medium" and fields["multi_az"] is True
    assert fields["allocated_storage"] == 50 and fields["port"] == 5433
    assert rds.instance_fields(instance())["instance_class"] == "db.t4g.micro"
    # a group being removed is already gone
    db = instance(
        VpcSecurityGroups=[{"VpcSecurityGroupId": "sg-old", "Status": "removing"}] + instance()["VpcSecurityGroups"]
    )
    assert rds.instance_fields(db)["security_groups"] == GROUPS


def test_equal_normalises_what_aws_normalises():
    eq = rds.instance_equal
    assert eq("engine_version", "16.6", "16.4")  # a minor upgrade RDS applied by itself
    assert not eq("engine_version", "16.4", "16.6")
    assert not eq("engine_version", "16.4", "17.2")
    assert eq("allocated_storage", 64, 20)  # grown by storage autoscaling; never shrunk
    assert not eq("allocated_storage", 20, 30)
    assert eq("kms_key_id", "arn:aws:kms:us-east-1:123456789012:key/k-1", "k-1")
    assert eq("kms_key_id", "arn:aws:kms:us-east-1:123456789012:key/k-1", None)
    assert eq("maintenance_window", "sun:04:00-sun:04:30", "Sun:04:00-Sun:04:30")
    assert eq("security_groups", ["sg-2", "sg-1"], ["sg-1", "sg-2"])
    assert eq("backup_window", "03:00-03:30", None) and eq("iops", 3000, None)
    assert not eq("master_password", None, rds.SECRET)


def test_parameter_changes_and_batches():
    to_set, to_reset = rds.parameter_changes(
        {"work_mem": "4096", "log_connections": "1", "gone": "x"},
        {"work_mem": 8192, "log_connections": True, "new": "on"},
    )
    assert to_set == {"new": "on", "work_mem": "8192"} and to_reset == ["gone"]
    assert rds.parameter_changes({"a": "1"}, {"a": 1}) == ({}, [])
    assert [len(b) for b in rds.batches(list(range(45)))] == [20, 20, 5]
    assert rds.apply_method("dynamic") == "immediate" and rds.apply_method("static") == "pending-reboot"
    assert rds.apply_method(None) == "pending-reboot"
    assert rds.family("16.4") == "postgres16" and rds.family("9.6.24") == "postgres9.6"
    assert rds.final_snapshot_name(ENV, WHEN) == "shop-final-20260304050607"


def test_modify_params_turn_autoscaling_off_and_move_major_versions():
    kind = rds.DBInstance(apply_immediately=False)
    current = rds.Current("database", ENV, rds.instance_fields(instance(MaxAllocatedStorage=100)))
    fields = dict(current.fields, max_allocated_storage=None, engine_version="17.2", parameter_group="shop-postgres17")
    sent = kind.modify_params(current, fields, ["max_allocated_storage", "engine_version", "parameter_group"])
    assert sent == {
        "DBInstanceIdentifier": ENV,
        "ApplyImmediately": False,
        "MaxAllocatedStorage": 20,
        "EngineVersion": "17.2",
        "AllowMajorVersionUpgrade": True,
        "DBParameterGroupName": "shop-postgres17",
    }


# -- with the Stubber ------------------------------------------------------------------------------------------


def test_pending_change_is_not_sent_again_stubber():
    """apply_immediately=false: RDS keeps the change in PendingModifiedValues; the next run is a no-op."""
    db = instance(PendingModifiedValues={"DBInstanceClass": "db.t4g.medium"})
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, db)
        ctx, plan = run(DatabaseLayer(), params(instance_class="db.t4g.medium"), rds_client)
        stub.assert_no_pending_responses()
    assert plan.changes == [] and ctx.applied == []


def test_pending_change_is_sent_once_stubber():
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance())
        stub.add_response(
            "modify_db_instance",
            {"DBInstance": instance(PendingModifiedValues={"DBInstanceClass": "db.t4g.medium"})},
            {"DBInstanceIdentifier": ENV, "ApplyImmediately": False, "DBInstanceClass": "db.t4g.medium"},
        )
        layer = DatabaseLayer()
        ctx, plan = run(layer, params(instance_class="db.t4g.medium"), rds_client)
        stub.assert_no_pending_responses()
    assert [c.summary() for c in plan.changes] == ["update db_instance database (instance_class)"]
    out = layer.outputs(ctx, params(), {"db_instance": {"database": ENV}}, {})
    assert out["pending_modifications"] == {"DBInstanceClass": "db.t4g.medium"}


def test_parameters_removed_are_reset_in_batches_stubber():
    """moto has no ResetDBParameterGroup: 25 parameters removed -> two resets with their apply methods."""
    have = [
        {"ParameterName": "p%02d" % i, "ParameterValue": "1", "ApplyType": "dynamic" if i % 2 else "static"}
        for i in range(25)
    ] + [{"ParameterName": "work_mem", "ParameterValue": "4096", "ApplyType": "dynamic"}]
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance(), parameters=have)
        stub.add_response(
            "describe_db_parameters",  # a parameter set for the first time: its apply type is looked up
            {"Parameters": [{"ParameterName": "shared_buffers", "ApplyType": "static"}]},
            {"DBParameterGroupName": "shop-postgres16"},
        )
        stub.add_response(
            "modify_db_parameter_group",
            {"DBParameterGroupName": "shop-postgres16"},
            {
                "DBParameterGroupName": "shop-postgres16",
                "Parameters": [
                    {"ParameterName": "shared_buffers", "ParameterValue": "1024", "ApplyMethod": "pending-reboot"},
                    {"ParameterName": "work_mem", "ParameterValue": "8192", "ApplyMethod": "immediate"},
                ],
            },
        )
        for batch in (range(20), range(20, 25)):
            stub.add_response(
                "reset_db_parameter_group",
                {"DBParameterGroupName": "shop-postgres16"},
                {
                    "DBParameterGroupName": "shop-postgres16",
                    "ResetAllParameters": False,
                    "Parameters": [
                        {"ParameterName": "p%02d" % i, "ApplyMethod": "immediate" if i % 2 else "pending-reboot"}
                        for i in batch
                    ],
                },
            )
        ctx, plan = run(DatabaseLayer(), params(parameters={"work_mem": 8192, "shared_buffers": "1024"}), rds_client)
        stub.assert_no_pending_responses()
    assert ctx.applied == ["update parameter_group postgres16 (parameters)"]


def test_wait_polls_until_available_stubber():
    """A new instance is creating, then backing-up, then available: the wait really polls DBInstanceStatus."""
    rds_client = client()
    created = instance(DBInstanceStatus="creating", Endpoint=None)
    with Stubber(rds_client) as stub:
        stub_reads(stub, None, family="postgres16")
        stub.add_response("create_db_instance", {"DBInstance": created})
        describe = {"Filters": [{"Name": "db-instance-id", "Values": [ENV]}]}
        for status in ("creating", "creating", "backing-up"):
            stub.add_response(
                "describe_db_instances", {"DBInstances": [dict(created, DBInstanceStatus=status)]}, describe
            )
        stub.add_response("describe_db_instances", {"DBInstances": [instance()]}, describe)
        layer = DatabaseLayer()
        layer.validate(params(), False)
        ctx = Context(ENV, "database", clients={"rds": rds_client}, sleep=lambda s: None)
        engine = Engine(ctx, layer.kinds())
        engine.read()
        desired = layer.desired(ctx, params(), engine.current)
        # only the instance is missing here: the groups exist
        plan = engine.plan(desired)
        assert [c.summary() for c in plan.changes] == ["create db_instance database"]
        ids = engine.apply(plan, desired)
        stub.assert_no_pending_responses()
    out = layer.outputs(ctx, params(), ids, engine.current)
    assert out["status"] == "available" and out["endpoint"] == "shop.abc.us-east-1.rds.amazonaws.com"
    assert out["secret_arn"].startswith("arn:aws:secretsmanager:")


def test_wait_fails_fast_on_a_failed_create_stubber():
    rds_client = client()
    kind = rds.DBInstance()
    ctx = Context(ENV, "database", clients={"rds": rds_client}, sleep=lambda s: None)
    with Stubber(rds_client) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": [instance(DBInstanceStatus="incompatible-network")]})
        with pytest.raises(EngineError, match="incompatible-network"):
            kind.wait_created(ctx, [ENV])


def test_protected_instance_is_not_deleted_stubber():
    """state=absent with deletion protection on: refused while planning, after the reads only."""
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance())
        with pytest.raises(EngineError, match=r"deletion_protection=false \(state present\), then state=absent"):
            run(DatabaseLayer(), params(state="absent"), rds_client, check_mode=True)
        stub.assert_no_pending_responses()


def test_delete_takes_a_final_snapshot_and_waits_stubber():
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance(DeletionProtection=False))
        stub.add_response(
            "delete_db_instance",
            {"DBInstance": instance(DBInstanceStatus="deleting")},
            {
                "DBInstanceIdentifier": ENV,
                "DeleteAutomatedBackups": False,
                "FinalDBSnapshotIdentifier": "shop-final-20260304050607",
            },
        )
        describe = {"Filters": [{"Name": "db-instance-id", "Values": [ENV]}]}
        stub.add_response("describe_db_instances", {"DBInstances": [instance(DBInstanceStatus="deleting")]}, describe)
        stub.add_response("describe_db_instances", {"DBInstances": []}, describe)
        stub.add_response("delete_db_subnet_group", {}, {"DBSubnetGroupName": ENV})
        stub.add_response("delete_db_parameter_group", {}, {"DBParameterGroupName": "shop-postgres16"})
        layer = DatabaseLayer(now=WHEN)
        ctx, plan = run(layer, params(state="absent"), rds_client)
        stub.assert_no_pending_responses()
    assert ctx.state(RdsState).final_snapshot == "shop-final-20260304050607"
    assert layer.absent_outputs(ctx, params(state="absent")) == {"final_snapshot": "shop-final-20260304050607"}
    assert ctx.applied == [
        "delete db_instance database",
        "delete parameter_group postgres16",
        "delete subnet_group subnet_group",
    ]


def test_delete_without_final_snapshot_stubber():
    rds_client = client()
    kind = rds.DBInstance(final_snapshot=False)
    ctx = Context(ENV, "database", clients={"rds": rds_client})
    current = rds.Current("database", ENV, {}, raw=instance())
    with Stubber(rds_client) as stub:
        stub.add_response(
            "delete_db_instance",
            {"DBInstance": instance(DBInstanceStatus="deleting")},
            {"DBInstanceIdentifier": ENV, "DeleteAutomatedBackups": False, "SkipFinalSnapshot": True},
        )
        kind.delete(ctx, current)
        stub.assert_no_pending_responses()
    assert ctx.state(RdsState).final_snapshot is None


def test_major_upgrade_moves_to_the_new_group_then_retires_the_old_stubber():
    rds_client = client()
    upgraded = copy.deepcopy(instance(EngineVersion="17.2"))
    upgraded["DBParameterGroups"] = [{"DBParameterGroupName": "shop-postgres17", "ParameterApplyStatus": "applying"}]
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance(), parameters=[{"ParameterName": "work_mem", "ParameterValue": "8192"}])
        stub.add_response(
            "create_db_parameter_group",
            {"DBParameterGroup": {"DBParameterGroupName": "shop-postgres17", "DBParameterGroupFamily": "postgres17"}},
            {
                "DBParameterGroupName": "shop-postgres17",
                "DBParameterGroupFamily": "postgres17",
                "Description": "webstack shop: PostgreSQL parameters (postgres17)",
                "Tags": sorted(tags("postgres17"), key=lambda t: t["Key"]),
            },
        )
        stub.add_response("describe_db_parameters", {"Parameters": []}, {"DBParameterGroupName": "shop-postgres17"})
        stub.add_response(
            "modify_db_parameter_group",
            {"DBParameterGroupName": "shop-postgres17"},
            {
                "DBParameterGroupName": "shop-postgres17",
                "Parameters": [
                    {"ParameterName": "work_mem", "ParameterValue": "8192", "ApplyMethod": "pending-reboot"}
                ],
            },
        )
        stub.add_response(
            "modify_db_instance",
            {"DBInstance": upgraded},
            {
                "DBInstanceIdentifier": ENV,
                "ApplyImmediately": True,
                "EngineVersion": "17.2",
                "DBParameterGroupName": "shop-postgres17",
                "AllowMajorVersionUpgrade": True,
            },
        )
        stub.add_response("delete_db_parameter_group", {}, {"DBParameterGroupName": "shop-postgres16"})
        args = params(
            engine_version="17.2",
            allow_major_version_upgrade=True,
            apply_immediately=True,
            parameters={"work_mem": "8192"},
        )
        ctx, plan = run(DatabaseLayer(), args, rds_client)
        stub.assert_no_pending_responses()
    assert [c.summary() for c in plan.changes] == [
        "delete parameter_group postgres16",
        "create parameter_group postgres17",
        "update db_instance database (engine_version, parameter_group)",
    ]


def test_password_is_only_a_placeholder_in_the_plan_stubber():
    rds_client = client()
    secret = "Correct-Horse-9"  # noqa: S105 - a test value that must not reach the plan
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance(MasterUserSecret=None))
        args = params(master_password=secret, update_password="always")  # noqa: S106 - an option
        ctx, plan = run(DatabaseLayer(), args, rds_client, check_mode=True)
    assert plan.to_list()[0]["fields"] == {"master_password": {"before": None, "after": "(secret, not shown)"}}
    assert secret not in repr(plan.to_list()) and secret not in repr(plan.diff())
