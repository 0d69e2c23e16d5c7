"""CIDR carving and input validation (no AWS)."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import cidr, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers import network, security_groups


def test_carve_a_16_into_21s_per_tier_and_zone():
    blocks = cidr.carve("10.0.0.0/16", 2)
    assert blocks == {
        "public": ["10.0.0.0/21", "10.0.8.0/21"],
        "private": ["10.0.64.0/21", "10.0.72.0/21"],
        "database": ["10.0.128.0/21", "10.0.136.0/21"],
    }


def test_carving_is_stable_when_zones_are_added():
    two, three = cidr.carve("10.0.0.0/16", 2), cidr.carve("10.0.0.0/16", 3)
    for tier in cidr.TIERS:
        assert three[tier][:2] == two[tier]


@pytest.mark.parametrize("vpc,azs", [("10.0.0.0/16", 8), ("172.16.0.0/20", 3), ("192.168.0.0/23", 2)])
def test_carved_subnets_never_overlap_and_stay_inside(vpc, azs):
    blocks = [ipaddress.ip_network(b) for tier in cidr.carve(vpc, azs).values() for b in tier]
    for i, one in enumerate(blocks):
        assert one.subnet_of(ipaddress.ip_network(vpc))
        for other in blocks[i + 1 :]:
            assert not one.overlaps(other)


def test_too_small_vpc_names_the_option_and_the_fix():
    with pytest.raises(ValidationError) as err:
        cidr.carve("10.0.0.0/24", 2)
    assert err.value.option == "cidr_block"
    assert "/23 or larger" in str(err.value)


def net_params(**kw):
    params = {"cidr_block": "10.0.0.0/16", "az_count": None, "availability_zones": None, "subnets": None}
    params.update(kw)
    return params


@pytest.mark.parametrize(
    "kw,option,words",
    [
        ({"cidr_block": "10.0.0.0/33"}, "cidr_block", "not a valid IPv4 CIDR"),
        ({"cidr_block": "10.0.0.1/16"}, "cidr_block", "host bits"),
        ({"cidr_block": "10.0.0.0/8"}, "cidr_block", "/16 to /28"),
        ({"cidr_block": "10.0.0.0/24"}, "cidr_block", "too small"),
        ({"az_count": 0}, "az_count", "out of range"),
        ({"az_count": 9}, "az_count", "out of range"),
        ({"availability_zones": ["us-east-1a", "us-east-1a"]}, "availability_zones", "twice"),
        ({"availability_zones": ["us-east-1a"], "az_count": 2}, "az_count", "give one or the other"),
        (
            {
                "subnets": {
                    "public": ["10.0.0.0/24"],
                    "private": ["10.0.1.0/24", "10.0.2.0/24"],
                    "database": ["10.0.3.0/24", "10.0.4.0/24"],
                }
            },
            "subnets.public",
            "one per zone",
        ),
        (
            {
                "subnets": {
                    "public": ["10.0.0.0/24", "10.0.1.0/24"],
                    "private": ["10.0.1.0/25", "10.0.2.0/24"],
                    "database": ["10.0.3.0/24", "10.0.4.0/24"],
                }
            },
            "subnets",
            "overlaps",
        ),
        (
            {
                "subnets": {
                    "public": ["10.9.0.0/24", "10.0.1.0/24"],
                    "private": ["10.0.2.0/24", "10.0.3.0/24"],
                    "database": ["10.0.4.0/24", "10.0.5.0/24"],
                }
            },
            "subnets.public",
            "outside the VPC",
        ),
        (
            {
                "subnets": {
                    "public": ["10.0.0.0/29", "10.0.1.0/24"],
                    "private": ["10.0.2.0/24", "10.0.3.0/24"],
                    "database": ["10.0.4.0/24", "10.0.5.0/24"],
                }
            },
            "subnets.public",
            "/16 to /28",
        ),
    ],
)
def test_network_validation_names_the_option(kw, option, words):
    with pytest.raises(ValidationError) as err:
        network.validate(net_params(**kw))
    assert err.value.option == option
    assert words in str(err.value)


def test_explicit_subnets_are_used_as_given():
    subnets = {
        "public": ["10.0.0.0/24", "10.0.1.0/24"],
        "private": ["10.0.2.0/23", "10.0.4.0/23"],
        "database": ["10.0.6.0/24", "10.0.7.0/24"],
    }
    assert network.validate(net_params(subnets=subnets)) == subnets


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


@pytest.mark.parametrize("name", ["Shop", "1shop", "shop-", "shop--prod", "a", "x" * 41, "shop_prod"])
def test_bad_environment_names(name):
    with pytest.raises(ValidationError) as err:
        validation.environment_name(name)
    assert err.value.option == "environment"


@pytest.mark.parametrize("name", ["ab", "shop-prod", "s3-worker-2"])
def test_good_environment_names(name):
    assert validation.environment_name(name) == name
