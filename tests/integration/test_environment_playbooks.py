"""playbooks/provision.yml and teardown.yml with the local inventory, as a user runs them."""

from __future__ import annotations

import os

from awsemu import summarize
from common import ROOT, run_playbook

PROVISION = os.path.join(ROOT, "playbooks", "provision.yml")
TEARDOWN = os.path.join(ROOT, "playbooks", "teardown.yml")


def define(name, **network):
    return {
        "webstack_environment": {
            "name": name,
            "tier": "web",
            "tags": {"owner": "tests"},
            "network": dict({"cidr_block": "10.60.0.0/16"}, **network),
        }
    }


def leftovers(aws, env):
    flt = [{"Name": "tag:webstack:environment", "Values": [env]}]
    ec2 = aws.ec2
    return (
        ec2.describe_vpcs(Filters=flt)["Vpcs"]
        + ec2.describe_subnets(Filters=flt)["Subnets"]
        + ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
        + ec2.describe_addresses(Filters=flt)["Addresses"]
        + ec2.describe_route_tables(Filters=flt)["RouteTables"]
        + ec2.describe_internet_gateways(Filters=flt)["InternetGateways"]
        + [n for n in ec2.describe_nat_gateways(Filter=flt)["NatGateways"] if n["State"] != "deleted"]
    )


def test_plan_converge_noop_teardown(emulator, aws):
    env = define("play-web")
    emulator.reset_calls()
    plan = run_playbook(PROVISION, emulator.endpoint, "--check", "--diff", extra_vars=env)
    calls = summarize(emulator.calls())
    assert calls["mutating"] == 0
    assert plan.changed_count() == 2
    network_plan = plan.task("Network (VPC, subnets, gateways, routes)")["plan"]
    firewall_plan = plan.task("Firewall (security-group chain)")["plan"]
    assert len(network_plan) == 16 and len(firewall_plan) == 4
    assert leftovers(aws, "play-web") == []

    emulator.reset_calls()
    first = run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    assert first.changed_count() == 2
    outputs = first.task("Record what was converged")["ansible_facts"]["environment_outputs"]
    assert outputs["network"]["vpc_id"].startswith("vpc-")
    assert set(outputs["security_groups"]["group_ids"]) == {"load_balancer", "instance", "database", "cache"}
    # the plan check mode showed is what the apply did
    assert first.task("Network (VPC, subnets, gateways, routes)")["plan"] == network_plan
    assert [c["key"] for c in first.task("Firewall (security-group chain)")["plan"]] == [
        c["key"] for c in firewall_plan
    ]

    emulator.reset_calls()
    second = run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    calls = summarize(emulator.calls())
    assert second.changed_count() == 0
    assert calls["mutating"] == 0, calls["by_action"]

    emulator.reset_calls()
    down = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert (
        down.task("Verify that nothing tagged with the environment remains")["msg"]
        == "Nothing tagged webstack:environment=play-web remains."
    )
    assert leftovers(aws, "play-web") == []
    again = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert again.changed_count() == 0


def test_definition_errors_fail_before_any_aws_call(emulator):
    emulator.reset_calls()
    bad = define("play-bad", az_count=3, availability_zones=["us-east-1a"])
    run = run_playbook(PROVISION, emulator.endpoint, extra_vars=bad, check=False)
    assert run.returncode != 0
    assert "network.az_count must match" in run.stdout
    unknown = {"webstack_environment": {"name": "play-bad", "tier": "batch"}}
    run = run_playbook(PROVISION, emulator.endpoint, extra_vars=unknown, check=False)
    assert run.returncode != 0
    assert "tier" in run.stdout
    assert emulator.calls() == []
