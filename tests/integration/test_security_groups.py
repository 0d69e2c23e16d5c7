"""webstack.aws.security_groups through ansible-playbook on the emulator."""

from __future__ import annotations

import pytest
from helpers import failing_case, quartet, run_task


@pytest.fixture(scope="module")
def vpc_id(emulator):
    net = run_task(
        emulator, "network", {"environment": "fw", "cidr_block": "10.50.0.0/16", "nat_gateways": "none", "az_count": 1}
    )
    yield net.result["network"]["vpc_id"]
    run_task(emulator, "security_groups", {"environment": "fw", "state": "absent"})
    run_task(emulator, "network", {"environment": "fw", "state": "absent"})


def groups(aws, env="fw"):
    found = aws.ec2.describe_security_groups(Filters=[{"Name": "tag:webstack:environment", "Values": [env]}])
    return {next(t["Value"] for t in g["Tags"] if t["Key"] == "webstack:resource"): g for g in found["SecurityGroups"]}


def ingress(group):
    rules = set()
    for perm in group["IpPermissions"]:
        for item in perm.get("IpRanges", []):
            rules.add((perm.get("FromPort"), item["CidrIp"]))
        for item in perm.get("Ipv6Ranges", []):
            rules.add((perm.get("FromPort"), item["CidrIpv6"]))
        for item in perm.get("UserIdGroupPairs", []):
            rules.add((perm.get("FromPort"), item["GroupId"]))
    return rules


def test_chain_create_update_delete(emulator, aws, vpc_id):
    args = {"environment": "fw", "vpc_id": vpc_id}
    runs = quartet(emulator, "security_groups", args)
    first_check = runs.first_check
    apply = runs.apply
    assert [a[2] for a in first_check.actions()] == ["load_balancer", "instance", "database", "cache"]
    ids = apply.result["security_groups"]["group_ids"]
    found = groups(aws)
    assert ingress(found["load_balancer"]) == {(80, "0.0.0.0/0"), (80, "::/0"), (443, "0.0.0.0/0"), (443, "::/0")}
    assert ingress(found["instance"]) == {(80, ids["load_balancer"])}
    assert ingress(found["database"]) == {(5432, ids["instance"])}
    assert ingress(found["cache"]) == {(6379, ids["instance"])}
    assert found["instance"]["GroupName"] == "fw-instance"

    # update: another app port, SSH from a bastion range, HTTPS only
    update = dict(
        args,
        instance_port=8080,
        load_balancer_ports=[443],
        extra_ingress=[{"group": "instance", "port": 22, "cidr": "10.99.0.0/24", "description": "ssh"}],
    )
    runs = quartet(emulator, "security_groups", update)
    first_check = runs.first_check
    assert sorted(a[2] for a in first_check.actions()) == ["instance", "load_balancer"]
    assert {a[0] for a in first_check.actions()} == {"update"}
    found = groups(aws)
    assert ingress(found["instance"]) == {(8080, ids["load_balancer"]), (22, "10.99.0.0/24")}
    assert ingress(found["load_balancer"]) == {(443, "0.0.0.0/0"), (443, "::/0")}
    # same ids: updated in place
    assert {k: g["GroupId"] for k, g in found.items()} == ids

    # a rule added by hand is removed; the matching rules are not touched
    aws.ec2.authorize_security_group_ingress(
        GroupId=ids["database"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    fix = run_task(emulator, "security_groups", update)
    assert fix.actions() == [("update", "security_group", "database")]
    assert fix.calls["by_action"].get("ec2:RevokeSecurityGroupIngress") == 1
    assert "ec2:AuthorizeSecurityGroupIngress" not in fix.calls["by_action"]
    assert ingress(groups(aws)["database"]) == {(5432, ids["instance"])}

    # delete, cache and database before the groups they reference
    runs = quartet(emulator, "security_groups", {"environment": "fw", "state": "absent"})
    first_check = runs.first_check
    assert [a[2] for a in first_check.actions()] == ["cache", "database", "instance", "load_balancer"]
    assert groups(aws) == {}


def test_optional_groups_and_check_mode_without_a_vpc(emulator, aws, vpc_id):
    plan = run_task(emulator, "security_groups", {"environment": "fw2", "vpc_id": None}, check=True)
    assert plan.changed
    assert plan.plan[0]["fields"]["vpc_id"]["after"] == "(known after apply: vpc_id from the network layer)"
    assert plan.calls["mutating"] == 0
    args = {"environment": "fw2", "vpc_id": vpc_id, "groups": ["load_balancer", "instance"]}
    runs = quartet(emulator, "security_groups", args)
    first_check = runs.first_check
    assert [a[2] for a in first_check.actions()] == ["load_balancer", "instance"]
    run_task(emulator, "security_groups", {"environment": "fw2", "state": "absent"})
    assert groups(aws, "fw2") == {}


BAD_INPUTS = [
    ({"load_balancer_ports": [70000]}, "load_balancer_ports[0]: 70000 is not a valid port"),
    ({"instance_port": -1}, "instance_port: -1 is not a valid port"),
    ({"load_balancer_cidrs": ["0.0.0.0/40"]}, "load_balancer_cidrs[0]"),
    ({"extra_ingress": [{"group": "instance", "port": 22}]}, "give exactly one of 'cidr' or 'source_group'"),
    ({"vpc_id": None}, "vpc_id: is required"),
    ({"unknown": True}, "Unsupported parameters"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "fw-bad", "vpc_id": "vpc-1"}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "security_groups", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
