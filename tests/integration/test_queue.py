"""webstack.aws.queue through ansible-playbook on the emulator: create, update, FIFO, drift, neighbours,
delete, bad input.

moto 5.2.5 accepts a RedriveAllowPolicy (CreateQueue, SetQueueAttributes) but never returns it from
GetQueueAttributes; the test emulator (tools/awsemu.py) returns it as SQS does, so the quartets here run with
the module's default (restrict_dead_letter_sources=true) and read the policy back.  Its convergence against
SQS's real answers is also tested with botocore's Stubber through the real engine in
tests/unit/plugins/module_utils/_kinds/test_sqs.py (test_stubber_emulator_gap_*)."""

from __future__ import annotations

import json

import pytest
from helpers import failing_case, quartet, run_task

ENV = "qt"

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "FromTopic",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:us-east-1:123456789012:qt-worker",
        }
    ],
}


def base_args(env=ENV, **extra):
    args = {"environment": env, "tags": {"team": "platform"}}
    args.update(extra)
    return args


def queues(aws, prefix):
    return sorted(u.rsplit("/", 1)[-1] for u in aws.sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []))


def attributes(aws, name):
    url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def tags(aws, name):
    url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return aws.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})


def set_attributes(aws, name, **values):
    url = aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]
    aws.sqs.set_queue_attributes(QueueUrl=url, Attributes=values)


def delete_all(aws, prefix):
    for url in aws.sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        aws.sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def clean(aws):
    delete_all(aws, ENV + "-")
    yield aws
    delete_all(aws, ENV + "-")


def test_create_update_delete_quartets(emulator, clean):
    aws = clean
    args = base_args()

    # create
    runs = quartet(emulator, "queue", args)
    assert runs.first_check.actions() == [("create", "sqs_queue", "dead-letter"), ("create", "sqs_queue", "queue")]
    checked = runs.first_check.result["queue"]
    assert checked["url"] is None and checked["arn"] is None and checked["dead_letter_url"] is None
    assert checked["name"] == "qt-worker" and checked["dead_letter_name"] == "qt-worker-dead-letter"
    main_plan = runs.first_check.plan[1]["fields"]
    assert main_plan["redrive_policy"]["after"] == {
        "deadLetterTargetArn": "(known after apply: sqs_queue dead-letter)",
        "maxReceiveCount": 10,
    }
    out = runs.apply.result["queue"]
    assert out["arn"].endswith(":qt-worker") and out["dead_letter_arn"].endswith(":qt-worker-dead-letter")
    assert out["url"].endswith("/qt-worker") and out["dead_letter_url"].endswith("/qt-worker-dead-letter")
    assert json.loads(out["attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": out["dead_letter_arn"],
        "maxReceiveCount": 10,
    }
    assert runs.again.result["queue"] == out
    # tagged at creation, and all attributes given to CreateQueue; the dead-letter queue's redrive allow policy
    # (restrict_dead_letter_sources, on by default) is set once the queue's ARN is known: nothing else mutates
    assert runs.apply.calls["by_action"]["sqs:CreateQueue"] == 2 and runs.apply.calls["mutating"] == 3
    assert runs.apply.calls["by_action"]["sqs:SetQueueAttributes"] == 1
    assert json.loads(attributes(aws, "qt-worker-dead-letter")["RedriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [out["arn"]],
    }
    # the whole read of a no-op run: one ListQueues, then tags and attributes of each of the two queues
    assert runs.again.calls["by_action"] == {
        "sqs:ListQueues": 1,
        "sqs:ListQueueTags": 2,
        "sqs:GetQueueAttributes": 2,
    }
    assert runs.again.calls["total"] == 5

    # what SQS really holds
    assert queues(aws, "qt-") == ["qt-worker", "qt-worker-dead-letter"]
    main = attributes(aws, "qt-worker")
    assert main["VisibilityTimeout"] == "300" and main["MessageRetentionPeriod"] == "345600"
    assert main["ReceiveMessageWaitTimeSeconds"] == "20" and main["DelaySeconds"] == "0"
    assert main["MaximumMessageSize"] == "262144" and main["SqsManagedSseEnabled"] == "true"
    assert json.loads(main["RedrivePolicy"]) == {"deadLetterTargetArn": out["dead_letter_arn"], "maxReceiveCount": 10}
    assert "Policy" not in main
    dead = attributes(aws, "qt-worker-dead-letter")
    assert dead["MessageRetentionPeriod"] == "1209600" and dead["VisibilityTimeout"] == "300"
    assert "RedrivePolicy" not in dead
    for name, key in (("qt-worker", "queue"), ("qt-worker-dead-letter", "dead-letter")):
        found = tags(aws, name)
        assert found["webstack:environment"] == ENV and found["webstack:layer"] == "queue"
        assert found["webstack:resource"] == key and found["team"] == "platform"

    # update in place: visibility timeout, retries and a queue policy -> one SetQueueAttributes per changed queue
    update = dict(args, visibility_timeout=600, max_receive_count=3, policy=POLICY, tags={"team": "web"})
    runs = quartet(emulator, "queue", update)
    assert runs.first_check.actions() == [("update", "sqs_queue", "dead-letter"), ("update", "sqs_queue", "queue")]
    main_change = runs.first_check.plan[1]["fields"]
    assert sorted(main_change) == ["policy", "redrive_policy", "tags", "visibility_timeout"]
    assert main_change["visibility_timeout"] == {"before": 300, "after": 600}
    assert main_change["redrive_policy"]["after"]["maxReceiveCount"] == 3
    assert sorted(runs.first_check.plan[0]["fields"]) == ["tags", "visibility_timeout"]
    assert runs.apply.calls["by_action"]["sqs:SetQueueAttributes"] == 2
    assert runs.apply.calls["by_action"]["sqs:TagQueue"] == 2
    main = attributes(aws, "qt-worker")
    assert main["VisibilityTimeout"] == "600"
    assert json.loads(main["RedrivePolicy"])["maxReceiveCount"] == 3
    assert json.loads(main["Policy"])["Statement"][0]["Sid"] == "FromTopic"
    assert attributes(aws, "qt-worker-dead-letter")["VisibilityTimeout"] == "600"
    assert tags(aws, "qt-worker")["team"] == "web"

    # delete: the queue first, then its dead-letter queue; nothing left
    runs = quartet(emulator, "queue", {"environment": ENV, "state": "absent"})
    assert runs.first_check.actions() == [("delete", "sqs_queue", "queue"), ("delete", "sqs_queue", "dead-letter")]
    assert runs.apply.result["applied"] == ["delete sqs_queue queue", "delete sqs_queue dead-letter"]
    assert runs.apply.result["queue"] == {}
    assert queues(aws, "qt-") == []


def test_drift_is_put_back(emulator, clean):
    aws = clean
    args = base_args(policy=POLICY)
    run_task(emulator, "queue", args)

    # changed by hand: the dead-letter queue's retention, and the queue's visibility timeout and policy
    set_attributes(aws, "qt-worker-dead-letter", MessageRetentionPeriod="3600")
    other = dict(POLICY, Statement=[dict(POLICY["Statement"][0], Action=["sqs:SendMessage", "sqs:PurgeQueue"])])
    set_attributes(aws, "qt-worker", VisibilityTimeout="45", Policy=json.dumps(other))

    fixed = run_task(emulator, "queue", args, diff=True)
    assert fixed.changed
    assert fixed.actions() == [("update", "sqs_queue", "dead-letter"), ("update", "sqs_queue", "queue")]
    assert fixed.plan[0]["fields"] == {"message_retention": {"before": 3600, "after": 1209600}}
    assert sorted(fixed.plan[1]["fields"]) == ["policy", "visibility_timeout"]
    assert fixed.calls["by_action"]["sqs:SetQueueAttributes"] == 2
    assert attributes(aws, "qt-worker-dead-letter")["MessageRetentionPeriod"] == "1209600"
    main = attributes(aws, "qt-worker")
    assert main["VisibilityTimeout"] == "300"
    assert json.loads(main["Policy"])["Statement"][0]["Action"] == "sqs:SendMessage"

    # a policy added by hand to a queue without one is removed
    run_task(emulator, "queue", base_args())
    set_attributes(aws, "qt-worker-dead-letter", Policy=json.dumps(POLICY))
    fixed = run_task(emulator, "queue", base_args())
    assert fixed.actions() == [("update", "sqs_queue", "dead-letter")]
    assert "Policy" not in attributes(aws, "qt-worker-dead-letter")
    again = run_task(emulator, "queue", base_args())
    assert again.changed is False and again.calls["mutating"] == 0


def test_fifo_and_replacement(emulator, clean):
    aws = clean
    args = base_args(fifo=True, content_based_deduplication=True, encryption="kms")
    runs = quartet(emulator, "queue", args)
    assert runs.first_check.actions() == [("create", "sqs_queue", "dead-letter"), ("create", "sqs_queue", "queue")]
    out = runs.apply.result["queue"]
    assert out["name"] == "qt-worker.fifo" and out["dead_letter_name"] == "qt-worker-dead-letter.fifo"
    assert queues(aws, "qt-") == ["qt-worker-dead-letter.fifo", "qt-worker.fifo"]
    main = attributes(aws, "qt-worker.fifo")
    assert main["FifoQueue"] == "true" and main["ContentBasedDeduplication"] == "true"
    assert main["KmsMasterKeyId"] == "alias/aws/sqs" and main["KmsDataKeyReusePeriodSeconds"] == "300"
    assert json.loads(main["RedrivePolicy"])["deadLetterTargetArn"] == out["dead_letter_arn"]
    assert attributes(aws, "qt-worker-dead-letter.fifo")["FifoQueue"] == "true"

    # back to a standard queue: a replacement, refused without allow_replacement (nothing touched)
    standard = base_args()
    refused = run_task(emulator, "queue", standard, expect_failure=True)
    assert "allow_replacement" in refused.result["msg"]
    assert refused.calls["mutating"] == 0
    assert queues(aws, "qt-") == ["qt-worker-dead-letter.fifo", "qt-worker.fifo"]
    runs = quartet(emulator, "queue", dict(standard, allow_replacement=True))
    assert runs.first_check.actions() == [("replace", "sqs_queue", "dead-letter"), ("replace", "sqs_queue", "queue")]
    assert runs.apply.result["applied"] == [
        "replace sqs_queue queue: old one deleted",
        "replace sqs_queue dead-letter: old one deleted",
        "replace sqs_queue dead-letter",
        "replace sqs_queue queue",
    ]
    assert queues(aws, "qt-") == ["qt-worker", "qt-worker-dead-letter"]
    main = attributes(aws, "qt-worker")
    assert "KmsMasterKeyId" not in main and main["SqsManagedSseEnabled"] == "true" and "FifoQueue" not in main


def test_dead_letter_sources_accepted_at_creation(emulator, clean):
    """The emulator takes the redrive allow policy and shows it back (see the module docstring)."""
    aws = clean
    args = base_args(restrict_dead_letter_sources=True)
    checked = run_task(emulator, "queue", args, check=True)
    allow = checked.plan[0]["fields"]["redrive_allow_policy"]["after"]
    assert allow == {"redrivePermission": "byQueue", "sourceQueueArns": ["(known after apply: sqs_queue queue)"]}
    made = run_task(emulator, "queue", args)
    out = made.result["queue"]
    assert made.result["applied"] == ["create sqs_queue dead-letter", "create sqs_queue queue"]
    # the create of the dead-letter queue sets it once the queue's ARN is known: one SetQueueAttributes
    assert made.calls["by_action"]["sqs:SetQueueAttributes"] == 1
    assert json.loads(out["dead_letter_attributes"]["RedriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [out["arn"]],
    }
    assert queues(aws, "qt-") == ["qt-worker", "qt-worker-dead-letter"]
    # read back as SQS shows it: the next run is a no-op; turned off, the DLQ goes back to allowAll
    assert run_task(emulator, "queue", args).plan == []
    opened = run_task(emulator, "queue", dict(args, restrict_dead_letter_sources=False))
    assert opened.actions() == [("update", "sqs_queue", "dead-letter")]
    assert json.loads(attributes(aws, "qt-worker-dead-letter")["RedriveAllowPolicy"]) == {
        "redrivePermission": "allowAll"
    }


def test_other_environment_with_the_same_prefix_is_untouched(emulator, clean):
    aws = clean
    # "qt-eu"'s queues start with "qt-" too
    run_task(emulator, "queue", base_args(env="qt-eu"))
    runs = quartet(emulator, "queue", base_args())
    assert runs.first_check.actions() == [("create", "sqs_queue", "dead-letter"), ("create", "sqs_queue", "queue")]
    # the neighbour's queues cost one tag read each, nothing more
    assert runs.again.calls["by_action"] == {"sqs:ListQueues": 1, "sqs:ListQueueTags": 4, "sqs:GetQueueAttributes": 2}
    gone = run_task(emulator, "queue", {"environment": ENV, "state": "absent"})
    assert gone.actions() == [("delete", "sqs_queue", "queue"), ("delete", "sqs_queue", "dead-letter")]
    assert queues(aws, "qt-") == ["qt-eu-worker", "qt-eu-worker-dead-letter"]
    assert tags(aws, "qt-eu-worker")["webstack:environment"] == "qt-eu"


BAD_INPUTS = [
    ({"message_retention": 59}, "message_retention"),
    ({"max_receive_count": 0}, "max_receive_count"),
    ({"receive_wait_time": 21}, "receive_wait_time"),
    ({"content_based_deduplication": True}, "content_based_deduplication"),
    ({"kms_key_id": "alias/mine"}, "kms_key_id"),
]


def bad_case(extra, option):
    """The module arguments of one bad-input case."""
    return base_args(**extra)


@pytest.mark.parametrize(("extra", "option"), BAD_INPUTS)
def test_bad_input_is_rejected_before_any_call(emulator, extra, option):
    failed = failing_case(emulator, "queue", [bad_case(*case) for case in BAD_INPUTS], bad_case(extra, option))
    assert failed.result["option"] == option, failed.result
    assert failed.calls["total"] == 0


def test_untagged_queue_with_the_layer_name_is_taken_over(emulator, clean):
    """A queue made by hand under exactly the name the layer gives is tagged and converged, not re-created."""
    aws = clean
    aws.sqs.create_queue(QueueName="qt-worker", Attributes={"VisibilityTimeout": "30"})
    runs = quartet(emulator, "queue", base_args())
    assert runs.first_check.actions() == [("create", "sqs_queue", "dead-letter"), ("update", "sqs_queue", "queue")]
    change = runs.first_check.plan[1]["fields"]
    assert change["visibility_timeout"] == {"before": 30, "after": 300}
    assert change["redrive_policy"]["before"] is None
    assert tags(aws, "qt-worker")["webstack:resource"] == "queue"
    assert attributes(aws, "qt-worker")["VisibilityTimeout"] == "300"
    assert "sqs:CreateQueue" in runs.apply.calls["by_action"] and runs.apply.calls["by_action"]["sqs:CreateQueue"] == 1
