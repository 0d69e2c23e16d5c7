# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQS resource kind: the worker queue and its dead-letter queue.

The queues of an environment are found with one (paged) ListQueues by the name prefix ``<environment>-``;
each candidate's tags come from its ListQueueTags, and only the environment's own (tag
``webstack:environment`` equal to the environment, so ``prod`` never picks ``prod-eu``'s queues) are read
further, with one GetQueueAttributes(All).  A no-op run of the layer makes 1 + 2 x 2 = 5 calls.

Attributes are compared as the module's fields (snake_case, numbers as integers, policies as parsed and
normalised JSON) and converge exactly: an update sends only the attributes that differ, in one
SetQueueAttributes.
"""

from __future__ import annotations

import json

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = Exception

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_ENVIRONMENT,
    TAG_RESOURCE,
    Current,
    Kind,
    Unknown,
    contains_unknown,
    not_found,
    owned,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.iam import normalise_policy

SERVICE = "sqs"
QUEUE = "queue"
DEAD_LETTER = "dead-letter"
DEAD_LETTER_SUFFIX = "-dead-letter"
FIFO_SUFFIX = ".fifo"
NOT_FOUND_CODES = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
# Real SQS refuses to make a queue again under a name deleted less than 60 seconds ago.
DELETED_RECENTLY = "AWS.SimpleQueueService.QueueDeletedRecently"
ALLOW_ALL = {"redrivePermission": "allowAll"}

# field name -> SQS attribute name, for the plain integer attributes
INTEGER_ATTRIBUTES = (
    ("visibility_timeout", "VisibilityTimeout"),
    ("message_retention", "MessageRetentionPeriod"),
    ("receive_wait_time", "ReceiveMessageWaitTimeSeconds"),
    ("delay_seconds", "DelaySeconds"),
    ("maximum_message_size", "MaximumMessageSize"),
)
INTEGER_FIELDS = tuple(f for f, _a in INTEGER_ATTRIBUTES) + ("kms_data_key_reuse",)
ENCRYPTION_FIELDS = ("encryption", "kms_key_id", "kms_data_key_reuse")
FIELDS = (
    "queue_name",
    "fifo",
    "content_based_deduplication",
    "visibility_timeout",
    "message_retention",
    "receive_wait_time",
    "delay_seconds",
    "maximum_message_size",
    "encryption",
    "kms_key_id",
    "kms_data_key_reuse",
    "redrive_policy",
    "redrive_allow_policy",
    "policy",
)


def queue_name_from_url(url):
    return url.rstrip("/").rsplit("/", 1)[-1]


def source_queue_name(dead_letter_name):
    """The main queue's name from its dead-letter queue's (``x-dead-letter[.fifo]`` -> ``x[.fifo]``)."""
    fifo = dead_letter_name.endswith(FIFO_SUFFIX)
    base = dead_letter_name[: -len(FIFO_SUFFIX)] if fifo else dead_letter_name
    if base.endswith(DEAD_LETTER_SUFFIX):
        base = base[: -len(DEAD_LETTER_SUFFIX)]
    return base + (FIFO_SUFFIX if fifo else "")


def sibling_arn(arn, name):
    """The ARN of queue ``name`` in the same account and region as the queue ``arn``."""
    return "%s:%s" % (arn.rsplit(":", 1)[0], name)


def decode_json(value):
    """An attribute holding JSON (a policy, a redrive policy) as a dict; None when absent or empty."""
    if value is None or isinstance(value, dict):
        return value or None
    text = value.strip()
    if not text:
        return None
    return json.loads(text)


def as_bool(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def as_int(value):
    if value is None or value == "":
        return None
    return int(value)


def normalise_redrive_policy(value):
    """A redrive policy as {deadLetterTargetArn, maxReceiveCount (int)}; None when there is none."""
    policy = decode_json(value)
    if not policy:
        return None
    result = {"deadLetterTargetArn": policy.get("deadLetterTargetArn")}
    count = policy.get("maxReceiveCount")
    result["maxReceiveCount"] = count if isinstance(count, Unknown) else as_int(count)
    return result


def normalise_redrive_allow_policy(value):
    """A redrive allow policy; None for none at all and for its default (``allowAll``)."""
    policy = decode_json(value)
    if not policy or policy == ALLOW_ALL:
        return None
    result = {"redrivePermission": policy.get("redrivePermission")}
    if policy.get("sourceQueueArns") is not None:
        arns = policy["sourceQueueArns"]
        result["sourceQueueArns"] = arns if contains_unknown(arns) else sorted(arns)
    return result


def principal_arn(value):
    """SQS stores an account id given as a principal as the account's root ARN."""
    if isinstance(value, str) and len(value) == 12 and value.isdigit():
        return "arn:aws:iam::%s:root" % value
    return value


def normalise_queue_policy(value):
    """A queue policy in canonical form (see iam.normalise_policy), principals' account ids as root ARNs;
    None for no policy (also for one without statements, which is what SQS shows when there is none)."""
    document = decode_json(value)
    if not document:
        return None
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    if not statements:
        return None
    fixed = []
    for statement in statements:
        statement = dict(statement)
        for key in ("Principal", "NotPrincipal"):
            principal = statement.get(key)
            if isinstance(principal, dict) and "AWS" in principal:
                accounts = principal["AWS"]
                accounts = [accounts] if isinstance(accounts, str) else list(accounts)
                statement[key] = dict(principal, AWS=[principal_arn(a) for a in accounts])
        fixed.append(statement)
    return normalise_policy(dict(document, Statement=fixed), fold_case=True)


def policies_equal(before, after):
    """Whether two queue policies are the same; an Id SQS may have added counts only if one is asked for."""
    have, want = normalise_queue_policy(before), normalise_queue_policy(after)
    if have is None or want is None:
        return have is None and want is None
    if "Id" not in want:
        have.pop("Id", None)
    return have == want


def encryption_of(attributes):
    if attributes.get("KmsMasterKeyId"):
        return "kms"
    if as_bool(attributes.get("SqsManagedSseEnabled")):
        return "sqs"
    return "none"


def queue_fields(attributes):
    """The comparable fields of a queue, from GetQueueAttributes(All) (strings, as SQS returns them)."""
    fifo = as_bool(attributes.get("FifoQueue")) or False
    encryption = encryption_of(attributes)
    fields = {
        "queue_name": (attributes.get("QueueArn") or "").rsplit(":", 1)[-1] or None,
        "fifo": fifo,
        "content_based_deduplication": as_bool(attributes.get("ContentBasedDeduplication")) if fifo else None,
        "encryption": encryption,
        "kms_key_id": attributes.get("KmsMasterKeyId") if encryption == "kms" else None,
        "kms_data_key_reuse": as_int(attributes.get("KmsDataKeyReusePeriodSeconds")) if encryption == "kms" else None,
        "redrive_policy": normalise_redrive_policy(attributes.get("RedrivePolicy")),
        "redrive_allow_policy": normalise_redrive_allow_policy(attributes.get("RedriveAllowPolicy")),
        "policy": normalise_queue_policy(attributes.get("Policy")),
    }
    for field, attribute in INTEGER_ATTRIBUTES:
        fields[field] = as_int(attributes.get(attribute))
    return fields


def fields_equal(field, before, after):
    if contains_unknown(after):
        return False
    if field == "policy":
        return policies_equal(before, after)
    if field == "redrive_policy":
        return normalise_redrive_policy(before) == normalise_redrive_policy(after)
    if field == "redrive_allow_policy":
        return normalise_redrive_allow_policy(before) == normalise_redrive_allow_policy(after)
    if field in INTEGER_FIELDS:
        return as_int(before) == as_int(after)
    if field in ("fifo", "content_based_deduplication"):
        return bool(before) == bool(after)
    if field == "kms_key_id":
        return (before or None) == (after or None)
    return before == after


def dump(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def encryption_attributes(fields, before=None):
    """The encryption attributes for the desired mode; ``before``: the current fields (to clear a KMS key)."""
    mode = fields.get("encryption") or "sqs"
    if mode == "kms":
        return {
            "KmsMasterKeyId": fields["kms_key_id"],
            "KmsDataKeyReusePeriodSeconds": str(fields["kms_data_key_reuse"]),
            "SqsManagedSseEnabled": "false",
        }
    result = {"SqsManagedSseEnabled": "true" if mode == "sqs" else "false"}
    if before is not None and before.get("encryption") == "kms":
        result["KmsMasterKeyId"] = ""
    return result


def encryption_values(fields, wanted, before, create):
    """The encryption attributes to send (an update of one KMS setting sends only that one)."""
    encryption = encryption_attributes(fields, before)
    if not create and fields.get("encryption") == "kms" and before and before.get("encryption") == "kms":
        for field, attribute in (
            ("kms_key_id", "KmsMasterKeyId"),
            ("kms_data_key_reuse", "KmsDataKeyReusePeriodSeconds"),
        ):
            if field not in wanted:
                encryption.pop(attribute)
        encryption.pop("SqsManagedSseEnabled")
    return encryption


def policy_values(fields, wanted, create):
    """RedrivePolicy, Policy and RedriveAllowPolicy to send (an update clears one no longer wanted)."""
    result = {}
    if "redrive_policy" in wanted:
        policy = fields.get("redrive_policy")
        if policy:
            result["RedrivePolicy"] = dump(normalise_redrive_policy(policy))
        elif not create:
            result["RedrivePolicy"] = ""
    if "policy" in wanted:
        if fields.get("policy"):
            result["Policy"] = dump(fields["policy"])
        elif not create:
            result["Policy"] = ""
    allow = fields.get("redrive_allow_policy")
    if "redrive_allow_policy" in wanted and not contains_unknown(allow):
        if allow:
            result["RedriveAllowPolicy"] = dump(allow)
        elif not create:
            result["RedriveAllowPolicy"] = dump(ALLOW_ALL)
    return result


def attribute_values(fields, changed=None, before=None, create=False):
    """SetQueueAttributes / CreateQueue attributes for the resolved ``fields``: all of them on create,
    else only those of the ``changed`` fields.  A redrive allow policy still unknown (it names the main
    queue, made after its dead-letter queue) is left out; ``create`` sets it once the ARN is known."""
    wanted = set(FIELDS if changed is None else changed)
    result = {}
    for field, attribute in INTEGER_ATTRIBUTES:
        if field in wanted:
            result[attribute] = str(fields[field])
    if fields.get("fifo"):
        if create:
            result["FifoQueue"] = "true"
        if "content_based_deduplication" in wanted:
            result["ContentBasedDeduplication"] = "true" if fields.get("content_based_deduplication") else "false"
    if wanted.intersection(ENCRYPTION_FIELDS):
        result.update(encryption_values(fields, wanted, before, create))
    result.update(policy_values(fields, wanted, create))
    return result


class SqsQueue(Kind):
    """An SQS queue: the worker queue (key ``queue``) or its dead-letter queue (key ``dead-letter``).

    The id is the queue's ARN (what a redrive policy names); the URL is in ``raw``.  ``names``: key -> the
    queue name the layer gives, so an untagged queue with exactly that name (made by hand, or by an older
    version) is taken over (tagged and converged) instead of failing the create."""

    name = "sqs_queue"
    create_only = ("queue_name", "fifo")
    updatable = tuple(f for f in FIELDS if f not in ("queue_name", "fifo"))

    def __init__(self, names=None):
        self.names = dict(names or {})

    def sort_keys(self, keys):
        # the dead-letter queue first: the worker queue's redrive policy names it
        return sorted(keys, key=lambda k: (k != DEAD_LETTER, k))

    def read(self, ctx):
        prefix = ctx.environment + "-"
        adoptable = dict((name, key) for key, name in self.names.items())
        found = []
        urls = ctx.paginate(SERVICE, "list_queues", "QueueUrls", QueueNamePrefix=prefix, MaxResults=1000)
        for url in sorted(urls):
            name = queue_name_from_url(url)
            if not name.startswith(prefix):
                continue
            try:
                tags = ctx.call(SERVICE, "list_queue_tags", QueueUrl=url).get("Tags") or {}
                if not owned(ctx, tags) and not (name in adoptable and TAG_ENVIRONMENT not in tags):
                    continue  # another environment's ("prod-eu-worker" seen from "prod"), or not ours at all
                attributes = ctx.call(SERVICE, "get_queue_attributes", QueueUrl=url, AttributeNames=["All"]).get(
                    "Attributes", {}
                )
            except ClientError as exc:
                if not_found(exc, *NOT_FOUND_CODES):
                    continue  # deleted a moment ago: ListQueues shows a deleted queue for up to a minute
                raise
            fields = queue_fields(attributes)
            fields["queue_name"] = name
            key = tags.get(TAG_RESOURCE) or adoptable.get(name) or name[len(prefix) :]
            raw = {"QueueUrl": url, "QueueArn": attributes.get("QueueArn"), "Attributes": attributes}
            found.append(Current(key, attributes.get("QueueArn") or url, fields, tags, raw))
        return found

    def equal(self, field, before, after):
        return fields_equal(field, before, after)

    def create(self, ctx, key, fields, tags):
        attributes = attribute_values(fields, create=True)
        url = ctx.call(SERVICE, "create_queue", QueueName=fields["queue_name"], Attributes=attributes, tags=dict(tags))[
            "QueueUrl"
        ]
        arn = ctx.call(SERVICE, "get_queue_attributes", QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        allow = fields.get("redrive_allow_policy")
        if contains_unknown(allow):
            # the main queue is made next, in the same account and region: its ARN is known now
            allow = dict(allow, sourceQueueArns=[sibling_arn(arn, source_queue_name(fields["queue_name"]))])
            ctx.call(SERVICE, "set_queue_attributes", QueueUrl=url, Attributes={"RedriveAllowPolicy": dump(allow)})
        ctx.remember(self.name, key, {"QueueUrl": url, "QueueArn": arn})
        return arn

    def update(self, ctx, current, fields, changed):
        attributes = attribute_values(fields, changed=changed, before=current.fields)
        if attributes:
            ctx.call(SERVICE, "set_queue_attributes", QueueUrl=current.raw["QueueUrl"], Attributes=attributes)

    def delete(self, ctx, current):
        try:
            ctx.call(SERVICE, "delete_queue", QueueUrl=current.raw["QueueUrl"])
        except ClientError as exc:
            if not not_found(exc, *NOT_FOUND_CODES):
                raise

    def set_tags(self, ctx, current, add, remove):
        url = current.raw["QueueUrl"]
        if add:
            ctx.call(SERVICE, "tag_queue", QueueUrl=url, Tags=dict(add))
        if remove:
            ctx.call(SERVICE, "untag_queue", QueueUrl=url, TagKeys=list(remove))
