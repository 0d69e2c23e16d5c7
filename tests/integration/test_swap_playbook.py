"""playbooks/swap.yml: the blue/green swap of two web environments' CNAMEs, as a user runs it."""

from __future__ import annotations

import os

import pytest
from awsemu import summarize
from common import ROOT, run_playbook

PROVISION = os.path.join(ROOT, "playbooks", "provision.yml")
SWAP = os.path.join(ROOT, "playbooks", "swap.yml")
TEARDOWN = os.path.join(ROOT, "playbooks", "teardown.yml")
DOMAIN = "swap.example.com"


def define(name, cidr):
    return {
        "webstack_environment": {
            "name": name,
            "tier": "web",
            "domain": DOMAIN,
            "api_name": "api-" + name,
            "network": {"cidr_block": cidr, "nat_gateways": "none"},
            "instances": {"image_id": "ami-1e749f67", "min_size": 1, "max_size": 1, "instance_refresh": False},
            # the swap is about the CNAMEs: no data layers (teardown still checks for them)
            "database": {"enabled": False},
            "cache": {"enabled": False},
            "static_assets": {"enabled": False},
        }
    }


def cnames(aws):
    zone = [z for z in aws.route53.list_hosted_zones()["HostedZones"] if z["Name"] == DOMAIN + "."][0]
    records = aws.route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    return {
        r["Name"].split(".")[0]: r["ResourceRecords"][0]["Value"].rstrip(".")
        for r in records
        if r["Type"] == "CNAME" and r["Name"].split(".")[0] in ("sw-blue", "sw-green")
    }


def route53_mutations(emulator):
    return sum(1 for call in emulator.calls() if call["service"] == "route53" and call["mutating"])


def provision_keeps(emulator, aws, definition, expected, swapped_with):
    """A plain provision (plan first, then the run): nothing changes, no mutating call at all, the CNAMEs as
    ``expected`` (read back from Route 53) and the environment's dns output saying what it is swapped with."""
    emulator.reset_calls()
    plan = run_playbook(PROVISION, emulator.endpoint, "--check", "--diff", extra_vars=definition)
    assert plan.changed_count() == 0 and summarize(emulator.calls())["mutating"] == 0
    assert plan.task("DNS records (api alias and environment CNAME to the load balancer)")["plan"] == []
    emulator.reset_calls()
    run = run_playbook(PROVISION, emulator.endpoint, extra_vars=definition)
    calls = summarize(emulator.calls())
    assert route53_mutations(emulator) == 0, calls["by_action"]
    assert calls["mutating"] == 0 and run.changed_count() == 0, calls["by_action"]
    assert cnames(aws) == expected
    outputs = run.task("Record what was converged")["ansible_facts"]["environment_outputs"]
    assert outputs["dns"]["swapped_with"] == swapped_with


@pytest.mark.long
def test_swap_and_back(emulator, aws):
    blue, green = define("sw-blue", "10.71.0.0/16"), define("sw-green", "10.72.0.0/16")
    run_playbook(PROVISION, emulator.endpoint, extra_vars=blue)
    run_playbook(PROVISION, emulator.endpoint, extra_vars=green)
    before = cnames(aws)
    assert before["sw-blue"] != before["sw-green"]
    swapped = {"sw-blue": before["sw-green"], "sw-green": before["sw-blue"]}

    swap = dict(blue, webstack_swap_with="sw-green")
    emulator.reset_calls()
    plan = run_playbook(SWAP, emulator.endpoint, "--check", "--diff", extra_vars=swap)
    assert summarize(emulator.calls())["mutating"] == 0
    planned = plan.task("Swap the CNAMEs in one atomic change batch")["plan"]
    assert sorted((c["action"], c["kind"], c["key"]) for c in planned) == [  # both sides, and the state of both
        ("create", "swap", "sw-blue"),
        ("create", "swap", "sw-green"),
        ("update", "record", "sw-blue.%s/CNAME" % DOMAIN),
        ("update", "record", "sw-green.%s/CNAME" % DOMAIN),
    ]
    assert cnames(aws) == before

    emulator.reset_calls()
    run_playbook(SWAP, emulator.endpoint, extra_vars=swap)
    calls = summarize(emulator.calls())
    assert calls["by_action"].get("route53:ChangeResourceRecordSets") == 1  # one atomic batch
    assert cnames(aws) == swapped

    emulator.reset_calls()
    again = run_playbook(SWAP, emulator.endpoint, extra_vars=swap)
    assert again.changed_count() == 0 and summarize(emulator.calls())["mutating"] == 0

    # the swap is state: a provision of either environment keeps it, and changes nothing at all
    provision_keeps(emulator, aws, blue, swapped, "sw-green")
    provision_keeps(emulator, aws, green, swapped, "sw-blue")

    # neither may be torn down while swapped (each name carries the other's traffic): refused before any change
    emulator.reset_calls()
    refused = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=green, check=False)
    assert refused.returncode != 0 and "sw-green is swapped with sw-blue" in refused.stdout
    assert summarize(emulator.calls())["mutating"] == 0 and cnames(aws) == swapped

    # back (from the other side this time), and un-swapped stays too
    run_playbook(SWAP, emulator.endpoint, extra_vars=dict(green, webstack_swap_with="sw-blue", webstack_swapped=False))
    assert cnames(aws) == before
    provision_keeps(emulator, aws, blue, before, None)
    provision_keeps(emulator, aws, green, before, None)

    run_playbook(TEARDOWN, emulator.endpoint, extra_vars=green)
    run_playbook(TEARDOWN, emulator.endpoint, extra_vars=blue)
