"""The network layer (``_layers/network.py``): validation and explicit subnets (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers import network


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
