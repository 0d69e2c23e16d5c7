# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The queue layer: the worker tier's SQS queue and its dead-letter queue (Elastic Beanstalk's worker queue
model), with the redrive policy that moves a message to the dead-letter queue after ``max_receive_count``
receives (the worker daemon's MaxRetries)."""

from __future__ import annotations

import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Ref, Unknown, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.sqs import (
    DEAD_LETTER,
    DEAD_LETTER_SUFFIX,
    DELETED_RECENTLY,
    FIFO_SUFFIX,
    INTEGER_ATTRIBUTES,
    QUEUE,
    SqsQueue,
    attribute_values,
    normalise_queue_policy,
    sibling_arn,
)

QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_QUEUE_NAME = 80  # the .fifo suffix included
DEFAULT_KMS_KEY = "alias/aws/sqs"
DEFAULT_KMS_REUSE = 300
MAX_POLICY = 20480  # bytes; SQS's limit on a queue policy

RANGES = (
    ("visibility_timeout", 0, 43200),
    ("message_retention", 60, 1209600),
    ("receive_wait_time", 0, 20),
    ("delay_seconds", 0, 900),
    ("maximum_message_size", 1024, 262144),
    ("max_receive_count", 1, 1000),
    ("dead_letter_retention", 60, 1209600),
)


def argument_spec():
    return dict(
        name=dict(type="str", default="worker"),
        fifo=dict(type="bool", default=False),
        content_based_deduplication=dict(type="bool"),
        visibility_timeout=dict(type="int", default=300),
        message_retention=dict(type="int", default=345600),
        receive_wait_time=dict(type="int", default=20),
        delay_seconds=dict(type="int", default=0),
        maximum_message_size=dict(type="int", default=262144),
        max_receive_count=dict(type="int", default=10),
        dead_letter_retention=dict(type="int", default=1209600),
        encryption=dict(type="str", default="sqs", choices=["sqs", "kms", "none"]),
        kms_key_id=dict(type="str"),
        kms_data_key_reuse=dict(type="int", no_log=False),
        policy=dict(type="dict"),
        restrict_dead_letter_sources=dict(type="bool", default=True),
        allow_replacement=dict(type="bool", default=False),
    )


def queue_names(environment, name, fifo):
    """(queue, dead-letter queue) names: ``<environment>-<name>`` and ``<environment>-<name>-dead-letter``,
    each ending in ``.fifo`` for FIFO queues."""
    suffix = FIFO_SUFFIX if fifo else ""
    base = "%s-%s" % (environment, name)
    return base + suffix, base + DEAD_LETTER_SUFFIX + suffix


def validate_name(environment, name, fifo):
    if not isinstance(name, str) or not QUEUE_NAME.match(name):
        raise ValidationError(
            "name", "%r: use letters, digits, hyphens and underscores only (SQS queue names allow no others)" % (name,)
        )
    longest = queue_names(environment, name, fifo)[1]
    if len(longest) > MAX_QUEUE_NAME:
        raise ValidationError(
            "name",
            "%r makes the dead-letter queue's name %s (%d characters); SQS allows at most %d - shorten the name "
            "or the environment" % (name, longest, len(longest), MAX_QUEUE_NAME),
        )


def validate_policy(policy):
    if policy is None:
        return
    statements = policy.get("Statement")
    if not statements or not isinstance(statements, (list, dict)):
        raise ValidationError("policy", "give a policy document with a Statement (a list of statements)")
    for index, statement in enumerate([statements] if isinstance(statements, dict) else statements):
        option = "policy.Statement[%d]" % index
        if not isinstance(statement, dict):
            raise ValidationError(option, "each statement must be a dict")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValidationError(option + ".Effect", "use Allow or Deny")
        if not (statement.get("Action") or statement.get("NotAction")):
            raise ValidationError(option + ".Action", "give Action (for example sqs:SendMessage)")
        if not (statement.get("Principal") or statement.get("NotPrincipal")):
            raise ValidationError(option + ".Principal", "a queue policy statement needs a Principal")
    try:
        text = attribute_values({"policy": policy}, changed=["policy"])["Policy"]
        normalise_queue_policy(policy)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValidationError("policy", "is not a valid policy document (%s)" % exc) from None
    if len(text.encode("utf-8")) > MAX_POLICY:
        raise ValidationError("policy", "is over %d bytes, the most SQS takes" % MAX_POLICY)


def validate(params, check_mode=False):
    env = params["environment"]
    validate_name(env, params["name"], params["fifo"])
    if params["state"] != "present":
        return
    for option, low, high in RANGES:
        validation.in_range(params[option], option, low, high)
    if params.get("content_based_deduplication") and not params["fifo"]:
        raise ValidationError(
            "content_based_deduplication", "applies to FIFO queues only; set fifo=true or leave it out"
        )
    kms = params["encryption"] == "kms"
    if params.get("kms_key_id") is not None and not kms:
        raise ValidationError("kms_key_id", "is used only with encryption=kms; set encryption=kms or leave it out")
    if params.get("kms_data_key_reuse") is not None and not kms:
        raise ValidationError(
            "kms_data_key_reuse", "is used only with encryption=kms; set encryption=kms or leave it out"
        )
    if kms:
        if params.get("kms_key_id") is not None and not params["kms_key_id"].strip():
            raise ValidationError("kms_key_id", "must not be empty; leave it out for alias/aws/sqs")
        reuse = params.get("kms_data_key_reuse")
        validation.in_range(DEFAULT_KMS_REUSE if reuse is None else reuse, "kms_data_key_reuse", 60, 86400)
    validate_policy(params.get("policy"))


class QueueLayer(LayerSpec):
    layer = "queue"
    result_key = "queue"
    services = ("sqs",)
    # after a delete, real SQS refuses the same name for 60 seconds: a create then is retried with backoff
    retry_codes = (DELETED_RECENTLY,)

    def __init__(self, names=None):
        self.names = dict(names or {})
        self.want = {}

    def kinds(self):
        return [SqsQueue(self.names)]

    def validate(self, params, check_mode):
        validate(params, check_mode)
        if params["state"] == "present":
            main, dead = queue_names(params["environment"], params["name"], params["fifo"])
            self.names.update({QUEUE: main, DEAD_LETTER: dead})

    def desired(self, ctx, params, current):
        main_name, dead_name = queue_names(ctx.environment, params["name"], params["fifo"])
        fifo = params["fifo"]
        kms = params["encryption"] == "kms"
        common = {
            "fifo": fifo,
            "content_based_deduplication": bool(params.get("content_based_deduplication")) if fifo else None,
            "encryption": params["encryption"],
            "kms_key_id": (params.get("kms_key_id") or DEFAULT_KMS_KEY) if kms else None,
            "kms_data_key_reuse": (params.get("kms_data_key_reuse") or DEFAULT_KMS_REUSE) if kms else None,
        }
        for field, _attribute in INTEGER_ATTRIBUTES:
            if field in params:
                common[field] = params[field]
        main = dict(
            common,
            queue_name=main_name,
            redrive_policy={
                "deadLetterTargetArn": Ref("sqs_queue", DEAD_LETTER),
                "maxReceiveCount": params["max_receive_count"],
            },
            redrive_allow_policy=None,
            policy=params.get("policy"),
        )
        allow = None
        if params["restrict_dead_letter_sources"]:
            have = current.get("sqs_queue", {})
            known = [
                c.id for c in (have.get(DEAD_LETTER), have.get(QUEUE)) if c is not None and c.id.startswith("arn:")
            ]
            source = sibling_arn(known[0], main_name) if known else Unknown("sqs_queue %s" % QUEUE)
            allow = {"redrivePermission": "byQueue", "sourceQueueArns": [source]}
        dead = dict(
            common,
            queue_name=dead_name,
            message_retention=params["dead_letter_retention"],
            redrive_policy=None,
            redrive_allow_policy=allow,
            policy=None,
        )
        self.want = {
            "sqs_queue": {
                DEAD_LETTER: Desired(dead, ctx.tags_for(DEAD_LETTER)),
                QUEUE: Desired(main, ctx.tags_for(QUEUE)),
            }
        }
        return self.want

    def outputs(self, ctx, params, ids, current):
        queues = ids.get("sqs_queue", {})
        result = {"environment": ctx.environment}
        for key, prefix in ((QUEUE, ""), (DEAD_LETTER, "dead_letter_")):
            arn = queues.get(key)
            made = (ctx.description("sqs_queue", key, current) or {}) if arn else {}
            fields = self.want["sqs_queue"][key].fields

            def lookup(ref):
                return queues.get(ref.key)

            result[prefix + "name"] = fields["queue_name"]
            result[prefix + "arn"] = arn
            result[prefix + "url"] = made.get("QueueUrl")
            result[prefix + "attributes"] = managed_attributes(fields, lookup)
        return result


def managed_attributes(fields, lookup):
    """The attributes the module manages, as SQS shows them (strings), with the dead-letter queue's ARN
    resolved (null while it is not known: check mode on a new environment)."""
    resolved = {}
    for field, value in fields.items():
        if field == "redrive_policy" and value:
            target = value["deadLetterTargetArn"]
            value = dict(value, deadLetterTargetArn=lookup(target) if isinstance(target, Ref) else target)
        if field == "redrive_allow_policy" and value:
            # still unknown while planning: the queue's own ARN, once it is made (null in check mode)
            value = dict(
                value,
                sourceQueueArns=[
                    lookup(Ref("sqs_queue", QUEUE)) if isinstance(a, Unknown) else a for a in value["sourceQueueArns"]
                ],
            )
        resolved[field] = value
    attributes = attribute_values(resolved, create=True)
    if resolved.get("fifo") is False:
        attributes["FifoQueue"] = "false"
    return attributes
