"""Shared input validation (``_engine/validation.py``): environment names (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError


@pytest.mark.parametrize("name", ["Shop", "1shop", "shop-", "shop--prod", "a", "x" * 41, "shop_prod"])
def test_bad_environment_names(name):
    with pytest.raises(ValidationError) as err:
        validation.environment_name(name)
    assert err.value.option == "environment"


@pytest.mark.parametrize("name", ["ab", "shop-prod", "s3-worker-2"])
def test_good_environment_names(name):
    assert validation.environment_name(name) == name
