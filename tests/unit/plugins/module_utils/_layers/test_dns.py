"""The dns layer (``_layers/dns.py``): swap targets, the records scope, relative and absolute names (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import EngineError
from ansible_collections.webstack.aws.plugins.module_utils._layers import dns


@pytest.mark.parametrize(
    "own_current,peer_current,swapped,expected",
    [
        ("blue-lb", "green-lb", True, ("green-lb", "blue-lb")),
        ("green-lb", "blue-lb", True, ("green-lb", "blue-lb")),  # already swapped: the same mapping, no change
        ("green-lb", "blue-lb", False, ("blue-lb", "green-lb")),
        ("blue-lb", "green-lb", False, ("blue-lb", "green-lb")),
    ],
)
def test_swap_targets_are_a_mapping_not_a_toggle(own_current, peer_current, swapped, expected):
    assert dns.swap_targets("Blue-LB.", own_current, peer_current, swapped, "blue", "green") == expected


def test_swap_refuses_when_no_side_points_to_this_environment():
    with pytest.raises(EngineError, match="without swap first"):
        dns.swap_targets("blue-lb", "x-lb", "y-lb", True, "blue", "green")


def dns_params(**kw):
    params = dict(
        environment="blue",
        state="present",
        domain="example.com",
        load_balancer_dns_name=None,
        load_balancer_hosted_zone_id=None,
        api_name="api",
        records=None,
        swap=None,
    )
    params.update(kw)
    return params


def test_dns_scope_leaves_omitted_groups_alone():
    layer = dns.DnsLayer()
    layer.validate(dns_params(records=[]), False)
    scope = layer._scope()
    assert scope("cdn.example.com.", "A") is True
    assert scope("api.example.com.", "A") is False  # no load_balancer_dns_name: left alone
    assert scope("blue.example.com.", "CNAME") is False


def test_dns_relative_and_absolute_names():
    assert dns.absolute("cdn", "example.com") == "cdn.example.com."
    assert dns.absolute("@", "example.com") == "example.com."
    assert dns.absolute("x.example.com", "example.com") == "x.example.com."
