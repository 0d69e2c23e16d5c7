"""CIDR carving: subnets per tier and zone, stable as zones are added (``_engine/cidr.py``, no AWS)."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import cidr
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError


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
