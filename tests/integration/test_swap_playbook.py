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


@pytest.mark.long
def test_swap_and_back(emulator, aws):
    blue, green = define("sw-blue", "10.71.0.0/16"), define("sw-green", "10.72.0.0/16")
    run_playbook(PROVISION, emulator.endpoint, extra_vars=blue)
    run_playbook(PROVISION, emulator.endpoint, extra_vars=green)
    before = cnames(aws)
    assert before["sw-blue"] != before["sw-green"]

    swap = dict(blue, webstack_swap_with="sw-green")
    emulator.reset_calls()
    plan = run_playbook(SWAP, emulator.endpoint, "--check", "--diff", extra_vars=swap)
    assert summarize(emulator.calls())["mutating"] == 0
    assert len(plan.task("Swap the CNAMEs in one atomic change batch")["plan"]) == 2  # both sides
    assert cnames(aws) == before

    emulator.reset_calls()
    run_playbook(SWAP, emulator.endpoint, extra_vars=swap)
    calls = summarize(emulator.calls())
    assert calls["by_action"].get("route53:ChangeResourceRecordSets") == 1  # one atomic batch
    assert cnames(aws) == {"sw-blue": before["sw-green"], "sw-green": before["sw-blue"]}

    emulator.reset_calls()
    again = run_playbook(SWAP, emulator.endpoint, extra_vars=swap)
    assert again.changed_count() == 0 and summarize(emulator.calls())["mutating"] == 0

    run_playbook(SWAP, emulator.endpoint, extra_vars=dict(swap, webstack_swapped=False))
    assert cnames(aws) == before

    run_playbook(TEARDOWN, emulator.endpoint, extra_vars=green)
    run_playbook(TEARDOWN, emulator.endpoint, extra_vars=blue)
