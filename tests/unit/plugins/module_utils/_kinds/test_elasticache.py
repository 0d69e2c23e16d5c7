"""ElastiCache kinds (``_kinds/elasticache.py``): the paths the emulator cannot produce, against the real
ElastiCache model with botocore's Stubber (moto 5.2.5 has no IncreaseReplicaCount / DecreaseReplicaCount /
ModifyCacheSubnetGroup / DeleteCacheSubnetGroup, keeps no primary cluster to read, never holds a change for the
maintenance window and never finishes a deletion), driven through the real engine: read -> plan -> apply."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Engine, EngineError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elasticache import NOT_READ
from ansible_collections.webstack.aws.plugins.module_utils._layers.cache import CacheLayer

ENV = "cct"
GROUP_ARN = "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:cct"
SUBNET_ARN = "arn:aws:elasticache:us-east-1:123456789012:subnetgroup:cct"
SUBNETS = ["subnet-0aaa", "subnet-0bbb"]
SG = "sg-0123456789abcdef0"
TOKEN = "Sup3r-secret-t0ken-unit"  # noqa: S105 - a test token, checked to never show


def client():
    session = botocore.session.get_session()
    return session.create_client(
        "elasticache",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy key; the Stubber answers every call
    )


def tags(key):
    return [
        {"Key": "Name", "Value": "cct-%s" % key.replace("_", "-")},
        {"Key": "webstack:environment", "Value": ENV},
        {"Key": "webstack:layer", "Value": "cache"},
        {"Key": "webstack:resource", "Value": key},
    ]


def subnet_group(subnets=None):
    subnets = SUBNETS if subnets is None else subnets
    return {
        "CacheSubnetGroupName": ENV,
        "CacheSubnetGroupDescription": "webstack environment cct: cache subnets",
        "VpcId": "vpc-1",
        "Subnets": [{"SubnetIdentifier": s} for s in subnets],
        "ARN": SUBNET_ARN,
    }


def group(replicas=1, status="available", node_type="cache.t4g.micro", pending=None, auth=True, failover=None):
    failover = failover or ("enabled" if replicas else "disabled")
    members = ["cct-%03d" % (i + 1) for i in range(replicas + 1)]
    found = {
        "ReplicationGroupId": ENV,
        "Description": "webstack environment cct: cache",
        "Status": status,
        "PendingModifiedValues": pending or {},
        "MemberClusters": members,
        "NodeGroups": [
            {
                "NodeGroupId": "0001",
                "Status": status,
                "PrimaryEndpoint": {"Address": "master.cct.x.use1.cache.amazonaws.com", "Port": 6379},
                "ReaderEndpoint": {"Address": "replica.cct.x.use1.cache.amazonaws.com", "Port": 6379},
                "NodeGroupMembers": [
                    {"CacheClusterId": m, "CacheNodeId": "0001", "CurrentRole": "primary" if i == 0 else "replica"}
                    for i, m in enumerate(members)
                ],
            }
        ],
        "AutomaticFailover": failover,
        "MultiAZ": failover,
        "SnapshotRetentionLimit": 1,
        "SnapshotWindow": "03:00-04:00",
        "ClusterEnabled": False,
        "CacheNodeType": node_type,
        "AuthTokenEnabled": auth,
        "TransitEncryptionEnabled": True,
        "AtRestEncryptionEnabled": True,
        "ARN": GROUP_ARN,
        "Engine": "redis",
    }
    return found


def cluster(pending=None, version="7.1.0", groups=(SG,), window="sun:05:00-sun:06:00"):
    return {
        "CacheClusterId": "cct-001",
        "CacheNodeType": "cache.t4g.micro",
        "Engine": "redis",
        "EngineVersion": version,
        "CacheClusterStatus": "available",
        "PendingModifiedValues": pending or {},
        "PreferredMaintenanceWindow": window,
        "CacheSubnetGroupName": ENV,
        "SecurityGroups": [{"SecurityGroupId": g, "Status": "active"} for g in groups],
        "ReplicationGroupId": ENV,
    }


def params(**more):
    found = {
        "environment": ENV,
        "state": "present",
        "subnets": SUBNETS,
        "security_groups": [SG],
        "engine": "redis",
        "engine_version": None,
        "node_type": "cache.t4g.micro",
        "replicas": 1,
        "port": 6379,
        "at_rest_encryption": True,
        "transit_encryption": True,
        "auth_token": None,
        "update_auth_token": "on_create",
        "snapshot_retention": 1,
        "snapshot_window": None,
        "maintenance_window": None,
        "apply_immediately": False,
        "final_snapshot": True,
        "allow_replacement": False,
    }
    found.update(more)
    return found


def stub_read(stub, replication_group=None, primary=None, subnets=None):
    stub.add_response(
        "describe_cache_subnet_groups", {"CacheSubnetGroups": [subnet_group(subnets)]}, {"CacheSubnetGroupName": ENV}
    )
    stub.add_response("list_tags_for_resource", {"TagList": tags("subnet_group")}, {"ResourceName": SUBNET_ARN})
    if replication_group is None:
        stub.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", http_status_code=404)
        return
    stub.add_response(
        "describe_replication_groups", {"ReplicationGroups": [replication_group]}, {"ReplicationGroupId": ENV}
    )
    stub.add_response("list_tags_for_resource", {"TagList": tags("cache")}, {"ResourceName": GROUP_ARN})
    stub.add_response(
        "describe_cache_clusters", {"CacheClusters": [primary or cluster()]}, {"CacheClusterId": "cct-001"}
    )


def converge(values, stub_client):
    """One module run without Ansible: validate, read, plan, apply; returns (plan, outputs, ctx)."""
    ctx = Context(ENV, "cache", clients={"elasticache": stub_client}, sleep=lambda s: None, wait_timeout=60)
    layer = CacheLayer()
    layer.validate(values, False)
    engine = Engine(ctx, layer.kinds())
    current = engine.read()
    desired = layer.desired(ctx, values, current) if values["state"] == "present" else {}
    plan = engine.plan(desired)
    ids = engine.apply(plan, desired) if plan.changed else None
    if ids is None:
        ids = dict((name, dict((k, c.id) for k, c in found.items())) for name, found in current.items())
    outputs = layer.outputs(ctx, values, ids, current) if values["state"] == "present" else {}
    return plan, outputs, ctx


def test_stubber_node_type_change_waits_for_the_window_and_the_pending_change_is_a_no_op():
    ec = client()
    want = params(node_type="cache.t4g.small")
    with Stubber(ec) as stub:
        stub_read(stub, group())
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group()},
            {"ReplicationGroupId": ENV, "ApplyImmediately": False, "CacheNodeType": "cache.t4g.small"},
        )
        plan, _out, ctx = converge(want, ec)
        stub.assert_no_pending_responses()
    assert [c.summary() for c in plan.changes] == ["update replication_group cache (node_type)"]
    assert ctx.applied == ["update replication_group cache (node_type)"]
    # the next run: AWS holds the new node type in the primary cluster's PendingModifiedValues
    with Stubber(ec) as stub:
        stub_read(stub, group(), cluster(pending={"CacheNodeType": "cache.t4g.small"}))
        plan, out, ctx = converge(want, ec)
        stub.assert_no_pending_responses()
    assert plan.changes == [] and ctx.applied == []
    assert out["pending_modifications"] == {"node_type": "cache.t4g.small"}
    assert out["node_type"] == "cache.t4g.small"


def test_stubber_pending_failover_and_transit_are_overlaid():
    ec = client()
    pending = {
        "AutomaticFailoverStatus": "enabled",
        "TransitEncryptionEnabled": True,
        "TransitEncryptionMode": "required",
    }
    current = group(replicas=1, failover="disabled", pending=pending)
    current["TransitEncryptionEnabled"], current["TransitEncryptionMode"] = True, "preferred"
    current["MultiAZ"] = "enabled"
    with Stubber(ec) as stub:
        stub_read(stub, current, cluster(pending={"EngineVersion": "7.1.0"}, version="6.2.6"))
        plan, out, _ctx = converge(params(), ec)
        stub.assert_no_pending_responses()
    assert plan.changes == []
    assert out["pending_modifications"] == {
        "engine_version": "7.1.0",
        "automatic_failover": "enabled",
        "transit_encryption": "required",
    }


def test_stubber_replicas_increase_from_zero_then_failover_on():
    ec = client()
    with Stubber(ec) as stub:
        stub_read(stub, group(replicas=0))
        stub.add_response(
            "increase_replica_count",
            {"ReplicationGroup": group(replicas=0, status="modifying")},
            {"ReplicationGroupId": ENV, "NewReplicaCount": 2, "ApplyImmediately": True},
        )
        for status in ("modifying", "available"):  # AWS refuses another change while the group is modifying
            stub.add_response(
                "describe_replication_groups",
                {"ReplicationGroups": [group(replicas=2, status=status, failover="disabled")]},
                {"ReplicationGroupId": ENV},
            )
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group(replicas=2)},
            {
                "ReplicationGroupId": ENV,
                "ApplyImmediately": False,
                "AutomaticFailoverEnabled": True,
                "MultiAZEnabled": True,
            },
        )
        plan, out, _ctx = converge(params(replicas=2), ec)
        stub.assert_no_pending_responses()
    assert plan.changes[0].fields == {
        "automatic_failover": ("disabled", "enabled"),
        "multi_az": ("disabled", "enabled"),
        "replicas": (0, 2),
    }
    assert out["replicas"] == 2 and out["status"] == "available"


def test_stubber_replicas_decrease_to_zero_turns_failover_off_first():
    ec = client()
    with Stubber(ec) as stub:
        stub_read(stub, group(replicas=2))
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group(replicas=2, status="modifying", failover="disabling")},
            {
                "ReplicationGroupId": ENV,
                "ApplyImmediately": True,
                "AutomaticFailoverEnabled": False,
                "MultiAZEnabled": False,
            },
        )
        stub.add_response(
            "describe_replication_groups",
            {"ReplicationGroups": [group(replicas=2, failover="disabled")]},
            {"ReplicationGroupId": ENV},
        )
        stub.add_response(
            "decrease_replica_count",
            {"ReplicationGroup": group(replicas=2, status="modifying", failover="disabled")},
            {"ReplicationGroupId": ENV, "NewReplicaCount": 0, "ApplyImmediately": True},
        )
        plan, _out, ctx = converge(params(replicas=0), ec)
        stub.assert_no_pending_responses()
    assert ctx.applied == ["update replication_group cache (automatic_failover, multi_az, replicas)"]
    assert plan.changes[0].fields["replicas"] == (2, 0)


def test_stubber_replicas_decrease_keeps_failover_with_one_left():
    ec = client()
    with Stubber(ec) as stub:
        stub_read(stub, group(replicas=3))
        stub.add_response(
            "decrease_replica_count",
            {"ReplicationGroup": group(replicas=1, status="modifying")},
            {"ReplicationGroupId": ENV, "NewReplicaCount": 1, "ApplyImmediately": True},
        )
        plan, _out, _ctx = converge(params(replicas=1), ec)
        stub.assert_no_pending_responses()
    assert plan.changes[0].fields == {"replicas": (3, 1)}


def test_stubber_delete_takes_a_final_snapshot_waits_then_deletes_the_subnet_group():
    ec = client()
    seen = {}
    with Stubber(ec) as stub:
        stub_read(stub, group())
        stub.add_response(
            "delete_replication_group",
            {"ReplicationGroup": group(status="deleting")},
            {"ReplicationGroupId": ENV, "FinalSnapshotIdentifier": ANY},
        )
        stub.add_response(
            "describe_replication_groups",
            {"ReplicationGroups": [group(status="deleting")]},
            {"ReplicationGroupId": ENV},
        )
        stub.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", http_status_code=404)
        stub.add_response("delete_cache_subnet_group", {}, {"CacheSubnetGroupName": ENV})

        def note(params, **kwargs):
            seen.setdefault(kwargs["event_name"].rsplit(".", 1)[-1], []).append(dict(params))

        ec.meta.events.register("provide-client-params.elasticache.*", note)
        plan, out, ctx = converge(params(state="absent"), ec)
        stub.assert_no_pending_responses()
    assert [c.summary() for c in plan.changes] == [
        "delete replication_group cache",
        "delete cache_subnet_group subnet_group",
    ]
    assert ctx.applied == ["delete replication_group cache", "delete cache_subnet_group subnet_group"]
    snapshot = seen["DeleteReplicationGroup"][0]["FinalSnapshotIdentifier"]
    assert re.match(r"^cct-final-20[0-9]{12}$", snapshot), snapshot
    assert out == {}


def test_stubber_delete_without_final_snapshot_when_told():
    ec = client()
    with Stubber(ec) as stub:
        stub_read(stub, group())
        stub.add_response(
            "delete_replication_group", {"ReplicationGroup": group(status="deleting")}, {"ReplicationGroupId": ENV}
        )
        stub.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", http_status_code=404)
        stub.add_response("delete_cache_subnet_group", {}, {"CacheSubnetGroupName": ENV})
        converge(params(state="absent", final_snapshot=False), ec)
        stub.assert_no_pending_responses()


def test_stubber_auth_token_rotation_always_and_never_shown():
    ec = client()
    want = params(auth_token=TOKEN, update_auth_token="always")  # noqa: S106 - a choice
    with Stubber(ec) as stub:
        stub_read(stub, group())
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group(pending={"AuthTokenStatus": "ROTATING"}, status="modifying")},
            {
                "ReplicationGroupId": ENV,
                "ApplyImmediately": True,
                "AuthToken": TOKEN,
                "AuthTokenUpdateStrategy": "ROTATE",
            },
        )
        plan, out, _ctx = converge(want, ec)
        stub.assert_no_pending_responses()
    assert plan.changes[0].fields == {
        "auth_token": ("(secret, not shown)", "(secret, not shown: rotated on every run)")
    }
    assert out["pending_modifications"] == {"auth_token_status": "ROTATING"}
    assert TOKEN not in json.dumps(plan.to_list()) + json.dumps(plan.diff()) + json.dumps(out)


def test_stubber_auth_token_on_create_is_left_alone_and_added_to_a_group_without_one():
    ec = client()
    with Stubber(ec) as stub:  # the group has a token: nothing to do, nothing sent
        stub_read(stub, group(auth=True))
        plan, _out, _ctx = converge(params(auth_token=TOKEN), ec)
        stub.assert_no_pending_responses()
    assert plan.changes == []
    with Stubber(ec) as stub:  # the group has none: set it with ROTATE
        stub_read(stub, group(auth=False))
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group()},
            {
                "ReplicationGroupId": ENV,
                "ApplyImmediately": True,
                "AuthToken": TOKEN,
                "AuthTokenUpdateStrategy": "ROTATE",
            },
        )
        plan, _out, _ctx = converge(params(auth_token=TOKEN), ec)
        stub.assert_no_pending_responses()
    assert plan.changes[0].fields == {"auth_token": (None, "(secret, not shown)")}


def test_stubber_version_groups_windows_in_one_modification_and_subnets_in_place():
    ec = client()
    want = params(
        engine_version="7.1",
        security_groups=[SG, "sg-0fedcba9876543210"],
        maintenance_window="Mon:05:00-Mon:06:00",
        snapshot_window="01:00-02:00",
        subnets=SUBNETS + ["subnet-0ccc"],
        apply_immediately=True,
    )
    with Stubber(ec) as stub:
        stub_read(stub, group(), cluster(version="6.2.6"))
        stub.add_response(
            "modify_cache_subnet_group",
            {"CacheSubnetGroup": subnet_group(SUBNETS + ["subnet-0ccc"])},
            {"CacheSubnetGroupName": ENV, "SubnetIds": sorted(SUBNETS + ["subnet-0ccc"])},
        )
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group()},
            {
                "ReplicationGroupId": ENV,
                "ApplyImmediately": True,
                "EngineVersion": "7.1",
                "SecurityGroupIds": sorted([SG, "sg-0fedcba9876543210"]),
                "SnapshotWindow": "01:00-02:00",
                "PreferredMaintenanceWindow": "mon:05:00-mon:06:00",
            },
        )
        plan, _out, _ctx = converge(want, ec)
        stub.assert_no_pending_responses()
    assert sorted(plan.changes[1].fields) == [
        "engine_version",
        "maintenance_window",
        "security_groups",
        "snapshot_window",
    ]
    # '7.1' asked for, '7.1.0' read: the same version, no change
    with Stubber(ec) as stub:
        stub_read(stub, group(), cluster(version="7.1.0"))
        plan, _out, _ctx = converge(params(engine_version="7.1"), ec)
        stub.assert_no_pending_responses()
    assert plan.changes == []


def test_stubber_transit_encryption_is_turned_on_through_preferred():
    ec = client()
    off = group(auth=False)
    off["TransitEncryptionEnabled"] = False
    with Stubber(ec) as stub:
        stub_read(stub, off)
        stub.add_response(
            "modify_replication_group",
            {"ReplicationGroup": group(auth=False)},
            {
                "ReplicationGroupId": ENV,
                "ApplyImmediately": False,
                "TransitEncryptionEnabled": True,
                "TransitEncryptionMode": "preferred",
            },
        )
        plan, _out, _ctx = converge(params(), ec)
        stub.assert_no_pending_responses()
    assert plan.changes[0].fields == {"transit_encryption": ("disabled", "preferred")}


def test_stubber_create_sends_everything_with_tags_and_the_token():
    ec = client()
    with Stubber(ec) as stub:
        stub.add_client_error("describe_cache_subnet_groups", "CacheSubnetGroupNotFoundFault", http_status_code=404)
        stub.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", http_status_code=404)
        stub.add_response(
            "create_cache_subnet_group",
            {"CacheSubnetGroup": subnet_group()},
            {
                "CacheSubnetGroupName": ENV,
                "CacheSubnetGroupDescription": ANY,
                "SubnetIds": SUBNETS,
                "Tags": tags("subnet_group"),
            },
        )
        stub.add_response(
            "create_replication_group",
            {"ReplicationGroup": group(status="creating")},
            {
                "ReplicationGroupId": ENV,
                "ReplicationGroupDescription": ANY,
                "Engine": "valkey",
                "EngineVersion": "8.0",
                "CacheNodeType": "cache.t4g.micro",
                "NumNodeGroups": 1,
                "ReplicasPerNodeGroup": 1,
                "AutomaticFailoverEnabled": True,
                "MultiAZEnabled": True,
                "CacheSubnetGroupName": ENV,
                "SecurityGroupIds": [SG],
                "Port": 6379,
                "AtRestEncryptionEnabled": True,
                "TransitEncryptionEnabled": True,
                "SnapshotRetentionLimit": 1,
                "AuthToken": TOKEN,
                "Tags": tags("cache"),
            },
        )
        for status in ("creating", "available"):
            stub.add_response(
                "describe_replication_groups",
                {"ReplicationGroups": [group(status=status)]},
                {"ReplicationGroupId": ENV},
            )
        plan, out, _ctx = converge(params(engine="valkey", auth_token=TOKEN), ec)
        stub.assert_no_pending_responses()
    assert [c.summary() for c in plan.changes] == [
        "create cache_subnet_group subnet_group",
        "create replication_group cache",
    ]
    assert out["status"] == "available" and out["engine_version"] == "8.0"
    assert TOKEN not in json.dumps(plan.to_list())


def test_stubber_a_timed_out_create_wait_says_what_is_pending():
    ec = client()
    ctx_clock = iter(range(0, 10000, 100))
    with Stubber(ec) as stub:
        stub_read(stub, None)
        stub.add_response("create_replication_group", {"ReplicationGroup": group(status="creating")}, None)
        for _index in range(3):
            stub.add_response(
                "describe_replication_groups",
                {"ReplicationGroups": [group(status="creating")]},
                {"ReplicationGroupId": ENV},
            )
        ctx = Context(
            ENV,
            "cache",
            clients={"elasticache": ec},
            sleep=lambda s: None,
            clock=lambda: next(ctx_clock),
            wait_timeout=150,
        )
        layer = CacheLayer()
        values = params()
        layer.validate(values, False)
        engine = Engine(ctx, layer.kinds())
        current = engine.read()
        desired = layer.desired(ctx, values, current)
        with pytest.raises(EngineError, match=r"still pending: replication group cct \(creating\)"):
            engine.apply(engine.plan(desired), desired)


def test_stubber_unread_primary_cluster_fields_are_not_compared():
    ec = client()
    with Stubber(ec) as stub:
        stub.add_response(
            "describe_cache_subnet_groups", {"CacheSubnetGroups": [subnet_group()]}, {"CacheSubnetGroupName": ENV}
        )
        stub.add_response("list_tags_for_resource", {"TagList": tags("subnet_group")}, {"ResourceName": SUBNET_ARN})
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [group()]}, {"ReplicationGroupId": ENV})
        stub.add_response("list_tags_for_resource", {"TagList": tags("cache")}, {"ResourceName": GROUP_ARN})
        stub.add_client_error("describe_cache_clusters", "CacheClusterNotFound", http_status_code=404)
        ctx = Context(ENV, "cache", clients={"elasticache": ec})
        layer = CacheLayer()
        layer.validate(params(), False)
        engine = Engine(ctx, layer.kinds())
        current = engine.read()
        plan = engine.plan(layer.desired(ctx, params(), current))
    assert current["replication_group"]["cache"].fields["engine_version"] == NOT_READ
    assert plan.changes == []
