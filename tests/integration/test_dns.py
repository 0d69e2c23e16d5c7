"""webstack.aws.dns through ansible-playbook on the emulator: zone, load balancer records, records, swap."""

from __future__ import annotations

import pytest
from helpers import failing_case, quartet, run_task

DOMAIN = "dns-test.example"
BLUE_LB = "blue-alb-1.us-east-1.elb.amazonaws.com"
GREEN_LB = "green-alb-2.us-east-1.elb.amazonaws.com"
ALB_ZONE = "Z35SXDOTRQ7X7K"


def rrset_batches(run):
    """How many ChangeResourceRecordSets calls a run made."""
    return run.calls["by_action"].get("route53:ChangeResourceRecordSets", 0)


def zone_records(aws, zone_id):
    found = aws.route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["Type"]): r for r in found}


def zones(aws):
    return [z for z in aws.route53.list_hosted_zones()["HostedZones"] if z["Name"] == DOMAIN + "."]


def cname(records, env):
    return records[("%s.%s" % (env, DOMAIN), "CNAME")]["ResourceRecords"][0]["Value"]


def lb_args(env, lb, **extra):
    return dict(
        {"environment": env, "domain": DOMAIN, "load_balancer_dns_name": lb, "load_balancer_hosted_zone_id": ALB_ZONE},
        **extra,
    )


def test_zone_records_update_and_delete(emulator, aws):
    args = lb_args("dns-blue", BLUE_LB, tags={"team": "web"})
    runs = quartet(emulator, "dns", args)
    assert runs.first_check.actions() == [
        ("create", "hosted_zone", "zone"),
        ("create", "record", "api.%s/A" % DOMAIN),
        ("create", "record", "dns-blue.%s/CNAME" % DOMAIN),
    ]
    assert runs.first_check.result["dns"]["hosted_zone_id"] is None
    assert runs.first_check.result["diff"]["after"]["record dns-blue.%s/CNAME" % DOMAIN]["ttl"] == 60
    assert rrset_batches(runs.apply) == 1  # every record of the run in one atomic batch
    out = runs.apply.result["dns"]
    zone_id = out["hosted_zone_id"]
    assert out["name_servers"] and out["zone_created_by_environment"] is True
    assert out["cname"] == "dns-blue." + DOMAIN
    assert runs.again.result["dns"] == out
    # what Route 53 holds
    records = zone_records(aws, zone_id)
    api = records[("api." + DOMAIN, "A")]["AliasTarget"]
    assert api["DNSName"].rstrip(".") == BLUE_LB and api["HostedZoneId"] == ALB_ZONE and api["EvaluateTargetHealth"]
    assert records[("dns-blue." + DOMAIN, "CNAME")]["TTL"] == 60 and cname(records, "dns-blue") == BLUE_LB
    owner = records[("_webstack-owner.dns-blue." + DOMAIN, "TXT")]["ResourceRecords"][0]["Value"]
    assert owner == '"webstack:environment=dns-blue;webstack:layer=dns;types=CNAME"'
    tags = aws.route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"]["Tags"]
    tags = {t["Key"]: t["Value"] for t in tags}
    assert tags["webstack:environment"] == "dns-blue" and tags["webstack:layer"] == "dns" and tags["team"] == "web"

    # a record made by hand is never touched
    aws.route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": "www." + DOMAIN + ".",
                        "Type": "A",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "192.0.2.1"}],
                    },
                }
            ]
        },
    )

    # update in place: another load balancer, IPv6, and other records (the CDN alias, a TXT)
    update = dict(
        lb_args("dns-blue", GREEN_LB, tags={"team": "web"}, ipv6=True),
        records=[
            {
                "name": "cdn",
                "type": "A",
                "alias": {"dns_name": "d111.cloudfront.net", "hosted_zone_id": "Z2FDTNDATAQYW2"},
            },
            {"name": "@", "type": "TXT", "values": ["v=spf1 -all"]},
        ],
    )
    runs = quartet(emulator, "dns", update)
    assert sorted(runs.first_check.actions()) == sorted(
        [
            ("create", "record", "%s/TXT" % DOMAIN),
            ("create", "record", "api.%s/AAAA" % DOMAIN),
            ("create", "record", "cdn.%s/A" % DOMAIN),
            ("update", "record", "api.%s/A" % DOMAIN),
            ("update", "record", "dns-blue.%s/CNAME" % DOMAIN),
        ]
    )
    change = next(c for c in runs.first_check.plan if c["key"] == "dns-blue.%s/CNAME" % DOMAIN)
    assert change["fields"] == {"values": {"before": [BLUE_LB], "after": [GREEN_LB]}}
    assert rrset_batches(runs.apply) == 1
    records = zone_records(aws, zone_id)
    assert records[(DOMAIN, "TXT")]["ResourceRecords"] == [{"Value": '"v=spf1 -all"'}]
    assert records[("cdn." + DOMAIN, "A")]["AliasTarget"]["HostedZoneId"] == "Z2FDTNDATAQYW2"
    assert cname(records, "dns-blue") == GREEN_LB
    assert len(runs.apply.result["dns"]["records"]) == 5

    # records omitted: left alone; records given empty: the owned ones go, the hand-made one stays
    runs = quartet(emulator, "dns", {"environment": "dns-blue", "domain": DOMAIN, "records": []})
    assert sorted(runs.first_check.actions()) == [
        ("delete", "record", "cdn.%s/A" % DOMAIN),
        ("delete", "record", "%s/TXT" % DOMAIN),
    ]
    records = zone_records(aws, zone_id)
    assert ("cdn." + DOMAIN, "A") not in records and ("api." + DOMAIN, "AAAA") in records
    assert ("www." + DOMAIN, "A") in records and ("_webstack-owner.cdn." + DOMAIN, "TXT") not in records

    # absent: this environment's records go; the zone holds a record not ours, so it is kept
    kept = run_task(emulator, "dns", {"environment": "dns-blue", "domain": DOMAIN, "state": "absent"})
    assert {a[1] for a in kept.actions()} == {"record"}
    assert len(zones(aws)) == 1
    assert sorted(zone_records(aws, zone_id)) == [(DOMAIN, "NS"), (DOMAIN, "SOA"), ("www." + DOMAIN, "A")]
    www = zone_records(aws, zone_id)[("www." + DOMAIN, "A")]
    aws.route53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": www}]}
    )
    runs = quartet(emulator, "dns", {"environment": "dns-blue", "domain": DOMAIN, "state": "absent"})
    assert runs.first_check.actions() == [("delete", "hosted_zone", "zone")]
    assert zones(aws) == []


def swap_state(records, env):
    found = records.get(("_webstack-swap.%s.%s" % (env, DOMAIN), "TXT"))
    return found["ResourceRecords"][0]["Value"] if found else None


def test_blue_green_swap_is_atomic_and_idempotent(emulator, aws):
    blue_args = lb_args("dns-sw-blue", BLUE_LB)
    green_args = lb_args("dns-sw-green", GREEN_LB, create_zone=False, api_name="green-api")
    blue = run_task(emulator, "dns", blue_args)
    run_task(emulator, "dns", green_args)
    zone_id = blue.result["dns"]["hosted_zone_id"]
    swap = {
        "environment": "dns-sw-blue",
        "domain": DOMAIN,
        "load_balancer_dns_name": BLUE_LB,
        "swap": {"peer": "dns-sw-green", "swapped": True},
    }
    runs = quartet(emulator, "dns", swap)
    plan = {(c["kind"], c["key"]): c["fields"] for c in runs.first_check.plan}
    assert plan == {
        ("record", "dns-sw-blue.%s/CNAME" % DOMAIN): {"values": {"before": [BLUE_LB], "after": [GREEN_LB]}},
        ("record", "dns-sw-green.%s/CNAME" % DOMAIN): {"values": {"before": [GREEN_LB], "after": [BLUE_LB]}},
        # the swap is state: both sides record it, in the same batch
        ("swap", "dns-sw-blue"): {
            "swapped_with": {"before": None, "after": "dns-sw-green"},
            "tags": {"before": {}, "after": {}},
        },
        ("swap", "dns-sw-green"): {
            "swapped_with": {"before": None, "after": "dns-sw-blue"},
            "tags": {"before": {}, "after": {}},
        },
    }
    assert rrset_batches(runs.apply) == 1  # both sides in one atomic batch
    assert runs.apply.result["dns"]["swapped_with"] == "dns-sw-green"
    records = zone_records(aws, zone_id)
    assert cname(records, "dns-sw-blue") == GREEN_LB and cname(records, "dns-sw-green") == BLUE_LB
    assert (
        swap_state(records, "dns-sw-blue")
        == '"webstack:environment=dns-sw-blue;webstack:layer=dns;swapped-with=dns-sw-green"'
    )
    assert (
        swap_state(records, "dns-sw-green")
        == '"webstack:environment=dns-sw-green;webstack:layer=dns;swapped-with=dns-sw-blue"'
    )
    # the peer's CNAME still belongs to the peer
    owner = records[("_webstack-owner.dns-sw-green." + DOMAIN, "TXT")]["ResourceRecords"][0]["Value"]
    assert "environment=dns-sw-green;" in owner

    # a later run of either side with its load balancer (what a provision does) keeps the swap: no change at all
    for args, peer in ((blue_args, "dns-sw-green"), (green_args, "dns-sw-blue")):
        runs = quartet(emulator, "dns", args)
        assert runs.first_check.plan == [] and runs.apply.calls["mutating"] == 0
        assert runs.apply.result["dns"]["swapped_with"] == peer
    records = zone_records(aws, zone_id)
    assert cname(records, "dns-sw-blue") == GREEN_LB and cname(records, "dns-sw-green") == BLUE_LB

    # a CNAME changed by hand while swapped is repaired by the run whose load balancer it should point at
    aws.route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "dns-sw-green.%s." % DOMAIN,
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "elsewhere.example.org"}],
                    },
                }
            ]
        },
    )
    runs = quartet(emulator, "dns", blue_args)
    assert runs.first_check.actions() == [("update", "record", "dns-sw-green.%s/CNAME" % DOMAIN)]
    assert cname(zone_records(aws, zone_id), "dns-sw-green") == BLUE_LB

    # neither side can be deleted while swapped (their names carry each other's traffic); nothing is touched
    for env in ("dns-sw-blue", "dns-sw-green"):
        refused = run_task(
            emulator, "dns", {"environment": env, "domain": DOMAIN, "state": "absent"}, expect_failure=True
        )
        assert "is swapped with" in refused.result["msg"] and "Swap them back first" in refused.result["msg"]
        assert refused.calls["mutating"] == 0
    # nor swapped with a third environment
    third = run_task(emulator, "dns", dict(swap, swap={"peer": "dns-sw-red", "swapped": True}), expect_failure=True)
    assert "dns-sw-blue is swapped with dns-sw-green" in third.result["msg"] and third.calls["mutating"] == 0

    # and back (from the other side): both CNAMEs home, both states gone, in one batch
    back = {
        "environment": "dns-sw-green",
        "domain": DOMAIN,
        "load_balancer_dns_name": GREEN_LB,
        "swap": {"peer": "dns-sw-blue", "swapped": False},
    }
    runs = quartet(emulator, "dns", back)
    assert sorted(runs.first_check.actions()) == [
        ("delete", "swap", "dns-sw-blue"),
        ("delete", "swap", "dns-sw-green"),
        ("update", "record", "dns-sw-blue.%s/CNAME" % DOMAIN),
        ("update", "record", "dns-sw-green.%s/CNAME" % DOMAIN),
    ]
    assert rrset_batches(runs.apply) == 1 and runs.apply.result["dns"]["swapped_with"] is None
    records = zone_records(aws, zone_id)
    assert cname(records, "dns-sw-blue") == BLUE_LB and cname(records, "dns-sw-green") == GREEN_LB
    assert swap_state(records, "dns-sw-blue") is None and swap_state(records, "dns-sw-green") is None
    runs = quartet(emulator, "dns", blue_args)
    assert runs.first_check.plan == [] and runs.apply.result["dns"]["swapped_with"] is None

    # the peer did not create the zone: its absent leaves it; blue's absent then deletes it
    green_gone = run_task(emulator, "dns", {"environment": "dns-sw-green", "domain": DOMAIN, "state": "absent"})
    assert {a[1] for a in green_gone.actions()} == {"record"}
    run_task(emulator, "dns", {"environment": "dns-sw-blue", "domain": DOMAIN, "state": "absent"})
    assert zones(aws) == []


def test_a_swap_without_recorded_state_is_refused_not_undone(emulator, aws):
    """CNAMEs swapped with no swap state (an earlier release's swap): a run with the load balancer refuses to
    flip them back; a swap run records the state, after which the runs keep it."""
    blue_args = lb_args("dns-lg-blue", BLUE_LB)
    green_args = lb_args("dns-lg-green", GREEN_LB, create_zone=False, api_name="lg-green-api")
    zone_id = run_task(emulator, "dns", blue_args).result["dns"]["hosted_zone_id"]
    run_task(emulator, "dns", green_args)
    changes = []
    for env, target in (("dns-lg-blue", GREEN_LB), ("dns-lg-green", BLUE_LB)):
        rrset = {"Name": "%s.%s." % (env, DOMAIN), "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": target}]}
        changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
    aws.route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})

    refused = run_task(emulator, "dns", blue_args, expect_failure=True)
    assert "they look swapped" in refused.result["msg"] and refused.calls["mutating"] == 0
    assert cname(zone_records(aws, zone_id), "dns-lg-blue") == GREEN_LB

    swap = dict(blue_args, swap={"peer": "dns-lg-green", "swapped": True})
    del swap["load_balancer_hosted_zone_id"]
    runs = quartet(emulator, "dns", swap)
    assert sorted(runs.first_check.actions()) == [("create", "swap", "dns-lg-blue"), ("create", "swap", "dns-lg-green")]
    for args in (blue_args, green_args):
        assert quartet(emulator, "dns", args).first_check.plan == []
    run_task(emulator, "dns", dict(swap, swap={"peer": "dns-lg-green", "swapped": False}))
    run_task(emulator, "dns", {"environment": "dns-lg-green", "domain": DOMAIN, "state": "absent"})
    run_task(emulator, "dns", {"environment": "dns-lg-blue", "domain": DOMAIN, "state": "absent"})
    assert zones(aws) == []


def test_a_missing_zone_is_not_created_unless_asked(emulator):
    out = run_task(
        emulator,
        "dns",
        {"environment": "dns-nz", "domain": "nozone.example", "create_zone": False},
        expect_failure=True,
    )
    assert "there is no public hosted zone named nozone.example" in out.result["msg"]
    assert out.calls["mutating"] == 0


BAD_INPUTS = [
    ({"domain": "bad_domain..com"}, "domain: 'bad_domain..com' is not a valid DNS name"),
    ({"domain": "*.example.com"}, "domain: '*.example.com': wildcards are not allowed here"),
    ({"domain": "com"}, "needs at least 2 labels"),
    ({"load_balancer_dns_name": "x.elb.amazonaws.com"}, "load_balancer_hosted_zone_id: is required"),
    ({"records": [{"name": "a", "type": "A", "values": ["10.0.0.300"]}]}, "records[0].values[0]"),
    ({"records": [{"name": "a", "type": "A"}]}, "records[0]: give exactly one of 'values' or 'alias'"),
    ({"records": [{"name": "@", "type": "CNAME", "values": ["x.example.org"]}]}, "cannot sit at the zone apex"),
    (
        {
            "records": [
                {"name": "a", "type": "CNAME", "values": ["b.x.org"]},
                {"name": "a", "type": "TXT", "values": ["t"]},
            ]
        },
        "a CNAME must be alone",
    ),
    ({"records": [{"name": "a.other.org.", "type": "A", "values": ["192.0.2.1"]}]}, "is not in the zone"),
    ({"swap": {"peer": "dns-bad", "swapped": True}}, "swap.peer: must be another environment"),
    ({"swap": {"peer": "green", "swapped": True}}, "load_balancer_dns_name: is required with swap"),
    ({"records": [{"name": "_webstack-swap.x", "type": "TXT", "values": ["t"]}]}, "are the module's own"),
    ({"bogus": 1}, "Unsupported parameters"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "dns-bad", "domain": "bad.example"}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "dns", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
