"""meta/runtime.yml's action group must list every module, so one module_defaults block configures all."""

from __future__ import annotations

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_action_group_lists_every_module():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    modules = sorted(
        name[:-3]
        for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
        if name.endswith(".py") and not name.startswith("_")
    )
    assert modules, "no modules found"
    # environment_preflight makes no AWS call: the group's defaults (region, endpoint) are not options of it
    modules.remove("environment_preflight")
    assert sorted(runtime["action_groups"]["aws"]) == modules


def test_the_emulator_counts_rest_calls_by_operation():
    import sys

    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import awsemu

    assert awsemu.rest_operation("route53", "POST", "/2013-04-01/tags/hostedzone", "") == "ListTagsForResources"
    assert awsemu.rest_operation("route53", "POST", "/2013-04-01/hostedzone/Z1/rrset/", "") == (
        "ChangeResourceRecordSets"
    )
    assert awsemu.rest_operation("s3", "GET", "/bucket", "list-type=2") == "ListObjectsV2"
    assert awsemu.rest_operation("s3", "PUT", "/bucket", "versioning") == "PutBucketVersioning"
    assert awsemu.rest_operation("s3", "PUT", "/bucket/a/b.css", "") == "PutObject"
    assert not awsemu.is_mutating("ListTagsForResources")
    assert awsemu.is_mutating("ChangeResourceRecordSets")
    assert awsemu.is_mutating("PUT /unknown/path")


def test_the_emulator_holds_only_the_named_slow_items_pending():
    import awsemu

    body = (
        b"<R><DBInstances><DBInstance><DBInstanceIdentifier>a</DBInstanceIdentifier>"
        b"<DBInstanceStatus>available</DBInstanceStatus></DBInstance><DBInstance>"
        b"<DBInstanceIdentifier>b</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>"
        b"</DBInstance></DBInstances></R>"
    )
    held = awsemu.hold_status(body, "DBInstance", "DBInstanceStatus", {"b"})
    assert held.count(b"<DBInstanceStatus>available</DBInstanceStatus>") == 1
    assert b"<DBInstanceIdentifier>b</DBInstanceIdentifier><DBInstanceStatus>creating<" in held
