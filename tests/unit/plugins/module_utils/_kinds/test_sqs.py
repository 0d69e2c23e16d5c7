"""SQS kinds (``_kinds/sqs.py``): attribute normalisation, policy comparison, names, and with botocore's Stubber
the paths the emulator cannot produce: moto 5.2.5 never returns a queue's RedriveAllowPolicy, and never lists a
queue it has deleted."""

from __future__ import annotations

import json

import botocore.session
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import CREATE, UPDATE, Context, Engine, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._kinds.sqs import (
    attribute_values,
    fields_equal,
    normalise_queue_policy,
    normalise_redrive_policy,
    policies_equal,
    queue_fields,
    sibling_arn,
    source_queue_name,
)
from ansible_collections.webstack.aws.plugins.module_utils._layers.queue import (
    QueueLayer,
    argument_spec,
    queue_names,
)

ACCOUNT = "123456789012"
PREFIX = "arn:aws:sqs:us-east-1:%s:" % ACCOUNT
URL = "https://sqs.us-east-1.amazonaws.com/%s/" % ACCOUNT
MAIN, DEAD = "blue-worker", "blue-worker-dead-letter"


def params(**extra):
    spec = argument_spec()
    result = dict((name, option.get("default")) for name, option in spec.items())
    result.update(environment="blue", state="present", tags=None, purge_tags=True, wait=True, wait_timeout=900)
    result.update(extra)
    return result


# -- attribute normalisation -----------------------------------------------------------------------


def test_queue_fields_reads_strings_as_sqs_returns_them():
    fields = queue_fields(
        {
            "QueueArn": PREFIX + MAIN,
            "VisibilityTimeout": "300",
            "MessageRetentionPeriod": "345600",
            "ReceiveMessageWaitTimeSeconds": "20",
            "DelaySeconds": "0",
            "MaximumMessageSize": "262144",
            "SqsManagedSseEnabled": "true",
            "RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":"10"}' % (PREFIX + DEAD),
            "ApproximateNumberOfMessages": "3",
        }
    )
    assert fields == {
        "queue_name": MAIN,
        "fifo": False,
        "content_based_deduplication": None,
        "visibility_timeout": 300,
        "message_retention": 345600,
        "receive_wait_time": 20,
        "delay_seconds": 0,
        "maximum_message_size": 262144,
        "encryption": "sqs",
        "kms_key_id": None,
        "kms_data_key_reuse": None,
        "redrive_policy": {"deadLetterTargetArn": PREFIX + DEAD, "maxReceiveCount": 10},
        "redrive_allow_policy": None,
        "policy": None,
    }


def test_queue_fields_encryption_modes_and_fifo():
    kms = queue_fields(
        {
            "KmsMasterKeyId": "alias/aws/sqs",
            "KmsDataKeyReusePeriodSeconds": "600",
            "SqsManagedSseEnabled": "false",
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
        }
    )
    assert (kms["encryption"], kms["kms_key_id"], kms["kms_data_key_reuse"]) == ("kms", "alias/aws/sqs", 600)
    assert kms["fifo"] is True and kms["content_based_deduplication"] is False
    none = queue_fields({"SqsManagedSseEnabled": "false", "KmsDataKeyReusePeriodSeconds": "300"})
    assert (none["encryption"], none["kms_key_id"], none["kms_data_key_reuse"]) == ("none", None, None)
    # an empty key id is what SQS shows after the key was removed
    assert queue_fields({"KmsMasterKeyId": "", "SqsManagedSseEnabled": "true"})["encryption"] == "sqs"


def test_redrive_policy_counts_compare_as_numbers():
    text = '{"maxReceiveCount": "5", "deadLetterTargetArn": "%s"}' % (PREFIX + DEAD)
    assert normalise_redrive_policy(text) == {"deadLetterTargetArn": PREFIX + DEAD, "maxReceiveCount": 5}
    assert fields_equal(
        "redrive_policy", normalise_redrive_policy(text), {"deadLetterTargetArn": PREFIX + DEAD, "maxReceiveCount": 5}
    )
    assert not fields_equal(
        "redrive_policy", normalise_redrive_policy(text), {"deadLetterTargetArn": PREFIX + DEAD, "maxReceiveCount": 6}
    )
    assert normalise_redrive_policy("") is None and normalise_redrive_policy(None) is None
    assert not fields_equal("redrive_policy", None, {"deadLetterTargetArn": Unknown("dlq"), "maxReceiveCount": 5})


def test_fields_equal_numbers_and_redrive_allow_default():
    assert fields_equal("visibility_timeout", "300", 300)
    assert not fields_equal("visibility_timeout", "30", 300)
    assert fields_equal("redrive_allow_policy", '{"redrivePermission":"allowAll"}', None)
    have = '{"redrivePermission":"byQueue","sourceQueueArns":["%s"]}' % (PREFIX + MAIN)
    assert fields_equal(
        "redrive_allow_policy", have, {"redrivePermission": "byQueue", "sourceQueueArns": [PREFIX + MAIN]}
    )
    assert not fields_equal("redrive_allow_policy", have, None)


# -- policy comparison ---------------------------------------------------------------------------------


STATEMENT = {
    "Sid": "FromTopic",
    "Effect": "Allow",
    "Principal": {"AWS": ACCOUNT},
    "Action": "sqs:SendMessage",
    "Resource": PREFIX + MAIN,
    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:%s:topic" % ACCOUNT}},
}


def test_policy_single_statement_and_strings_equal_lists_and_root_arns():
    asked = {"Version": "2012-10-17", "Statement": STATEMENT}
    stored = {
        "Version": "2012-10-17",
        "Id": PREFIX + MAIN + "/SQSDefaultPolicy",
        "Statement": [
            dict(
                STATEMENT,
                Principal={"AWS": ["arn:aws:iam::%s:root" % ACCOUNT]},
                Action=["sqs:sendmessage"],
                Resource=[PREFIX + MAIN],
                Condition={"ArnEquals": {"aws:SourceArn": ["arn:aws:sns:us-east-1:%s:topic" % ACCOUNT]}},
            )
        ],
    }
    assert policies_equal(json.dumps(stored), asked)
    assert fields_equal("policy", normalise_queue_policy(json.dumps(stored)), asked)


def test_policy_differences_are_seen():
    asked = {"Version": "2012-10-17", "Statement": [STATEMENT]}
    assert not policies_equal(
        json.dumps({"Version": "2012-10-17", "Statement": [dict(STATEMENT, Effect="Deny")]}), asked
    )
    more = dict(STATEMENT, Action=["sqs:SendMessage", "sqs:PurgeQueue"])
    assert not policies_equal({"Version": "2012-10-17", "Statement": [more]}, asked)
    assert not policies_equal(None, asked)
    assert not policies_equal(json.dumps(asked), None)
    # an Id asked for must match
    assert not policies_equal(dict(asked, Id="a"), dict(asked, Id="b"))
    # statement order does not matter; no statements at all is no policy
    other = dict(STATEMENT, Sid="Other", Effect="Deny")
    assert policies_equal({"Statement": [STATEMENT, other]}, {"Statement": [other, STATEMENT]})
    assert policies_equal({"Version": "2012-10-17", "Id": "x", "Statement": []}, None)


# -- what is sent ----------------------------------------------------------------------------------------


def desired_fields(**extra):
    fields = {
        "queue_name": MAIN,
        "fifo": False,
        "content_based_deduplication": None,
        "visibility_timeout": 300,
        "message_retention": 345600,
        "receive_wait_time": 20,
        "delay_seconds": 0,
        "maximum_message_size": 262144,
        "encryption": "sqs",
        "kms_key_id": None,
        "kms_data_key_reuse": None,
        "redrive_policy": {"deadLetterTargetArn": PREFIX + DEAD, "maxReceiveCount": 10},
        "redrive_allow_policy": None,
        "policy": None,
    }
    fields.update(extra)
    return fields


def test_create_attributes_are_complete_and_leave_out_what_is_absent():
    assert attribute_values(desired_fields(), create=True) == {
        "VisibilityTimeout": "300",
        "MessageRetentionPeriod": "345600",
        "ReceiveMessageWaitTimeSeconds": "20",
        "DelaySeconds": "0",
        "MaximumMessageSize": "262144",
        "SqsManagedSseEnabled": "true",
        "RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":10}' % (PREFIX + DEAD),
    }
    fifo = attribute_values(
        desired_fields(
            fifo=True, content_based_deduplication=True, encryption="kms", kms_key_id="k", kms_data_key_reuse=300
        ),
        create=True,
    )
    assert fifo["FifoQueue"] == "true" and fifo["ContentBasedDeduplication"] == "true"
    assert (fifo["KmsMasterKeyId"], fifo["KmsDataKeyReusePeriodSeconds"], fifo["SqsManagedSseEnabled"]) == (
        "k",
        "300",
        "false",
    )


def test_update_sends_only_what_changed_and_clears_what_is_gone():
    fields = desired_fields(visibility_timeout=600)
    assert attribute_values(fields, changed=["visibility_timeout"]) == {"VisibilityTimeout": "600"}
    assert attribute_values(fields, changed=["policy", "redrive_policy"]) == {
        "Policy": "",
        "RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":10}' % (PREFIX + DEAD),
    }
    assert attribute_values(desired_fields(redrive_policy=None), changed=["redrive_policy"]) == {"RedrivePolicy": ""}
    assert attribute_values(desired_fields(), changed=["redrive_allow_policy"]) == {
        "RedriveAllowPolicy": '{"redrivePermission":"allowAll"}'
    }


def test_update_encryption_switches():
    kms = {"encryption": "kms", "kms_key_id": "k", "kms_data_key_reuse": 300}
    # SSE-KMS back to SSE-SQS: the key is removed
    assert attribute_values(desired_fields(), changed=["encryption", "kms_key_id"], before=kms) == {
        "SqsManagedSseEnabled": "true",
        "KmsMasterKeyId": "",
    }
    assert attribute_values(
        desired_fields(encryption="none"), changed=["encryption"], before={"encryption": "sqs"}
    ) == {"SqsManagedSseEnabled": "false"}
    # another key only: just the key
    other = desired_fields(encryption="kms", kms_key_id="k2", kms_data_key_reuse=300)
    assert attribute_values(other, changed=["kms_key_id"], before=kms) == {"KmsMasterKeyId": "k2"}
    # SSE-SQS to SSE-KMS: the whole set
    assert attribute_values(
        other, changed=["encryption", "kms_key_id", "kms_data_key_reuse"], before={"encryption": "sqs"}
    ) == {
        "KmsMasterKeyId": "k2",
        "KmsDataKeyReusePeriodSeconds": "300",
        "SqsManagedSseEnabled": "false",
    }


# -- names ---------------------------------------------------------------------------------------


def test_names():
    assert queue_names("blue", "worker", False) == (MAIN, DEAD)
    assert queue_names("blue", "worker", True) == ("blue-worker.fifo", "blue-worker-dead-letter.fifo")
    assert source_queue_name(DEAD) == MAIN
    assert source_queue_name("blue-worker-dead-letter.fifo") == "blue-worker.fifo"
    assert sibling_arn(PREFIX + DEAD, MAIN) == PREFIX + MAIN


# -- the Stubber: what moto cannot show ---------------------------------------------------------------


TAGS = {"webstack:environment": "blue", "webstack:layer": "queue"}


def tags_of(key):
    return dict(TAGS, **{"webstack:resource": key, "Name": "blue-%s" % key})


def client():
    session = botocore.session.get_session()
    return session.create_client(
        "sqs",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy key; the Stubber answers every call
    )


def stored(name, **extra):
    attributes = {
        "QueueArn": PREFIX + name,
        "VisibilityTimeout": "300",
        "MessageRetentionPeriod": "1209600" if name == DEAD else "345600",
        "ReceiveMessageWaitTimeSeconds": "20",
        "DelaySeconds": "0",
        "MaximumMessageSize": "262144",
        "SqsManagedSseEnabled": "true",
        "ApproximateNumberOfMessages": "0",
    }
    if name == MAIN:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": PREFIX + DEAD, "maxReceiveCount": 10})
    else:
        attributes["RedriveAllowPolicy"] = json.dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [PREFIX + MAIN]}
        )
    attributes.update(extra)
    return {"Attributes": dict((k, v) for k, v in attributes.items() if v is not None)}


def read_stubs(stub, queues, dead_extra=None, listed=None):
    listed = listed if listed is not None else [URL + DEAD, URL + MAIN]
    stub.add_response("list_queues", {"QueueUrls": listed}, {"QueueNamePrefix": "blue-", "MaxResults": 1000})
    for name in sorted(queues):  # read in URL order
        key = "dead-letter" if name == DEAD else "queue"
        stub.add_response("list_queue_tags", {"Tags": tags_of(key)}, {"QueueUrl": URL + name})
        extra = (dead_extra or {}) if name == DEAD else {}
        stub.add_response(
            "get_queue_attributes", stored(name, **extra), {"QueueUrl": URL + name, "AttributeNames": ["All"]}
        )


def run(stub, sqs, values, apply=True):
    ctx = Context("blue", "queue", clients={"sqs": sqs}, sleep=lambda s: None)
    layer = QueueLayer()
    layer.validate(values, False)
    with stub:
        engine = Engine(ctx, layer.kinds())
        current = engine.read()
        desired = layer.desired(ctx, values, current)
        plan = engine.plan(desired)
        ids = engine.apply(plan, desired) if apply and plan.changed else None
        if ids is None:
            ids = dict((name, dict((k, c.id) for k, c in found.items())) for name, found in current.items())
        out = layer.outputs(ctx, values, ids, current)
        stub.assert_no_pending_responses()
    return plan, out, ctx


def test_stubber_redrive_allow_policy_as_sqs_returns_it_is_a_no_op():
    sqs = client()
    stub = Stubber(sqs)
    read_stubs(stub, [DEAD, MAIN])
    plan, out, ctx = run(stub, sqs, params(restrict_dead_letter_sources=True))
    assert plan.changes == [] and ctx.applied == []
    assert json.loads(out["dead_letter_attributes"]["RedriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [PREFIX + MAIN],
    }
    assert out["url"] == URL + MAIN and out["dead_letter_arn"] == PREFIX + DEAD


def test_stubber_missing_redrive_allow_policy_is_set_alone():
    sqs = client()
    stub = Stubber(sqs)
    read_stubs(stub, [DEAD, MAIN], dead_extra={"RedriveAllowPolicy": None})
    stub.add_response(
        "set_queue_attributes",
        {},
        {
            "QueueUrl": URL + DEAD,
            "Attributes": {
                "RedriveAllowPolicy": '{"redrivePermission":"byQueue","sourceQueueArns":["%s"]}' % (PREFIX + MAIN)
            },
        },
    )
    plan, _out, _ctx = run(stub, sqs, params(restrict_dead_letter_sources=True))
    assert [(c.action, c.key, sorted(c.fields)) for c in plan.changes] == [
        (UPDATE, "dead-letter", ["redrive_allow_policy"])
    ]


def test_stubber_unrestricted_dead_letter_queue_goes_back_to_allow_all():
    sqs = client()
    stub = Stubber(sqs)
    read_stubs(stub, [DEAD, MAIN])
    stub.add_response(
        "set_queue_attributes",
        {},
        {"QueueUrl": URL + DEAD, "Attributes": {"RedriveAllowPolicy": '{"redrivePermission":"allowAll"}'}},
    )
    plan, _out, _ctx = run(stub, sqs, params(restrict_dead_letter_sources=False))
    assert [(c.action, c.key) for c in plan.changes] == [(UPDATE, "dead-letter")]


def test_stubber_create_sets_the_redrive_allow_policy_once_the_arn_is_known():
    sqs = client()
    stub = Stubber(sqs)
    stub.add_response("list_queues", {}, {"QueueNamePrefix": "blue-", "MaxResults": 1000})
    common = {
        "VisibilityTimeout": "300",
        "ReceiveMessageWaitTimeSeconds": "20",
        "DelaySeconds": "0",
        "MaximumMessageSize": "262144",
        "SqsManagedSseEnabled": "true",
    }
    dead_tags = tags_of("dead-letter")
    stub.add_response(
        "create_queue",
        {"QueueUrl": URL + DEAD},
        {"QueueName": DEAD, "Attributes": dict(common, MessageRetentionPeriod="1209600"), "tags": dead_tags},
    )
    stub.add_response(
        "get_queue_attributes",
        {"Attributes": {"QueueArn": PREFIX + DEAD}},
        {"QueueUrl": URL + DEAD, "AttributeNames": ["QueueArn"]},
    )
    stub.add_response(
        "set_queue_attributes",
        {},
        {
            "QueueUrl": URL + DEAD,
            "Attributes": {
                "RedriveAllowPolicy": '{"redrivePermission":"byQueue","sourceQueueArns":["%s"]}' % (PREFIX + MAIN)
            },
        },
    )
    redrive = '{"deadLetterTargetArn":"%s","maxReceiveCount":10}' % (PREFIX + DEAD)
    stub.add_response(
        "create_queue",
        {"QueueUrl": URL + MAIN},
        {
            "QueueName": MAIN,
            "Attributes": dict(common, MessageRetentionPeriod="345600", RedrivePolicy=redrive),
            "tags": tags_of("queue"),
        },
    )
    stub.add_response(
        "get_queue_attributes",
        {"Attributes": {"QueueArn": PREFIX + MAIN}},
        {"QueueUrl": URL + MAIN, "AttributeNames": ["QueueArn"]},
    )
    plan, out, _ctx = run(stub, sqs, params(restrict_dead_letter_sources=True))
    assert [(c.action, c.key) for c in plan.changes] == [(CREATE, "dead-letter"), (CREATE, "queue")]
    assert out["arn"] == PREFIX + MAIN and out["url"] == URL + MAIN and out["dead_letter_url"] == URL + DEAD


def test_stubber_a_queue_deleted_a_moment_ago_and_a_neighbour_are_skipped():
    sqs = client()
    stub = Stubber(sqs)
    gone, neighbour = "blue-old", "blue-eu-worker"
    stub.add_response(
        "list_queues",
        {"QueueUrls": [URL + DEAD, URL + MAIN, URL + gone, URL + neighbour]},
        {"QueueNamePrefix": "blue-", "MaxResults": 1000},
    )
    # sorted by URL: blue-eu-worker, blue-old, blue-worker, blue-worker-dead-letter
    stub.add_response(
        "list_queue_tags",
        {"Tags": {"webstack:environment": "blue-eu", "webstack:layer": "queue"}},
        {"QueueUrl": URL + neighbour},
    )
    stub.add_client_error(
        "list_queue_tags",
        service_error_code="AWS.SimpleQueueService.NonExistentQueue",
        http_status_code=400,
        expected_params={"QueueUrl": URL + gone},
    )
    for name in (MAIN, DEAD):
        key = "dead-letter" if name == DEAD else "queue"
        stub.add_response("list_queue_tags", {"Tags": tags_of(key)}, {"QueueUrl": URL + name})
        stub.add_response("get_queue_attributes", stored(name), {"QueueUrl": URL + name, "AttributeNames": ["All"]})
    plan, _out, _ctx = run(stub, sqs, params(restrict_dead_letter_sources=True), apply=False)
    assert plan.changes == []


def test_stubber_emulator_gap_default_restricts_dead_letter_sources_through_the_engine():
    """Emulator gap: moto never returns a RedriveAllowPolicy (tools/awsemu.py patches it to, as SQS does).  The
    default (restrict_dead_letter_sources=true) against SQS's real answers, through the real engine: a DLQ
    without the policy gets it (alone, one SetQueueAttributes); one with it, as SQS returns it, is a no-op."""
    assert argument_spec()["restrict_dead_letter_sources"]["default"] is True
    sqs = client()
    stub = Stubber(sqs)
    read_stubs(stub, [DEAD, MAIN], dead_extra={"RedriveAllowPolicy": None})
    stub.add_response(
        "set_queue_attributes",
        {},
        {
            "QueueUrl": URL + DEAD,
            "Attributes": {
                "RedriveAllowPolicy": '{"redrivePermission":"byQueue","sourceQueueArns":["%s"]}' % (PREFIX + MAIN)
            },
        },
    )
    plan, _out, ctx = run(stub, sqs, params())
    assert [(c.action, c.key, sorted(c.fields)) for c in plan.changes] == [
        (UPDATE, "dead-letter", ["redrive_allow_policy"])
    ]
    assert ctx.applied == ["update sqs_queue dead-letter (redrive_allow_policy)"]
    sqs = client()
    stub = Stubber(sqs)
    read_stubs(stub, [DEAD, MAIN])
    plan, out, ctx = run(stub, sqs, params())
    assert plan.changes == [] and ctx.applied == []
    assert json.loads(out["dead_letter_attributes"]["RedriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [PREFIX + MAIN],
    }
