"""How a layer module runs (``_engine/runner.py``): which errors are retried (no AWS)."""

from __future__ import annotations

import pytest


# -- LayerSpec.retry_messages: a code retried only when its message says so ------------------------------------
def test_retry_messages_retry_only_the_matching_message():
    from botocore.exceptions import ClientError

    from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec, retry_decorator

    class Spec(LayerSpec):
        retry_codes = ("NoSuchEntity",)
        retry_messages = (("InvalidParameterValue", "IamInstanceProfile"),)

    def failing(messages):
        calls = []

        def call():
            calls.append(1)
            if len(calls) <= len(messages):
                code, message = messages[len(calls) - 1]
                raise ClientError({"Error": {"Code": code, "Message": message}}, "RunInstances")
            return "ok"

        return call, calls

    retry = retry_decorator(Spec(), delay=0.01, max_delay=0.01)
    call, calls = failing([("InvalidParameterValue", "Value (x) for parameter iamInstanceProfile.name is invalid")])
    assert retry(call)() == "ok" and len(calls) == 2
    call, calls = failing([("NoSuchEntity", "no role"), ("Throttling", "slow down")])
    assert retry(call)() == "ok" and len(calls) == 3
    call, calls = failing([("InvalidParameterValue", "Invalid AMI ID")])
    with pytest.raises(ClientError):
        retry(call)()
    assert len(calls) == 1
    # without retry_messages the codes alone decide, as before
    plain = retry_decorator(LayerSpec(), delay=0.01, max_delay=0.01)
    call, calls = failing([("InvalidParameterValue", "iamInstanceProfile")])
    with pytest.raises(ClientError):
        plain(call)()
    assert len(calls) == 1
