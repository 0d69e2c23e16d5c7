"""The queue layer (``_layers/queue.py``): validation (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers.queue import (
    argument_spec,
    validate,
)

ACCOUNT = "123456789012"
PREFIX = "arn:aws:sqs:us-east-1:%s:" % ACCOUNT
MAIN, DEAD = "blue-worker", "blue-worker-dead-letter"


def params(**extra):
    spec = argument_spec()
    result = dict((name, option.get("default")) for name, option in spec.items())
    result.update(environment="blue", state="present", tags=None, purge_tags=True, wait=True, wait_timeout=900)
    result.update(extra)
    return result


STATEMENT = {
    "Sid": "FromTopic",
    "Effect": "Allow",
    "Principal": {"AWS": ACCOUNT},
    "Action": "sqs:SendMessage",
    "Resource": PREFIX + MAIN,
    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:%s:topic" % ACCOUNT}},
}


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        ({"name": "jobs.queue"}, "name"),
        ({"name": "a b"}, "name"),
        ({"name": "x" * 64}, "name"),  # blue-x..x-dead-letter is 81 characters
        ({"name": "x" * 59, "fifo": True}, "name"),  # .fifo counts too
        ({"visibility_timeout": 43201}, "visibility_timeout"),
        ({"message_retention": 1209601}, "message_retention"),
        ({"message_retention": 59}, "message_retention"),
        ({"receive_wait_time": 21}, "receive_wait_time"),
        ({"delay_seconds": 901}, "delay_seconds"),
        ({"maximum_message_size": 1023}, "maximum_message_size"),
        ({"max_receive_count": 0}, "max_receive_count"),
        ({"max_receive_count": 1001}, "max_receive_count"),
        ({"dead_letter_retention": 30}, "dead_letter_retention"),
        ({"content_based_deduplication": True}, "content_based_deduplication"),
        ({"kms_key_id": "alias/mine"}, "kms_key_id"),
        ({"kms_data_key_reuse": 600}, "kms_data_key_reuse"),
        ({"encryption": "kms", "kms_data_key_reuse": 59}, "kms_data_key_reuse"),
        ({"encryption": "kms", "kms_key_id": " "}, "kms_key_id"),
        ({"policy": {"Version": "2012-10-17"}}, "policy"),
        ({"policy": {"Statement": [{"Effect": "Allow", "Action": "sqs:*"}]}}, "policy.Statement[0].Principal"),
        (
            {"policy": {"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "sqs:*"}]}},
            "policy.Statement[0].Effect",
        ),
    ],
)
def test_bad_input_names_the_option(extra, option):
    with pytest.raises(ValidationError) as error:
        validate(params(**extra))
    assert error.value.option == option


def test_good_input_passes():
    validate(params())
    validate(params(name="x" * 58, fifo=True, content_based_deduplication=True, encryption="kms"))
    validate(params(name="x" * 63))  # blue-x..x-dead-letter is exactly 80 characters
    validate(params(policy={"Version": "2012-10-17", "Statement": STATEMENT}))
    validate(params(state="absent", max_receive_count=0))  # nothing but the name matters for a delete
