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


def test_collect_raises_every_problem_together_in_order():
    def bad(option):
        def check():
            raise ValidationError(option, "is wrong")

        return check

    with pytest.raises(ValidationError) as caught:
        validation.collect(bad("a"), lambda: None, bad("b.c"))
    assert [e.option for e in caught.value.errors] == ["a", "b.c"]
    assert caught.value.option == "a"
    assert str(caught.value) == "a: is wrong; b.c: is wrong"


def test_collect_of_one_problem_is_that_problem_and_of_none_is_nothing():
    def check():
        raise ValidationError("port", "is wrong")

    with pytest.raises(ValidationError) as caught:
        validation.collect(check)
    assert caught.value.__class__ is ValidationError and caught.value.errors == [caught.value]
    validation.collect(lambda: None)
