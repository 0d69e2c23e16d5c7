"""webstack.aws.network through ansible-playbook on the emulator: create, update, delete, bad input."""

from __future__ import annotations

import pytest
from helpers import failing_case, quartet, run_task

TAG = "tag:webstack:environment"


def owned(aws, env):
    """What exists for the environment, read straight from EC2 (not through the module)."""
    ec2 = aws.ec2
    flt = [{"Name": TAG, "Values": [env]}]
    return {
        "vpcs": ec2.describe_vpcs(Filters=flt)["Vpcs"],
        "subnets": ec2.describe_subnets(Filters=flt)["Subnets"],
        "igws": ec2.describe_internet_gateways(Filters=flt)["InternetGateways"],
        "eips": ec2.describe_addresses(Filters=flt)["Addresses"],
        "nats": [n for n in ec2.describe_nat_gateways(Filter=flt)["NatGateways"] if n["State"] != "deleted"],
        "rtbs": ec2.describe_route_tables(Filters=flt)["RouteTables"],
    }


def test_create_update_delete_quartets(emulator, aws):
    env = "net-life"
    args = {"environment": env, "cidr_block": "10.10.0.0/16", "tags": {"team": "platform"}}

    # create
    runs = quartet(emulator, "network", args)
    first_check = runs.first_check
    apply = runs.apply
    again = runs.again
    assert first_check.changed is True
    kinds = sorted({c[1] for c in first_check.actions()})
    assert kinds == ["elastic_ip", "internet_gateway", "nat_gateway", "route_table", "subnet", "vpc"]
    assert sum(1 for c in first_check.actions() if c[1] == "subnet") == 6
    assert "diff" in first_check.result and first_check.result["diff"]["before"] == {}
    net = apply.result["network"]
    assert net["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert net["subnets"]["private"]["us-east-1b"]["cidr_block"] == "10.10.72.0/21"
    assert again.result["network"] == net
    found = owned(aws, env)
    assert [v["CidrBlock"] for v in found["vpcs"]] == ["10.10.0.0/16"]
    assert len(found["subnets"]) == 6 and len(found["nats"]) == 2 and len(found["eips"]) == 2
    assert len(found["rtbs"]) == 4
    for resource in found["subnets"] + found["vpcs"]:
        tags = {t["Key"]: t["Value"] for t in resource["Tags"]}
        assert tags["webstack:environment"] == env and tags["webstack:layer"] == "network"
        assert tags["team"] == "platform" and tags["Name"].startswith(env + "-")
    private_a = next(
        r for r in found["rtbs"] if {"Key": "webstack:resource", "Value": "private-us-east-1a"} in r["Tags"]
    )
    default_route = next(r for r in private_a["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
    assert default_route["NatGatewayId"] == net["nat_gateway_ids"]["us-east-1a"]
    database = next(r for r in found["rtbs"] if {"Key": "webstack:resource", "Value": "database"} in r["Tags"])
    assert [r for r in database["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == []

    # update in place: single NAT, a third zone, DNS hostnames off, other tags
    update = dict(args, nat_gateways="single", az_count=3, enable_dns_hostnames=False, tags={"team": "web"})
    runs = quartet(emulator, "network", update)
    first_check = runs.first_check
    apply = runs.apply
    actions = first_check.actions()
    assert ("delete", "nat_gateway", "nat-us-east-1b") in actions
    assert ("delete", "elastic_ip", "nat-us-east-1b") in actions
    assert ("create", "subnet", "private-us-east-1c") in actions
    assert ("update", "route_table", "private-us-east-1b") in actions
    assert not [a for a in actions if a[0] == "replace"]
    vpc_change = next(c for c in first_check.plan if c["kind"] == "vpc")
    assert vpc_change["fields"]["enable_dns_hostnames"] == {"before": True, "after": False}
    assert vpc_change["fields"]["tags"]["after"]["team"] == "web"
    net = apply.result["network"]
    assert list(net["nat_gateway_ids"]) == ["us-east-1a"]
    found = owned(aws, env)
    assert len(found["subnets"]) == 9 and len(found["nats"]) == 1 and len(found["eips"]) == 1
    attr = aws.ec2.describe_vpc_attribute(VpcId=net["vpc_id"], Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"]["Value"] is False

    # delete
    runs = quartet(emulator, "network", {"environment": env, "state": "absent"})
    first_check = runs.first_check
    apply = runs.apply
    again = runs.again
    assert {a[0] for a in first_check.actions()} == {"delete"}
    assert first_check.plan[-1]["kind"] == "vpc"  # the VPC goes last
    assert apply.result["network"] == {}
    assert all(not v for v in owned(aws, env).values())


def test_create_only_change_is_refused_unless_replacement_is_allowed(emulator, aws):
    env = "net-replace"
    base = {"environment": env, "cidr_block": "10.11.0.0/16", "nat_gateways": "none", "az_count": 1}
    run_task(emulator, "network", base)
    moved = dict(base, cidr_block="10.12.0.0/16")
    refused = run_task(emulator, "network", moved, expect_failure=True)
    assert "allow_replacement=true" in refused.result["msg"]
    assert "cidr_block 10.11.0.0/16 -> 10.12.0.0/16" in refused.result["msg"]
    assert refused.calls["mutating"] == 0
    runs = quartet(emulator, "network", dict(moved, allow_replacement=True))
    first_check = runs.first_check
    assert ("replace", "vpc", "vpc") in first_check.actions()
    assert ("replace", "subnet", "public-us-east-1a") in first_check.actions()
    assert [v["CidrBlock"] for v in owned(aws, env)["vpcs"]] == ["10.12.0.0/16"]
    run_task(emulator, "network", {"environment": env, "state": "absent"})
    assert all(not v for v in owned(aws, env).values())


def test_explicit_zones_and_subnets(emulator, aws):
    env = "net-explicit"
    args = {
        "environment": env,
        "cidr_block": "10.13.0.0/20",
        "availability_zones": ["us-east-1c", "us-east-1d"],
        "subnets": {
            "public": ["10.13.0.0/24", "10.13.1.0/24"],
            "private": ["10.13.4.0/23", "10.13.6.0/23"],
            "database": ["10.13.10.0/24", "10.13.11.0/24"],
        },
        "nat_gateways": "none",
    }
    runs = quartet(emulator, "network", args)
    apply = runs.apply
    net = apply.result["network"]
    assert net["availability_zones"] == ["us-east-1c", "us-east-1d"]
    assert net["subnets"]["private"]["us-east-1d"]["cidr_block"] == "10.13.6.0/23"
    assert net["nat_gateway_ids"] == {}
    run_task(emulator, "network", {"environment": env, "state": "absent"})


def test_a_resource_deleted_by_hand_is_recreated_and_a_stray_route_removed(emulator, aws):
    env = "net-drift"
    args = {"environment": env, "cidr_block": "10.14.0.0/16", "nat_gateways": "none", "az_count": 1}
    net = run_task(emulator, "network", args).result["network"]
    aws.ec2.delete_subnet(SubnetId=net["subnets"]["database"]["us-east-1a"]["id"])
    public_rtb = net["route_table_ids"]["public"]
    aws.ec2.create_route(
        RouteTableId=public_rtb, DestinationCidrBlock="192.0.2.0/24", GatewayId=net["internet_gateway_id"]
    )
    runs = quartet(emulator, "network", args)
    first_check = runs.first_check
    actions = first_check.actions()
    assert ("create", "subnet", "database-us-east-1a") in actions
    rtb = next(c for c in first_check.plan if c["key"] == "public")
    assert "192.0.2.0/24" in rtb["fields"]["routes"]["before"]
    assert "192.0.2.0/24" not in rtb["fields"]["routes"]["after"]
    run_task(emulator, "network", {"environment": env, "state": "absent"})


BAD_INPUTS = [
    ({"cidr_block": "10.0.0.0/24"}, "cidr_block: 10.0.0.0/24 is too small"),
    ({"cidr_block": "10.0.0.0/33"}, "cidr_block: "),
    ({"az_count": 9}, "az_count: 9 is out of range"),
    (
        {
            "subnets": {
                "public": ["10.0.0.0/24", "10.0.1.0/24"],
                "private": ["10.0.0.0/23", "10.0.4.0/23"],
                "database": ["10.0.8.0/24", "10.0.9.0/24"],
            }
        },
        "overlaps",
    ),
    ({"environment": "Bad_Name"}, "environment: 'Bad_Name' is not a valid environment name"),
    ({"bogus_option": 1}, "Unsupported parameters"),
    ({"nat_gateways": "two"}, "nat_gateways"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "net-bad"}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "network", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls


def test_more_zones_than_the_region_has_fails_after_one_read(emulator):
    out = run_task(emulator, "network", {"environment": "net-bad", "az_count": 7}, expect_failure=True)
    assert "az_count: 7 is more than the 6 availability zones" in out.result["msg"]
    assert out.calls["mutating"] == 0
    assert "ec2:DescribeAvailabilityZones" in out.calls["by_action"]
