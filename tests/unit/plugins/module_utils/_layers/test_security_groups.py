"""The security_groups layer (``_layers/security_groups.py``): validation, also in check mode (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers import security_groups


def fw_params(**kw):
    params = {
        "state": "present",
        "vpc_id": "vpc-1",
        "groups": list(security_groups.GROUPS),
        "load_balancer_ports": [80, 443],
        "load_balancer_cidrs": ["0.0.0.0/0"],
        "instance_port": 80,
        "database_port": 5432,
        "cache_port": 6379,
        "extra_ingress": [],
    }
    params.update(kw)
    return params


def rule(**kw):
    base = {
        "group": "instance",
        "protocol": "tcp",
        "port": 22,
        "to_port": None,
        "cidr": "10.0.0.0/8",
        "source_group": None,
        "description": "",
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    "kw,option",
    [
        ({"vpc_id": None}, "vpc_id"),
        ({"load_balancer_ports": [70000]}, "load_balancer_ports[0]"),
        ({"load_balancer_ports": []}, "load_balancer_ports"),
        ({"load_balancer_cidrs": ["0.0.0.0/33"]}, "load_balancer_cidrs[0]"),
        ({"instance_port": -1}, "instance_port"),
        ({"database_port": 65536}, "database_port"),
        ({"groups": ["instance", "database"]}, "groups"),
        ({"extra_ingress": [rule(port=None)]}, "extra_ingress[0].port"),
        ({"extra_ingress": [rule(port=100000)]}, "extra_ingress[0].port"),
        ({"extra_ingress": [rule(to_port=10)]}, "extra_ingress[0].to_port"),
        ({"extra_ingress": [rule(cidr=None)]}, "extra_ingress[0]"),
        ({"extra_ingress": [rule(source_group="load_balancer")]}, "extra_ingress[0]"),
        ({"extra_ingress": [rule(group="cache")], "groups": ["load_balancer", "instance"]}, "extra_ingress[0].group"),
        ({"extra_ingress": [rule(protocol="icmp")]}, "extra_ingress[0].port"),
    ],
)
def test_firewall_validation_names_the_option(kw, option):
    with pytest.raises(ValidationError) as err:
        security_groups.validate(fw_params(**kw))
    assert err.value.option == option


def test_check_mode_may_plan_without_a_vpc_yet():
    security_groups.validate(fw_params(vpc_id=None), check_mode=True)
