# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_profile layer: the instances' IAM role and instance profile, with policies scoped to the environment.

Inline policies (one per concern, named ``<environment>-<concern>``):

- ``bucket``: read and write the environment's prefixes of its bucket, read its application versions,
  and list the bucket under those prefixes only.  With ``default_bucket`` and no ``bucket``, the bucket is
  the one the static_assets layer makes by default (``_kinds.s3.default_bucket_name``: one naming rule), so
  the role is known before that slow layer has run.
- ``queues``: consume from and send to the environment's queues.
- ``logs``: write log streams of the environment's log group.
- ``metrics``: PutMetricData, only into the environment's namespace (condition ``cloudwatch:namespace``).
- ``extra``: the user's own statements.
"""

from __future__ import annotations

import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.iam import (
    EC2_TRUST_POLICY,
    EVENTUAL_CONSISTENCY_CODES,
    POLICY_VERSION,
    InstanceProfile,
    Role,
    normalise_policy,
    path_for,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.s3 import AssetsState, account_id, default_bucket_name

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([^/]+)$")
QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
LOG_GROUP_NAME = re.compile(r"^[A-Za-z0-9_./#-]{1,512}$")
LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:([A-Za-z0-9_./#-]{1,512})(:\*)?$")
MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")
NAMESPACE = re.compile(r"^[^:$][^:]{0,254}$")
PREFIX = re.compile(r"^[^*?]*$")

QUEUE_ACTIONS = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal")
ROLE_KEY = "instance"


def argument_spec():
    return dict(
        bucket=dict(type="str"),
        default_bucket=dict(type="bool", default=False),
        bucket_prefixes=dict(type="list", elements="str"),
        app_versions_prefix=dict(type="str"),
        queue_arns=dict(type="list", elements="str", default=[]),
        log_group=dict(type="str"),
        metrics_namespace=dict(type="str"),
        put_metrics=dict(type="bool", default=True),
        extra_statements=dict(type="list", elements="dict", default=[]),
        managed_policy_arns=dict(type="list", elements="str", default=[]),
        permissions_boundary=dict(type="str"),
    )


def bucket_name(value):
    match = BUCKET_ARN.match(value)
    return match.group(1) if match else value


def log_group_arn(value):
    """The ARN of a log group (with ``:*`` for its streams); a bare name is pinned to any region/account."""
    match = LOG_GROUP_ARN.match(value)
    if match:
        return value if value.endswith(":*") else value + ":*"
    return "arn:aws:logs:*:*:log-group:%s:*" % value


def defaults(environment, params):
    """The options with their environment-derived defaults filled in."""
    prefixes = params.get("bucket_prefixes")
    if prefixes is None:
        prefixes = [
            "resources/environments/%s/" % environment,
            "resources/environments/logs/publish/%s/" % environment,
        ]
    versions = params.get("app_versions_prefix")
    if versions is None:
        versions = "app-versions/%s/" % environment
    namespace = params.get("metrics_namespace") or "webstack/%s" % environment
    return prefixes, versions, namespace


def validate(params, check_mode=False):
    bucket = params.get("bucket")
    if bucket is not None and not BUCKET_NAME.match(bucket_name(bucket)):
        raise ValidationError(
            "bucket",
            "%r is not a bucket name or ARN; give it like 'shop-prod-assets' or 'arn:aws:s3:::shop-prod-assets'"
            % (bucket,),
        )
    for option in ("bucket_prefixes",):
        for index, prefix in enumerate(params.get(option) or []):
            if not prefix or prefix.startswith("/") or not PREFIX.match(prefix):
                raise ValidationError(
                    "%s[%d]" % (option, index),
                    "%r is not a key prefix; write it like 'resources/environments/shop-prod/' (no leading slash, "
                    "no wildcards)" % (prefix,),
                )
    versions = params.get("app_versions_prefix")
    if versions is not None and (versions.startswith("/") or not PREFIX.match(versions)):
        raise ValidationError(
            "app_versions_prefix", "%r is not a key prefix; write it like 'app-versions/shop-prod/'" % (versions,)
        )
    bucket_given = bucket is not None or params.get("default_bucket")
    if not bucket_given and (params.get("bucket_prefixes") or params.get("app_versions_prefix")):
        raise ValidationError("bucket", "is required when bucket_prefixes or app_versions_prefix is given")
    for index, arn in enumerate(params.get("queue_arns") or []):
        if not QUEUE_ARN.match(arn or ""):
            raise ValidationError(
                "queue_arns[%d]" % index,
                "%r is not an SQS queue ARN; give it like 'arn:aws:sqs:us-east-1:123456789012:shop-prod-worker' "
                "(the queue layer returns it)" % (arn,),
            )
    log_group = params.get("log_group")
    if log_group is not None and not (LOG_GROUP_ARN.match(log_group) or LOG_GROUP_NAME.match(log_group)):
        raise ValidationError(
            "log_group", "%r is not a log group name or ARN; give it like '/webstack/shop-prod'" % (log_group,)
        )
    namespace = params.get("metrics_namespace")
    if namespace is not None and (not NAMESPACE.match(namespace) or namespace.startswith("AWS/")):
        raise ValidationError(
            "metrics_namespace",
            "%r is not a namespace you can publish to; use up to 255 characters, no ':' and not 'AWS/...'"
            % (namespace,),
        )
    for index, arn in enumerate(params.get("managed_policy_arns") or []):
        if not MANAGED_POLICY_ARN.match(arn or ""):
            raise ValidationError(
                "managed_policy_arns[%d]" % index,
                "%r is not a managed policy ARN; give it like "
                "'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'" % (arn,),
            )
    boundary = params.get("permissions_boundary")
    if boundary and not MANAGED_POLICY_ARN.match(boundary):
        raise ValidationError(
            "permissions_boundary",
            "%r is not a managed policy ARN; give it like 'arn:aws:iam::123456789012:policy/Boundary', "
            "or '' to remove the boundary" % (boundary,),
        )
    for index, statement in enumerate(params.get("extra_statements") or []):
        validate_statement(statement, "extra_statements[%d]" % index)


def validate_statement(statement, option):
    unknown = sorted(set(statement) - set(STATEMENT_KEYS))
    if unknown:
        raise ValidationError(
            option, "unknown key(s) %s; a statement has %s" % (", ".join(unknown), ", ".join(STATEMENT_KEYS))
        )
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise ValidationError(option + ".Effect", "must be 'Allow' or 'Deny'")
    if bool(statement.get("Action")) == bool(statement.get("NotAction")):
        raise ValidationError(option, "give exactly one of 'Action' or 'NotAction'")
    if bool(statement.get("Resource")) == bool(statement.get("NotResource")):
        raise ValidationError(option, "give exactly one of 'Resource' or 'NotResource'")
    if "Principal" in statement:
        raise ValidationError(option + ".Principal", "is not allowed in an identity policy; remove it")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        value = statement.get(key)
        values = [value] if isinstance(value, str) else value
        if value is not None and (not isinstance(values, list) or not all(isinstance(v, str) and v for v in values)):
            raise ValidationError(option + "." + key, "must be a string or a list of strings")
    condition = statement.get("Condition")
    if condition is not None and not (
        isinstance(condition, dict) and all(isinstance(v, dict) for v in condition.values())
    ):
        raise ValidationError(
            option + ".Condition",
            "must map operators to tests, like {StringEquals: {'aws:RequestedRegion': 'us-east-1'}}",
        )


def _policy(statements):
    return normalise_policy({"Version": POLICY_VERSION, "Statement": statements})


def inline_policies(environment, params):
    """{policy name: document} for the options given.  Pure: unit-tested."""
    prefixes, versions, namespace = defaults(environment, params)
    policies = {}
    if params.get("bucket"):
        name = bucket_name(params["bucket"])
        statements = []
        if prefixes:
            statements.append(
                {
                    "Sid": "EnvironmentObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": ["arn:aws:s3:::%s/%s*" % (name, p) for p in prefixes],
                }
            )
        if versions:
            statements.append(
                {
                    "Sid": "ApplicationVersions",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": ["arn:aws:s3:::%s/%s*" % (name, versions)],
                }
            )
        listed = list(prefixes) + ([versions] if versions else [])
        if listed:
            statements.append(
                {
                    "Sid": "ListEnvironmentPrefixes",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": ["arn:aws:s3:::%s" % name],
                    "Condition": {"StringLike": {"s3:prefix": ["%s*" % p for p in listed]}},
                }
            )
        if statements:
            policies["%s-bucket" % environment] = _policy(statements)
    if params.get("queue_arns"):
        policies["%s-queues" % environment] = _policy(
            [
                {
                    "Sid": "EnvironmentQueues",
                    "Effect": "Allow",
                    "Action": QUEUE_ACTIONS,
                    "Resource": sorted(set(params["queue_arns"])),
                }
            ]
        )
    if params.get("log_group"):
        policies["%s-logs" % environment] = _policy(
            [
                {
                    "Sid": "EnvironmentLogGroup",
                    "Effect": "Allow",
                    "Action": LOG_ACTIONS,
                    "Resource": [log_group_arn(params["log_group"])],
                }
            ]
        )
    if params.get("put_metrics", True):
        policies["%s-metrics" % environment] = _policy(
            [
                {
                    "Sid": "EnvironmentMetrics",
                    "Effect": "Allow",
                    "Action": ["cloudwatch:PutMetricData"],
                    "Resource": ["*"],
                    "Condition": {"StringEquals": {"cloudwatch:namespace": [namespace]}},
                }
            ]
        )
    if params.get("extra_statements"):
        policies["%s-extra" % environment] = _policy([dict(s) for s in params["extra_statements"]])
    return policies


def account_of(arn):
    """The account id in an ARN (``arn:aws:iam::123456789012:role/...``), or None."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


class InstanceProfileLayer(LayerSpec):
    layer = "instance_profile"
    result_key = "instance_profile"
    services = ("iam", "sts")  # sts: the account id in the default bucket name, when the role does not tell it
    retry_codes = EVENTUAL_CONSISTENCY_CODES

    def __init__(self):
        self.bucket = None
        self.policies = {}

    def kinds(self):
        return [Role(), InstanceProfile()]

    def validate(self, params, check_mode):
        validate(params, check_mode)

    def bucket_for(self, ctx, params, current):
        """The bucket the policies are scoped to: the one given, else with default_bucket the static_assets
        layer's default name (the account id from the existing role's ARN, else one STS call), else none."""
        if params.get("bucket") is not None:
            return params["bucket"]
        if not params.get("default_bucket"):
            return None
        role = current.get("iam_role", {}).get(ROLE_KEY)
        account = account_of((role.raw or {}).get("Arn") if role is not None else None)
        if account is not None:
            ctx.state(AssetsState).account_id = account  # what s3.account_id reads
        return default_bucket_name(ctx.environment, account_id(ctx))

    def desired(self, ctx, params, current):
        env = ctx.environment
        name = "%s-%s" % (env, ROLE_KEY)
        self.bucket = self.bucket_for(ctx, params, current)
        self.policies = inline_policies(env, dict(params, bucket=self.bucket))
        role = Desired(
            {
                "role_name": name,
                "path": path_for(env),
                "assume_role_policy": normalise_policy(EC2_TRUST_POLICY),
                "description": "webstack %s: instances" % env,
                "inline_policies": self.policies,
                "managed_policy_arns": sorted(set(params.get("managed_policy_arns") or [])),
            },
            ctx.tags_for(ROLE_KEY),
        )
        if params.get("permissions_boundary") is not None:  # omitted: a boundary set by others is left alone
            role.fields["permissions_boundary"] = params["permissions_boundary"] or None
        profile = Desired(
            {"instance_profile_name": name, "path": path_for(env), "role_name": name},
            ctx.tags_for(ROLE_KEY),
        )
        return {"iam_role": {ROLE_KEY: role}, "instance_profile": {ROLE_KEY: profile}}

    def outputs(self, ctx, params, ids, current):
        env = ctx.environment
        role_id = ids.get("iam_role", {}).get(ROLE_KEY)
        profile_id = ids.get("instance_profile", {}).get(ROLE_KEY)
        role = ctx.description("iam_role", ROLE_KEY, current) if role_id else None
        profile = ctx.description("instance_profile", ROLE_KEY, current) if profile_id else None
        namespace = defaults(env, params)[2]
        return {
            "environment": env,
            "path": path_for(env),
            "role_name": "%s-%s" % (env, ROLE_KEY),
            "role_arn": (role or {}).get("Arn"),
            "instance_profile_name": "%s-%s" % (env, ROLE_KEY),
            "instance_profile_arn": (profile or {}).get("Arn"),
            "bucket": bucket_name(self.bucket) if self.bucket else None,
            "policy_names": sorted(self.policies),
            "managed_policy_arns": sorted(set(params.get("managed_policy_arns") or [])),
            "metrics_namespace": namespace if params.get("put_metrics", True) else None,
        }
