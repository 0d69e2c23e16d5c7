"""The database layer (``_layers/database.py``): validation, maintenance windows, and the major-upgrade option
checked against a Stubber read (no AWS)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Engine
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, ValidationErrors
from ansible_collections.webstack.aws.plugins.module_utils._layers.database import (
    DatabaseLayer,
    argument_spec,
    backup_interval,
    maintenance_interval,
    validate,
    windows_overlap,
)

ENV = "shop"
ARN = "arn:aws:rds:us-east-1:123456789012:db:shop"
SUBNETS = ["subnet-0a", "subnet-0b"]
GROUPS = ["sg-0123"]


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


# -- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "more, option",
    [
        ({"allocated_storage": 10}, "allocated_storage"),
        ({"allocated_storage": 70000}, "allocated_storage"),
        ({"storage_type": "io2", "allocated_storage": 50, "iops": 3000}, "allocated_storage"),
        ({"storage_type": "io2", "allocated_storage": 100}, "iops"),
        ({"iops": 12000}, "iops"),
        ({"storage_throughput": 500}, "storage_throughput"),
        ({"storage_type": "gp2", "storage_throughput": 500}, "storage_throughput"),
        ({"max_allocated_storage": 20}, "max_allocated_storage"),
        ({"max_allocated_storage": 10}, "max_allocated_storage"),
        ({"instance_class": "t3.micro"}, "instance_class"),
        ({"instance_class": "db.t3"}, "instance_class"),
        ({"instance_class": "db..micro"}, "instance_class"),
        ({"backup_retention": 36}, "backup_retention"),
        ({"backup_retention": -1}, "backup_retention"),
        ({"backup_window": "3:00-03:30"}, "backup_window"),
        ({"backup_window": "03:00-03:20"}, "backup_window"),
        ({"maintenance_window": "sunday:04:00-sun:04:30"}, "maintenance_window"),
        ({"maintenance_window": "sun:04:00-sun:04:10"}, "maintenance_window"),
        ({"backup_window": "04:10-04:40", "maintenance_window": "sun:04:00-sun:04:30"}, "maintenance_window"),
        ({"master_password": "short"}, "master_password"),
        ({"master_password": "x" * 129}, "master_password"),
        ({"master_password": "has/slash1"}, "master_password"),
        ({"master_password": 'has"quote1'}, "master_password"),
        ({"master_password": "has@at1234"}, "master_password"),
        ({"master_password": "has space1"}, "master_password"),
        ({"engine_version": "sixteen"}, "engine_version"),
        ({"port": 80}, "port"),
        ({"master_username": "rdsadmin"}, "master_username"),
        ({"database_name": "1db"}, "database_name"),
        ({"kms_key_id": "k-1", "storage_encrypted": False}, "kms_key_id"),
        ({"kms_key_id": "alias/aws/rds"}, "kms_key_id"),
        ({"subnets": ["subnet-0a"]}, "subnets"),
        ({"subnets": None}, "subnets"),
        ({"security_groups": []}, "security_groups"),
        ({"parameters": {"bad name": 1}}, "parameters"),
    ],
)
def test_bad_inputs_name_the_option(more, option):
    with pytest.raises(ValidationError) as err:
        validate(params(**more))
    assert err.value.option == option


def test_good_inputs_pass_and_check_mode_allows_missing_ids():
    validate(params())
    validate(params(instance_class="db.r6gd.16xlarge", storage_type="io2", allocated_storage=100, iops=3000))
    validate(params(allocated_storage=400, iops=12000, storage_throughput=500, max_allocated_storage=1000))
    secret = "Correct-Horse-9"  # noqa: S105 - a test value
    validate(params(master_password=secret, backup_window="23:45-00:15", maintenance_window="mon:01:00-mon:01:30"))
    validate(params(kms_key_id="arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-0123456789ab"))
    validate(params(kms_key_id="mrk-0123456789abcdef0123456789abcdef"))
    validate(params(subnets=None, security_groups=[]), check_mode=True)
    validate(params(state="absent", subnets=None, security_groups=None))


def test_windows_wrap_midnight_and_the_week():
    assert backup_interval("23:45-00:15") == (23 * 60 + 45, 24 * 60 + 15)
    assert maintenance_interval("sun:23:30-mon:00:30") == (6 * 1440 + 23 * 60 + 30, 7 * 1440 + 30)
    # a daily backup window crossing midnight meets a Monday-morning maintenance window
    assert windows_overlap(backup_interval("23:45-00:15"), maintenance_interval("mon:00:00-mon:00:30"))
    assert windows_overlap(backup_interval("00:00-00:30"), maintenance_interval("sun:23:50-mon:00:20"))
    assert not windows_overlap(backup_interval("03:00-03:30"), maintenance_interval("sun:04:00-sun:04:30"))
    assert not windows_overlap(backup_interval("03:00-03:30"), maintenance_interval("sun:03:30-sun:04:00"))


def test_major_upgrade_needs_the_option_stubber():
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance())
        with pytest.raises(ValidationError) as err:
            run(DatabaseLayer(), params(engine_version="17.2"), rds_client, check_mode=True)
    assert err.value.option == "allow_major_version_upgrade"
    rds_client = client()
    with Stubber(rds_client) as stub:
        stub_reads(stub, instance())
        with pytest.raises(ValidationError) as err:
            run(DatabaseLayer(), params(engine_version="15.8"), rds_client, check_mode=True)
    assert err.value.option == "engine_version"


def test_a_bad_port_and_a_bad_window_are_reported_together():
    with pytest.raises(ValidationErrors) as caught:
        validate(params(port=80, backup_window="3am"))
    assert [e.option for e in caught.value.errors] == ["port", "backup_window"]
    assert "RDS PostgreSQL listens on a port from 1150 to 65535" in str(caught.value)
    assert "is not hh24:mi-hh24:mi in UTC" in str(caught.value)
