"""webstack.aws.cache through ansible-playbook on the emulator: create, update, delete, waits, bad input, secrets.

What moto 5.2.5 cannot do is tested with botocore's Stubber in
tests/unit/plugins/module_utils/_kinds/test_elasticache.py: it has no IncreaseReplicaCount / DecreaseReplicaCount
or ModifyCacheSubnetGroup (HTTP 500), its ModifyReplicationGroup ignores engine version, windows, security groups,
transit encryption and the AUTH token, and it keeps no cache clusters for a group's members (so the fields read
from the primary cluster are not compared here).  Deletes (the final snapshot, DeleteCacheSubnetGroup, a group
that is gone once deleted) are filled in by tools/awsemu.patch_moto the way ElastiCache answers.
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest
import yaml
from common import run_playbook
from helpers import failing_case, network_with_groups, quartet, remove_network_with_groups, run_task

ENV = "cct"
TOKEN = "Sup3r-secret-t0ken-for-cct"  # noqa: S105 - a test token, checked to never show
ROTATED = "An0ther-secret-t0ken-cct!"  # noqa: S105 - likewise


@pytest.fixture(scope="module")
def prereq(emulator):
    made = network_with_groups(emulator, ENV, "10.62.0.0/16", ["load_balancer", "instance", "cache"])
    group_ids = made["security_groups"]["group_ids"]
    yield {
        "vpc_id": made["network"]["vpc_id"],
        "subnets": made["network"]["subnet_ids"]["database"],
        "security_groups": [group_ids["cache"]],
        "instance_group": group_ids["instance"],
    }
    remove_network_with_groups(emulator, ENV)


def base(prereq, **more):
    args = {"environment": ENV, "subnets": prereq["subnets"], "security_groups": prereq["security_groups"]}
    args.update(more)
    return args


def tags_of(aws, arn):
    return dict((t["Key"], t["Value"]) for t in aws.elasticache.list_tags_for_resource(ResourceName=arn)["TagList"])


def count(run, action):
    return run.calls["by_action"].get("elasticache:%s" % action, 0)


def group_of(aws, group_id=ENV):
    return aws.elasticache.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]


def test_create_update_and_delete(emulator, aws, prereq):
    # -- create: one replica, failover and Multi-AZ on, both encryptions, an AUTH token, tags ---------------
    args = base(prereq, auth_token=TOKEN, tags={"team": "cache"}, maintenance_window="sun:05:00-sun:06:00")
    runs = quartet(emulator, "cache", args)
    assert runs.first_check.actions() == [
        ("create", "cache_subnet_group", "subnet_group"),
        ("create", "replication_group", "cache"),
    ]
    planned = runs.first_check.plan[1]["fields"]
    assert planned["auth_token"]["after"] == "(secret, not shown)"
    assert planned["subnet_group"]["after"] == "(known after apply: cache_subnet_group subnet_group)"
    assert (planned["automatic_failover"]["after"], planned["multi_az"]["after"]) == ("enabled", "enabled")
    assert runs.first_check.result["cache"]["id"] is None
    for run in (runs.first_check, runs.apply, runs.second_check, runs.again):
        assert TOKEN not in json.dumps(run.result)
    out = runs.apply.result["cache"]
    group = group_of(aws)
    assert out["id"] == ENV and out["arn"] == group["ARN"] and out["status"] == "available"
    assert out["primary_endpoint"] == group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    assert (out["port"], out["engine"], out["engine_version"], out["node_type"]) == (
        6379,
        "redis",
        "7.1",
        "cache.t4g.micro",
    )
    assert (out["replicas"], out["subnet_group"], out["pending_modifications"], out["final_snapshot"]) == (
        1,
        ENV,
        {},
        None,
    )
    assert len(group["MemberClusters"]) == 2 and group["ClusterEnabled"] is False
    assert (group["AutomaticFailover"], group["MultiAZ"]) == ("enabled", "enabled")
    assert group["AuthTokenEnabled"] and group["TransitEncryptionEnabled"] and group["AtRestEncryptionEnabled"]
    assert (group["SnapshotRetentionLimit"], group["CacheNodeType"], group["Engine"]) == (1, "cache.t4g.micro", "redis")
    tags = tags_of(aws, group["ARN"])
    assert tags["webstack:environment"] == ENV and tags["webstack:layer"] == "cache"
    assert tags["webstack:resource"] == "cache" and tags["Name"] == "cct-cache" and tags["team"] == "cache"
    (subnet_group,) = aws.elasticache.describe_cache_subnet_groups(CacheSubnetGroupName=ENV)["CacheSubnetGroups"]
    assert sorted(s["SubnetIdentifier"] for s in subnet_group["Subnets"]) == sorted(prereq["subnets"])
    assert subnet_group["VpcId"] == prereq["vpc_id"]
    assert tags_of(aws, subnet_group["ARN"])["webstack:resource"] == "subnet_group"
    # tagged at creation: no separate tagging call
    assert count(runs.apply, "AddTagsToResource") == 0
    # the whole read of a no-op run
    assert runs.again.calls["by_action"] == {
        "elasticache:DescribeCacheSubnetGroups": 1,
        "elasticache:DescribeReplicationGroups": 1,
        "elasticache:DescribeCacheClusters": 1,
        "elasticache:ListTagsForResource": 2,
    }
    assert runs.again.result["cache"] == out

    # -- update what moto can modify: node type, snapshot retention, tags ---------------------------------
    update = base(
        prereq, node_type="cache.t4g.small", snapshot_retention=5, apply_immediately=True, tags={"team": "platform"}
    )
    runs = quartet(emulator, "cache", update)
    assert runs.first_check.actions() == [
        ("update", "cache_subnet_group", "subnet_group"),
        ("update", "replication_group", "cache"),
    ]
    fields = runs.first_check.plan[1]["fields"]
    assert sorted(fields) == ["node_type", "snapshot_retention", "tags"]
    assert fields["node_type"] == {"before": "cache.t4g.micro", "after": "cache.t4g.small"}
    assert count(runs.apply, "ModifyReplicationGroup") == 1
    assert count(runs.apply, "RemoveTagsFromResource") == 0  # tags given: 'team' changed, nothing purged
    group = group_of(aws)
    assert (group["CacheNodeType"], group["SnapshotRetentionLimit"]) == ("cache.t4g.small", 5)
    assert tags_of(aws, group["ARN"])["team"] == "platform"
    assert runs.apply.result["cache"]["node_type"] == "cache.t4g.small"
    # the token left out now: the group keeps it, nothing planned for it
    assert "auth_token" not in fields

    # -- what moto cannot apply, planned exactly in check mode ---------------------------------------------
    more = run_task(emulator, "cache", dict(update, replicas=2), check=True, diff=True)
    assert more.actions() == [("update", "replication_group", "cache")]
    assert more.plan[0]["fields"] == {"replicas": {"before": 1, "after": 2}}
    none = run_task(emulator, "cache", dict(update, replicas=0), check=True)
    assert none.plan[0]["fields"] == {
        "automatic_failover": {"before": "enabled", "after": "disabled"},
        "multi_az": {"before": "enabled", "after": "disabled"},
        "replicas": {"before": 1, "after": 0},
    }
    assert more.calls["mutating"] == 0 and none.calls["mutating"] == 0

    # -- a create-only change is refused without allow_replacement, before anything is touched -------------
    refused = run_task(emulator, "cache", dict(update, port=6380), expect_failure=True)
    assert "allow_replacement=true" in refused.result["msg"] and "port 6379 -> 6380" in refused.result["msg"]
    assert refused.calls["mutating"] == 0

    # -- the AUTH token rotated on every run with update_auth_token=always, never shown even at -vvv ---------
    rotate = dict(update, auth_token=ROTATED, update_auth_token="always")  # noqa: S106 - a choice
    stdout, stderr, result = verbose_run(emulator, rotate)
    assert ROTATED not in stdout and ROTATED not in stderr
    assert result["changed"] is True
    assert result["plan"][0]["fields"] == {
        "auth_token": {"before": "(secret, not shown)", "after": "(secret, not shown: rotated on every run)"}
    }
    assert ("elasticache", "ModifyReplicationGroup") in [(c["service"], c["action"]) for c in emulator.calls()]

    # -- delete: planned, then the group is deleted with a final snapshot, then its subnet group ---------------
    runs = quartet(emulator, "cache", {"environment": ENV, "state": "absent"})
    assert runs.first_check.actions() == [
        ("delete", "replication_group", "cache"),
        ("delete", "cache_subnet_group", "subnet_group"),
    ]
    assert count(runs.apply, "DeleteReplicationGroup") == 1 and count(runs.apply, "DeleteCacheSubnetGroup") == 1
    snapshots = [s["SnapshotName"] for s in aws.elasticache.describe_snapshots()["Snapshots"]]
    finals = [name for name in snapshots if name.startswith(ENV + "-final-")]
    assert len(finals) == 1 and finals[0][len(ENV + "-final-") :].isdigit(), snapshots
    assert runs.apply.result["cache"] == {"final_snapshot": finals[0]}
    assert runs.again.result["cache"] == {"final_snapshot": None}
    assert ENV not in [
        g["ReplicationGroupId"] for g in aws.elasticache.describe_replication_groups()["ReplicationGroups"]
    ]


def verbose_run(emulator, args):
    """One task at -vvv with the default callback (what a user would paste into a ticket)."""
    play = [
        {
            "name": "verbose",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "cache", "webstack.aws.cache": args, "register": "out"},
                {"name": "result", "ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": "{{ dest }}"}},
            ],
        }
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "play.yml")
        dest = os.path.join(tmp, "out.json")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(play, handle)
        emulator.reset_calls()
        run = run_playbook(path, emulator.endpoint, "-vvv", "--diff", extra_vars={"dest": dest}, json_output=False)
        with open(dest, encoding="utf-8") as handle:
            result = json.load(handle)
    return run.stdout, run.stderr, result


def test_waits_for_the_group_to_become_available(emulator, aws, prereq):
    emulator.slow(elasticache=3)  # the emulator answers 'creating' for 3 s after the create
    try:
        args = base(prereq, environment="cct-slow", replicas=0, auth_token=None)
        made = run_task(emulator, "cache", args)
        assert made.result["cache"]["status"] == "available"
        assert count(made, "DescribeReplicationGroups") >= 3  # the read, 'creating' at least once, 'available'
        assert group_of(aws, "cct-slow")["AutomaticFailover"] == "disabled"
        quick = run_task(emulator, "cache", base(prereq, environment="cct-nowait", replicas=0, wait=False))
        # not waited for: the read was the only DescribeReplicationGroups, and the group is still 'creating'
        # (the status returned is the create's answer, which the emulator gives as 'available')
        assert count(quick, "DescribeReplicationGroups") == 1
        assert group_of(aws, "cct-nowait")["Status"] == "creating"
    finally:
        emulator.slow()
        for name in ("cct-slow", "cct-nowait"):
            run_task(emulator, "cache", {"environment": name, "state": "absent", "final_snapshot": False})


BAD_INPUTS = [
    ({"replicas": 6}, "replicas", "from 0 to 5"),
    ({"snapshot_retention": 36}, "snapshot_retention", "from 0 to 35"),
    ({"node_type": "t4g.micro"}, "node_type", "is not a cache node type"),
    ({"auth_token": TOKEN, "transit_encryption": False}, "auth_token", "needs transit_encryption=true"),
    ({"auth_token": "short-token"}, "auth_token", "16 to 128 characters"),
    ({"auth_token": "no@signs-allowed-in-here"}, "auth_token", "found '@'"),
    ({"engine_version": "7"}, "engine_version", "is not a version"),
    ({"engine": "valkey", "engine_version": "6.2"}, "engine_version", "not a valkey version"),
    ({"maintenance_window": "sun:05:00-sun:05:30"}, "maintenance_window", "60 minutes"),
    (
        {"snapshot_window": "05:00-06:00", "maintenance_window": "sun:05:30-sun:06:30"},
        "snapshot_window",
        "overlaps maintenance_window",
    ),
    ({"update_auth_token": "always"}, "update_auth_token", "give auth_token too"),
    ({"subnets": None}, "subnets", "is required when state=present"),
]


def bad_case(args, option, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "cct-bad", "subnets": ["subnet-1", "subnet-2"], "security_groups": ["sg-1"]}, **args)


@pytest.mark.parametrize("args,option,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, option, words):
    out = failing_case(emulator, "cache", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, option, words))
    assert out.result["option"] == option, out.result
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
    for secret in (TOKEN, "short-token", "no@signs-allowed-in-here"):
        assert secret not in json.dumps(out.result)


def test_check_mode_on_a_fresh_environment_plans_with_unknown_ids(emulator):
    args = {"environment": "cct-fresh", "subnets": None, "security_groups": None, "auth_token": TOKEN}
    out = run_task(emulator, "cache", args, check=True, diff=True)
    assert out.actions() == [("create", "cache_subnet_group", "subnet_group"), ("create", "replication_group", "cache")]
    assert out.plan[0]["fields"]["subnets"]["after"].startswith("(known after apply")
    assert out.plan[1]["fields"]["security_groups"]["after"].startswith("(known after apply")
    assert out.calls["mutating"] == 0 and TOKEN not in json.dumps(out.result)
