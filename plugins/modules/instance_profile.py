#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_profile
short_description: The instance_profile layer of a webstack environment (the instances' IAM role and instance profile)
version_added: 0.1.0
description:
  - Converges the identity of an environment's instances in one task - an IAM role that EC2 can assume,
    named C(<environment>-instance) under the path C(/webstack/<environment>/), an instance profile of the
    same name and path holding that role, inline policies scoped to this environment only, and optional
    managed policies.
  - "Inline policies, one per concern, each present only when its options are given:
    C(<environment>-bucket) (read and write the environment's prefixes of its bucket, read its application
    versions, list the bucket under those prefixes only), C(<environment>-queues) (consume from and send to
    the environment's queues), C(<environment>-logs) (write the streams of the environment's log group),
    C(<environment>-metrics) (C(cloudwatch:PutMetricData) only into the environment's namespace, by the
    condition C(cloudwatch:namespace)) and C(<environment>-extra) (O(extra_statements))."
  - Policy documents are compared semantically - statement, action and resource order, a single string
    versus a one-item list, action case and whitespace never make a change. A second run makes no mutating
    call and reports no change.
  - Reads with one C(ListRoles) and one C(ListInstanceProfiles) filtered by the environment's path, then
    C(GetRole), C(GetInstanceProfile), C(ListRolePolicies), C(GetRolePolicy) and C(ListAttachedRolePolicies)
    for the one role and profile. Check mode returns the exact plan; C(--diff) renders it.
  - IAM is eventually consistent. After creating the profile (or putting the role in it) the module waits,
    with O(wait), until C(GetInstanceProfile) shows the role in it. On real AWS a new profile can still be
    refused by EC2 and Auto Scaling for about ten seconds after that (C(InvalidParameterValue) or
    C(ValidationError) whose message names the instance profile); whatever launches instances with a fresh
    profile should retry those errors for a short while.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  bucket:
    description:
      - The environment's S3 bucket, by name or ARN (for example the bucket of the static assets layer).
      - Omit it for no bucket access, or see O(default_bucket).
    type: str
  default_bucket:
    description:
      - When O(bucket) is not given, scope the bucket policy to the bucket the C(webstack.aws.static_assets) layer
        makes by default, C(<environment>-assets-<account id>) - the same naming rule, so the role can be
        converged before (or while) the static assets are.
      - The account id comes from the existing role's ARN, else from one STS C(GetCallerIdentity).
    type: bool
    default: false
  bucket_prefixes:
    description:
      - Key prefixes of O(bucket) the instances may read and write (C(s3:GetObject), C(s3:PutObject)).
      - Defaults to C(resources/environments/<environment>/) and C(resources/environments/logs/publish/<environment>/)
        (where the host manager publishes rotated logs).
      - No leading slash and no wildcards; C(*) is appended.
    type: list
    elements: str
  app_versions_prefix:
    description:
      - Key prefix of O(bucket) holding the application versions the instances deploy; read only.
      - Defaults to C(app-versions/<environment>/). An empty string grants nothing there.
    type: str
  queue_arns:
    description:
      - ARNs of the environment's SQS queues (worker queue, dead-letter queue). The instances may receive,
        delete, change the visibility of and send messages, and read the queue's attributes and URL.
    type: list
    elements: str
    default: []
  log_group:
    description:
      - The environment's CloudWatch Logs log group, by name or ARN. The instances may create and describe
        log streams in it and put log events.
      - A name is granted in any region of the account (C(arn:aws:logs:*:*:log-group:<name>:*)); give an ARN
        to pin one region.
    type: str
  metrics_namespace:
    description:
      - The CloudWatch namespace the instances may publish metrics to. Defaults to C(webstack/<environment>).
    type: str
  put_metrics:
    description:
      - Whether to grant C(cloudwatch:PutMetricData) into O(metrics_namespace) (the host manager's enhanced
        health metrics need it).
    type: bool
    default: true
  extra_statements:
    description:
      - More IAM policy statements, as dicts with C(Effect), C(Action) or C(NotAction), C(Resource) or
        C(NotResource), and optionally C(Sid) and C(Condition). Put into the inline policy
        C(<environment>-extra).
    type: list
    elements: dict
    default: []
  managed_policy_arns:
    description:
      - Managed policies to attach to the role, for example
        C(arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore) for Session Manager.
      - Policies attached by other means and not listed here are detached.
    type: list
    elements: str
    default: []
  permissions_boundary:
    description:
      - A managed policy ARN to set as the role's permissions boundary (many organisations require one on every
        role they create).
      - Omitted, a boundary already on the role is left alone; an empty string removes it.
    type: str
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - IAM is a global service; the role and profile serve every region of the account.
  - O(state=absent) removes the role from the profile, deletes the profile, the inline policies, detaches
    the managed policies and deletes the role. Delete the instances using the profile first.
"""

EXAMPLES = r"""
- name: The instances' role and profile, scoped to the environment's bucket, queue, log group and metrics
  webstack.aws.instance_profile:
    environment: shop-prod
    bucket: shop-prod-assets
    queue_arns:
      - arn:aws:sqs:us-east-1:123456789012:shop-prod-worker
    log_group: /webstack/shop-prod
    managed_policy_arns:
      - arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore
    tags:
      team: payments
  register: identity

- name: Scoped to the bucket the static_assets layer makes by default (<environment>-assets-<account id>)
  webstack.aws.instance_profile:
    environment: shop-prod
    default_bucket: true

- name: An extra statement (read one parameter path)
  webstack.aws.instance_profile:
    environment: shop-prod
    extra_statements:
      - Effect: Allow
        Action: ssm:GetParametersByPath
        Resource: arn:aws:ssm:us-east-1:123456789012:parameter/shop-prod/*

- name: Show what would change, without changing it
  webstack.aws.instance_profile:
    environment: shop-prod
    bucket: shop-prod-assets
  check_mode: true
  diff: true

- name: Delete the role and profile (after the instances)
  webstack.aws.instance_profile:
    environment: shop-prod
    state: absent
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) changed.
  returned: always
  type: bool
plan:
  description:
    - The changes, in the order they are applied. Check mode returns the same plan without applying it.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: create
    kind:
      description: V(iam_role) or V(instance_profile).
      type: str
      sample: iam_role
    key:
      description: The resource's key in the layer (V(instance)), also its C(webstack:resource) tag.
      type: str
      sample: instance
    id:
      description: The name of the existing role or profile; null for a create.
      type: str
      sample: shop-prod-instance
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"managed_policy_arns": {"before": [], "after": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]}}
    replace_reasons:
      description: For a V(replace), the create-only fields whose change forces it.
      type: list
      elements: str
      returned: when action is replace
applied:
  description: What was done, in order; empty in check mode and when nothing had to change.
  returned: always
  type: list
  elements: str
  sample: ["create iam_role instance", "create instance_profile instance"]
instance_profile:
  description:
    - The role and profile, as converged (ARNs are null in check mode when they are still to be created).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    path:
      description: The IAM path of the role and profile.
      type: str
      sample: /webstack/shop-prod/
    role_name:
      description: The role's name.
      type: str
      sample: shop-prod-instance
    role_arn:
      description: The role's ARN.
      type: str
      sample: arn:aws:iam::123456789012:role/webstack/shop-prod/shop-prod-instance
    instance_profile_name:
      description: The instance profile's name (what a launch template names).
      type: str
      sample: shop-prod-instance
    instance_profile_arn:
      description: The instance profile's ARN.
      type: str
      sample: arn:aws:iam::123456789012:instance-profile/webstack/shop-prod/shop-prod-instance
    bucket:
      description: The bucket the instances may use (O(bucket), or the default name with O(default_bucket)), or null.
      type: str
      sample: shop-prod-assets-123456789012
    policy_names:
      description: The names of the role's inline policies, sorted.
      type: list
      elements: str
      sample: [shop-prod-bucket, shop-prod-logs, shop-prod-metrics, shop-prod-queues]
    managed_policy_arns:
      description: The managed policies attached to the role, sorted.
      type: list
      elements: str
      sample: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]
    metrics_namespace:
      description: The namespace the instances may publish metrics to; null when O(put_metrics=false).
      type: str
      sample: webstack/shop-prod
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.instance_profile import (
    InstanceProfileLayer,
    argument_spec,
)


def main():
    run_layer(InstanceProfileLayer(), argument_spec())


if __name__ == "__main__":
    main()
