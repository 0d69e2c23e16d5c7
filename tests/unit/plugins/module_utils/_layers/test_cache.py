"""The cache layer (``_layers/cache.py``): validation and the transit-encryption steps (no AWS)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elasticache import final_snapshot_name
from ansible_collections.webstack.aws.plugins.module_utils._layers.cache import transit_step, validate

ENV = "cct"
SUBNETS = ["subnet-0aaa", "subnet-0bbb"]
SG = "sg-0123456789abcdef0"
TOKEN = "Sup3r-secret-t0ken-unit"  # noqa: S105 - a test token, checked to never show
WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)  # noqa: UP017 - older Pythons too


def params(**more):
    found = {
        "environment": ENV,
        "state": "present",
        "subnets": SUBNETS,
        "security_groups": [SG],
        "engine": "redis",
        "engine_version": None,
        "node_type": "cache.t4g.micro",
        "replicas": 1,
        "port": 6379,
        "at_rest_encryption": True,
        "transit_encryption": True,
        "auth_token": None,
        "update_auth_token": "on_create",
        "snapshot_retention": 1,
        "snapshot_window": None,
        "maintenance_window": None,
        "apply_immediately": False,
        "final_snapshot": True,
        "allow_replacement": False,
    }
    found.update(more)
    return found


# -- validation (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "more,option",
    [
        ({"replicas": 6}, "replicas"),
        ({"replicas": -1}, "replicas"),
        ({"snapshot_retention": 36}, "snapshot_retention"),
        ({"node_type": "cache.t4g"}, "node_type"),
        ({"node_type": "m5.large"}, "node_type"),
        ({"engine_version": "7.x"}, "engine_version"),
        ({"engine_version": "3.2"}, "engine_version"),
        ({"port": 0}, "port"),
        ({"auth_token": TOKEN, "transit_encryption": False}, "auth_token"),
        ({"auth_token": "x" * 15}, "auth_token"),
        ({"auth_token": "x" * 129}, "auth_token"),
        ({"auth_token": "with space inside token"}, "auth_token"),
        ({"auth_token": "with/slash-inside-token"}, "auth_token"),
        ({"auth_token": 'with"quote-inside-token'}, "auth_token"),
        ({"auth_token": "with\u00e9-non-ascii-token"}, "auth_token"),
        ({"snapshot_window": "5:00-6:00"}, "snapshot_window"),
        ({"snapshot_window": "05:00-05:30"}, "snapshot_window"),
        ({"snapshot_window": "24:00-01:00"}, "snapshot_window"),
        ({"maintenance_window": "sun:05:00"}, "maintenance_window"),
        ({"maintenance_window": "xyz:05:00-xyz:06:00"}, "maintenance_window"),
        ({"maintenance_window": "sun:05:00-tue:06:00"}, "maintenance_window"),
        ({"snapshot_window": "23:30-00:30", "maintenance_window": "mon:00:00-mon:01:00"}, "snapshot_window"),
        ({"update_auth_token": "always"}, "update_auth_token"),
        ({"security_groups": []}, "security_groups"),
        ({"environment": "a" * 41}, "environment"),
    ],
)
def test_validation_names_the_option(more, option):
    with pytest.raises(ValidationError) as raised:
        validate(params(**more))
    assert raised.value.option == option
    assert TOKEN not in str(raised.value)


def test_validation_accepts_good_input_and_check_mode_without_ids():
    validate(params(auth_token=TOKEN, snapshot_window="23:00-00:30", maintenance_window="sat:01:00-sat:03:00"))
    validate(params(engine="valkey", engine_version="8.1", node_type="cache.r7g.2xlarge", replicas=5))
    validate(params(subnets=None, security_groups=None), check_mode=True)
    validate(params(state="absent", subnets=None, security_groups=None, replicas=99))


def test_transit_steps_and_snapshot_names():
    assert [transit_step(s, True) for s in ("disabled", "preferred", "required")] == [
        "preferred",
        "required",
        "required",
    ]
    assert [transit_step(s, False) for s in ("disabled", "preferred", "required")] == [
        "disabled",
        "disabled",
        "preferred",
    ]
    assert final_snapshot_name("cct", WHEN) == "cct-final-20260101000000"
