#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: auto_scaling
short_description: The auto_scaling layer of a webstack environment (launch template, Auto Scaling group, scaling)
version_added: 0.1.0
description:
  - Converges the compute of one environment in one task - a launch template named after the environment,
    an Auto Scaling group named after the environment in the private subnets, attached to the load
    balancer's target groups, its scaling policies, and a rolling instance refresh when the launch
    template changes.
  - The launch template requires IMDSv2 (C(HttpTokens=required)) by default, with a hop limit of 2 so
    containers on the instance reach the metadata service, and gives instances an encrypted gp3 root volume.
  - A change of the launch template makes one new template version and makes it the default. The fields are
    compared with the default version, normalised, so a run with nothing to change makes no new version.
  - The group runs a numbered template version (not C($Default) or C($Latest), with which AWS cannot roll
    an instance refresh back).
  - When the group's instances are to run another template version (the template changed, or an earlier
    refresh rolled back), the plan includes an C(instance_refresh) that replaces them (rolling,
    O(min_healthy_percentage) kept in service, instances already on the new version skipped, automatic
    rollback on failure) and moves the group to the new version; the module waits for it (with O(wait)).
    A refresh that fails, is cancelled or rolls back fails the task with AWS's reason. A group with no
    instances, or O(instance_refresh=false), is switched to the new version directly.
  - Reads each resource kind with one call (the launch template by the environment's tags plus its default
    version, the group by name, the policies by group); a run with nothing to do makes no mutating call and
    reports no change. Check mode returns the exact plan; C(--diff) renders it.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  image_id:
    description:
      - The AMI of the instances, like C(ami-0123456789abcdef0). Required when O(state=present).
    type: str
  instance_type:
    description:
      - The instance type, C(family.size) in lowercase, like C(t3.micro) or C(m7g.large).
    type: str
    default: t3.micro
  instance_profile:
    description:
      - The instances' IAM instance profile, by name or ARN (the C(instance_profile) module's output).
    type: str
  security_group_ids:
    description:
      - The instances' security groups (the C(instance) group of the C(security_groups) module).
      - Null entries are allowed in check mode only (groups known after apply).
    type: list
    elements: str
    default: []
  metadata_http_tokens:
    description:
      - V(required) enforces IMDSv2 (session tokens); V(optional) also allows IMDSv1.
    type: str
    choices: [required, optional]
    default: required
  metadata_hop_limit:
    description:
      - The instance metadata PUT response hop limit, 1 to 64. 2 lets containers on the instance reach it.
    type: int
    default: 2
  root_device_name:
    description: The root volume's device name (it must match the AMI's root device).
    type: str
    default: /dev/xvda
  root_volume_size:
    description: The size of the encrypted gp3 root volume, in GiB.
    type: int
    default: 20
  user_data:
    description:
      - The instances' user data, as plain text (the module base64-encodes it). At most 16 KiB.
      - It is shown in the plan and the diff; keep secrets out of it (fetch them at boot instead).
    type: str
  subnet_ids:
    description:
      - The subnets of the group, normally the network layer's private subnets (order does not matter).
      - Required when O(state=present), except in check mode where an empty list (or null entries) plans
        against subnets known after apply, so a whole environment can be planned before its network exists.
    type: list
    elements: str
    default: []
  min_size:
    description: The group's minimum size (0 to 1000, at most O(max_size)).
    type: int
    default: 1
  max_size:
    description: The group's maximum size (0 to 1000).
    type: int
    default: 2
  desired_capacity:
    description:
      - The number of instances to run, from O(min_size) to O(max_size).
      - Enforced only when given. When omitted, a new group starts with O(min_size) instances and, later,
        the desired capacity is left to the scaling policies (the module does not fight them).
    type: int
  health_check_type:
    description: V(ELB) replaces instances the load balancer finds unhealthy; V(EC2) only those EC2 does.
    type: str
    choices: [ELB, EC2]
    default: ELB
  health_check_grace_period:
    description: Seconds after launch before health checks count.
    type: int
    default: 300
  target_group_arns:
    description:
      - Target groups the group registers its instances with (the C(load_balancer) module's output).
      - Null entries are allowed in check mode only (target groups known after apply).
    type: list
    elements: str
    default: []
  termination_policies:
    description: Which instances scale-in terminates first, in order.
    type: list
    elements: str
    choices:
      - Default
      - AllocationStrategy
      - OldestLaunchTemplate
      - OldestLaunchConfiguration
      - ClosestToNextInstanceHour
      - NewestInstance
      - OldestInstance
    default: [Default]
  default_cooldown:
    description: Seconds between scaling activities of simple policies.
    type: int
    default: 300
  cpu_target_value:
    description:
      - Adds the target tracking policy C(<environment>-cpu) that keeps the group's average CPU at this
        percentage (1 to 100). Omit it to have no CPU policy (an existing one is deleted).
    type: float
  request_count_target_value:
    description:
      - Adds the target tracking policy C(<environment>-requests) that keeps the ALB requests per target
        (per minute) of the first of O(target_group_arns) at this value. Needs O(load_balancer_arn).
    type: float
  load_balancer_arn:
    description:
      - The application load balancer of the target group, for O(request_count_target_value).
      - May be null in check mode only (a load balancer known after apply).
    type: str
  disable_scale_in:
    description: Whether the target tracking policies only scale out.
    type: bool
    default: false
  estimated_instance_warmup:
    description: Seconds a new instance needs before its metrics count, for the target tracking policies.
    type: int
  step_policies:
    description:
      - Step scaling policies, each named C(<environment>-step-<name>); trigger them with CloudWatch
        alarms on the returned ARNs. Policies not listed are deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The policy's short name (lowercase letters, digits and hyphens).
        type: str
        required: true
      adjustment_type:
        description: How the adjustments are read.
        type: str
        choices: [ChangeInCapacity, ExactCapacity, PercentChangeInCapacity]
        default: ChangeInCapacity
      metric_aggregation_type:
        description: How the alarm's metric is aggregated.
        type: str
        choices: [Average, Minimum, Maximum]
        default: Average
      estimated_instance_warmup:
        description: Seconds a new instance needs before its metrics count.
        type: int
      steps:
        description:
          - Contiguous intervals relative to the alarm threshold, each with its adjustment. The first may have
            no O(step_policies[].steps[].lower_bound), the last no O(step_policies[].steps[].upper_bound).
        type: list
        elements: dict
        required: true
        suboptions:
          lower_bound:
            description: The interval's lower bound (inclusive); omit for minus infinity.
            type: float
          upper_bound:
            description: The interval's upper bound (exclusive); omit for infinity.
            type: float
          adjustment:
            description: The capacity change in that interval.
            type: int
            required: true
  instance_refresh:
    description:
      - Replace running instances with a rolling instance refresh when the launch template changes, and
        wait for it (with O(wait)).
      - With V(false) the group is switched to the template's new version directly; running instances are left
        as they are, instances launched later use the new version.
      - The refresh API is checked before anything changes; an endpoint without it (some emulators) makes
        the task fail with a message and nothing changed.
    type: bool
    default: true
  min_healthy_percentage:
    description: The share of the group kept in service during an instance refresh (0 to 100).
    type: int
    default: 90
  instance_warmup:
    description: Seconds the refresh waits after a new instance is healthy. Defaults to O(health_check_grace_period).
    type: int
  allow_replacement:
    description:
      - Allow changes that delete resources and create them again (a scaling policy of another type under
        the same name). Without it such a change fails before anything is touched.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The group and its instances carry C(webstack:environment), C(webstack:layer) and your O(tags), propagated
    at launch; instances and their volumes are named C(<environment>-instance) by the launch template.
  - Scaling policies cannot be tagged; they are found by their names on the environment's group.
  - O(state=absent) deletes the policies, then the group with C(ForceDelete) (its instances are terminated
    with it, without a scale-in first), waits until the group is gone, then deletes the launch template.
"""

EXAMPLES = r"""
- name: Instances behind the load balancer, scaled on CPU
  webstack.aws.auto_scaling:
    environment: shop-prod
    image_id: ami-0123456789abcdef0
    instance_type: t3.small
    instance_profile: shop-prod-instance
    security_group_ids: ["{{ firewall.security_groups.group_ids.instance }}"]
    subnet_ids: "{{ net.network.subnet_ids.private }}"
    target_group_arns: ["{{ lb.load_balancer.target_group_arn }}"]
    min_size: 2
    max_size: 6
    cpu_target_value: 50
    user_data: |
      #!/bin/bash
      ansible-pull -U https://git.example.com/shop/site.git configure.yml

- name: Scale on requests per target too, and step out on an alarm
  webstack.aws.auto_scaling:
    environment: shop-prod
    image_id: ami-0123456789abcdef0
    subnet_ids: "{{ net.network.subnet_ids.private }}"
    target_group_arns: ["{{ lb.load_balancer.target_group_arn }}"]
    load_balancer_arn: "{{ lb.load_balancer.load_balancer_arn }}"
    request_count_target_value: 1000
    step_policies:
      - name: burst
        steps:
          - {lower_bound: 0, upper_bound: 20, adjustment: 1}
          - {lower_bound: 20, adjustment: 3}

- name: Show what a new AMI would do, without doing it
  webstack.aws.auto_scaling:
    environment: shop-prod
    image_id: ami-0fedcba9876543210
    subnet_ids: "{{ net.network.subnet_ids.private }}"
  check_mode: true
  diff: true

- name: Delete the auto_scaling layer
  webstack.aws.auto_scaling:
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
    - Values known only after apply read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: V(launch_template), V(auto_scaling_group), V(scaling_policy) or V(instance_refresh).
      type: str
      sample: launch_template
    key:
      description: The resource's key in the layer (C(launch_template), C(auto_scaling_group), C(cpu), ...).
      type: str
      sample: launch_template
    id:
      description: The AWS id (template id, group or policy name) of the existing resource; null for a create.
      type: str
      sample: lt-0123456789abcdef0
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"instance_type": {"before": "t3.micro", "after": "t3.small"}}
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
  sample: ["create launch_template launch_template", "create auto_scaling_group auto_scaling_group"]
auto_scaling:
  description:
    - The auto_scaling layer, as converged (ids are null in check mode for resources not created yet).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    auto_scaling_group_name:
      description: The group's name (the environment's name).
      type: str
      sample: shop-prod
    auto_scaling_group_arn:
      description: The group's ARN.
      type: str
      sample: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1f2e:autoScalingGroupName/shop-prod
    launch_template_id:
      description: The launch template's id.
      type: str
      sample: lt-0123456789abcdef0
    launch_template_name:
      description: The launch template's name (the environment's name).
      type: str
      sample: shop-prod
    launch_template_version:
      description: The template's default version (the group runs it once any instance refresh has succeeded).
      type: int
      sample: 3
    min_size:
      description: The group's minimum size.
      type: int
      sample: 2
    max_size:
      description: The group's maximum size.
      type: int
      sample: 6
    desired_capacity:
      description: The group's desired capacity as AWS holds it.
      type: int
      sample: 2
    instances:
      description: The group's instances.
      type: list
      elements: dict
      contains:
        instance_id:
          description: The instance id.
          type: str
          sample: i-0123456789abcdef0
        availability_zone:
          description: Its zone.
          type: str
          sample: us-east-1a
        lifecycle_state:
          description: Its lifecycle state (V(InService), V(Pending), ...).
          type: str
          sample: InService
        health_status:
          description: V(Healthy) or V(Unhealthy).
          type: str
          sample: Healthy
        instance_type:
          description: Its instance type.
          type: str
          sample: t3.small
        launch_template_version:
          description: The launch template version it was launched from.
          type: str
          sample: "3"
    policies:
      description: Policy key (V(cpu), V(requests), V(step-<name>)) to C(policy_name) and C(policy_arn).
      type: dict
      sample: {"cpu": {"policy_name": "shop-prod-cpu", "policy_arn": "arn:aws:autoscaling:..."}}
    instance_refresh:
      description:
        - When the launch template changed under running instances - C(reason), and the refresh's C(id)
          and last C(status) (null when none was started, as with O(instance_refresh=false) or in check mode).
        - Null otherwise.
      type: dict
      sample:
        id: 08b91cf7-8fa6-48af-b6a6-d227f40f1b9b
        status: Successful
        reason: "launch template changes: image_id"
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.auto_scaling import AutoScalingLayer, argument_spec


def main():
    run_layer(AutoScalingLayer(), argument_spec())


if __name__ == "__main__":
    main()
