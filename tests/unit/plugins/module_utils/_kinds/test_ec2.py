"""Security-group rule normalisation: EC2's IpPermissions <-> one rule per source (no AWS)."""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils._engine import Unknown
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import (
    SecurityGroup,
    permissions_from_rules,
    rules_from_permissions,
)

PERMS = [
    {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
    },
    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "1"}]},
    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
]


def test_flatten_and_group_round_trip():
    rules = rules_from_permissions(PERMS)
    assert len(rules) == 4
    assert {"protocol": "tcp", "from_port": 80, "to_port": 80, "group_id": "sg-1", "description": ""} in rules
    again = rules_from_permissions(permissions_from_rules(rules))
    assert again == rules


def test_grouping_makes_one_permission_per_protocol_and_port():
    perms = permissions_from_rules(rules_from_permissions(PERMS))
    assert [(p["IpProtocol"], p.get("FromPort")) for p in perms] == [("-1", None), ("tcp", 80), ("tcp", 443)]
    https = perms[2]
    assert https["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "https"}]
    assert https["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]


def test_rule_order_does_not_matter_but_content_does():
    kind = SecurityGroup()
    rules = rules_from_permissions(PERMS)
    assert kind.equal("ingress", rules, list(reversed(rules)))
    changed = [dict(r) for r in rules]
    changed[0]["description"] = "other"
    assert not kind.equal("ingress", rules, changed)


def test_a_rule_on_a_group_not_created_yet_never_matches():
    kind = SecurityGroup()
    rules = [{"protocol": "tcp", "from_port": 80, "to_port": 80, "group_id": "sg-1", "description": ""}]
    pending = [dict(rules[0], group_id=Unknown("security_group load_balancer"))]
    assert not kind.equal("ingress", rules, pending)
