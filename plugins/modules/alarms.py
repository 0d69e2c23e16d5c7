#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: alarms
short_description: The alarms layer of a webstack environment (CloudWatch alarms, their SNS topic, the log group)
version_added: 0.1.0
description:
  - Converges the CloudWatch alarms of an environment (web tier, and the worker tier's queues) in one task, each named
    C(<environment>-<alarm>), and optionally the SNS topic C(<environment>-alarms) they notify and the
    environment's log group C(/webstack/<environment>) with its retention.
  - "Which alarms exist depends on the inputs given: with O(load_balancer) - C(elb-5xx)
    (C(HTTPCode_ELB_5XX_Count), Sum), C(target-5xx) (C(HTTPCode_Target_5XX_Count), Sum) and
    C(target-response-time) (C(TargetResponseTime), p90 by default); with O(load_balancer) and
    O(target_group) - C(unhealthy-hosts) (C(UnHealthyHostCount), Maximum); with O(auto_scaling_group) -
    C(cpu-high) (C(CPUUtilization), Average); with O(queue) - C(queue-age) (C(ApproximateAgeOfOldestMessage),
    Maximum); with O(dead_letter_queue) - C(dead-letter-depth) (C(ApproximateNumberOfMessagesVisible), Maximum).
    With O(target_group) given, the target 5xx and response time
    alarms are per target group too. An alarm whose inputs are missing or that is disabled
    (C(enabled=false)) is not created, and deleted if it exists."
  - Alarm definitions are compared on exactly the fields the module sets, normalised the way CloudWatch
    returns them (dimensions and actions sorted, thresholds as numbers, the defaults AWS fills in), so a
    second run makes no mutating call and reports no change.
  - Reads with one C(DescribeAlarms) by the name prefix C(<environment>-), one C(ListTopics), and the tags of
    all of them with one Resource Groups Tagging API C(GetResources) call (a resource that call does not show
    yet is read with its own C(ListTagsForResource)); the log group with one C(DescribeLogGroups) and one
    C(ListTagsForResource). Check mode returns the exact plan; C(--diff) renders it.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  load_balancer:
    description:
      - The Application Load Balancer, by ARN (what the load_balancer layer returns) or by its CloudWatch
        dimension value C(app/<name>/<id>).
    type: str
  target_group:
    description:
      - The target group, by ARN or by its dimension value C(targetgroup/<name>/<id>). Needs O(load_balancer).
    type: str
  auto_scaling_group:
    description:
      - The name of the environment's Auto Scaling group.
    type: str
  queue:
    description:
      - The worker queue, by name, ARN or URL (what the queue layer returns).
    type: str
  dead_letter_queue:
    description:
      - The worker queue's dead-letter queue, by name, ARN or URL.
    type: str
  create_topic:
    description:
      - Create the SNS topic C(<environment>-alarms), tagged like every resource of the layer, and use it as the
        alarms' actions. V(false) deletes a topic the module created before.
    type: bool
    default: false
  subscriptions:
    description:
      - Subscriptions of the created topic. Needs O(create_topic=true). Subscriptions not listed are removed.
      - An email or https subscription waits for its confirmation; until then AWS gives it no ARN and it cannot
        be removed (AWS drops it after three days), so an unconfirmed one no longer listed is left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: How to deliver.
        type: str
        required: true
        choices: [email, email-json, https]
      endpoint:
        description:
          - The email address or the https URL.
          - Treated as a secret (an https endpoint often carries an integration key) - Ansible hides it in the
            module's output, plan and diff.
        type: str
        required: true
  topic_arn:
    description:
      - An existing SNS topic to notify instead of creating one. Mutually exclusive with O(create_topic).
      - With neither, the alarms have no actions (state only, for dashboards and the environment's health).
    type: str
  create_log_group:
    description:
      - Create the environment's CloudWatch Logs group C(/webstack/<environment>) (what the instances ship their
        logs to; give its name to the instance_profile module's C(log_group)). V(false) deletes a group the
        module created before, with its logs.
    type: bool
    default: false
  log_retention_days:
    description:
      - How long the log group keeps events, in days (one of the values CloudWatch Logs offers); V(0) keeps them
        forever.
    type: int
    default: 30
  notify_ok:
    description: Also notify the topic when an alarm goes back to OK.
    type: bool
    default: true
  actions_enabled:
    description: Whether the alarms' actions run (V(false) silences every alarm without deleting it).
    type: bool
    default: true
  elb_5xx:
    description:
      - "The C(elb-5xx) alarm: more than O(elb_5xx.threshold) 5xx answers from the load balancer itself per period.
        Defaults: threshold 10, period 60, 5 evaluation periods, missing data not breaching."
    type: dict
    default: {}
    suboptions: &alarm_options
      enabled:
        description: Whether to have this alarm (V(false) deletes it).
        type: bool
        default: true
      threshold:
        description: The value the statistic is compared with. Default per alarm (see above).
        type: float
      period:
        description: Seconds per datapoint - 10, 30 or a multiple of 60. Default per alarm.
        type: int
      evaluation_periods:
        description: How many recent periods are evaluated. Default per alarm. Period x periods must not exceed 7 days.
        type: int
      datapoints_to_alarm:
        description: How many of them must breach to alarm (M of N). Defaults to all the evaluation periods.
        type: int
      statistic:
        description:
          - C(Average), C(Minimum), C(Maximum), C(Sum), C(SampleCount) or a percentile like C(p90). Default per
            alarm; meant mainly for C(target_response_time) (C(p90) or C(Average)).
        type: str
      treat_missing_data:
        description: What a period without data counts as. Default per alarm.
        type: str
        choices: [breaching, notBreaching, ignore, missing]
      percent:
        description:
          - For C(elb_5xx) and C(target_5xx) only - compare the 5xx answers in percent of the load balancer's
            requests (CloudWatch metric math, C(100 * errors / RequestCount)) instead of their count; the threshold
            is then a percentage.
        type: bool
        default: false
  target_5xx:
    description:
      - "The C(target-5xx) alarm: more than O(target_5xx.threshold) 5xx answers from the application per period.
        Defaults: threshold 10, period 60, 5 evaluation periods, missing data not breaching."
    type: dict
    default: {}
    suboptions: *alarm_options
  target_response_time:
    description:
      - "The C(target-response-time) alarm: the application's response time above O(target_response_time.threshold)
        seconds. Defaults: statistic p90, threshold 1 s, period 60, 5 evaluation periods, missing data not breaching."
    type: dict
    default: {}
    suboptions: *alarm_options
  unhealthy_hosts:
    description:
      - "The C(unhealthy-hosts) alarm: at least O(unhealthy_hosts.threshold) targets failing their health check.
        Defaults: threshold 1, period 60, 3 evaluation periods, missing data not breaching."
    type: dict
    default: {}
    suboptions: *alarm_options
  cpu_high:
    description:
      - "The C(cpu-high) alarm: the Auto Scaling group's average CPU above O(cpu_high.threshold) percent.
        Defaults: threshold 80, period 300, 3 evaluation periods, missing data missing."
    type: dict
    default: {}
    suboptions: *alarm_options
  queue_age:
    description:
      - "The C(queue-age) alarm: the oldest message of the worker queue older than O(queue_age.threshold) seconds
        (the workers are not keeping up). Defaults: threshold 600, period 60, 5 evaluation periods, missing data
        not breaching."
    type: dict
    default: {}
    suboptions: *alarm_options
  dead_letter_depth:
    description:
      - "The C(dead-letter-depth) alarm: at least O(dead_letter_depth.threshold) messages in the dead-letter queue.
        Defaults: threshold 1, period 300, 1 evaluation period, missing data not breaching."
    type: dict
    default: {}
    suboptions: *alarm_options
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The 5xx alarms count errors per period (a rate per minute with the default period), not a ratio of requests.
"""

EXAMPLES = r"""
- name: Alarms of the web tier, notifying the on-call address
  webstack.aws.alarms:
    environment: shop-prod
    load_balancer: "{{ lb.load_balancer.load_balancer_arn }}"
    target_group: "{{ lb.load_balancer.target_group_arn }}"
    auto_scaling_group: shop-prod
    create_topic: true
    subscriptions:
      - protocol: email
        endpoint: oncall@example.com
    target_response_time:
      statistic: p99
      threshold: 2.5
    cpu_high:
      enabled: false

- name: Notify an existing topic
  webstack.aws.alarms:
    environment: shop-staging
    load_balancer: app/shop-staging/0123456789abcdef
    topic_arn: arn:aws:sns:us-east-1:123456789012:ops

- name: Delete the alarms and the topic
  webstack.aws.alarms:
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
    - Values known only after apply (the ARN of a topic still to be created) read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: V(log_group), V(sns_topic) or V(alarm).
      type: str
      sample: alarm
    key:
      description:
        - The resource's key in the layer (the alarm name without the environment), also its C(webstack:resource) tag.
      type: str
      sample: cpu-high
    id:
      description: The alarm's name or the topic's ARN; null for a create.
      type: str
      sample: shop-prod-cpu-high
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"threshold": {"before": 80.0, "after": 90.0}}
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
  sample: ["create sns_topic alarms", "create alarm cpu-high"]
alarms:
  description:
    - The alarms and topic, as converged. Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    alarm_names:
      description: Alarm key to alarm name, for the alarms the environment has.
      type: dict
      sample: {"cpu-high": "shop-prod-cpu-high", "elb-5xx": "shop-prod-elb-5xx"}
    topic_arn:
      description:
        - The topic the alarms notify (created or given); null when there is none, or in check mode when it is
          still to be created.
      type: str
      sample: arn:aws:sns:us-east-1:123456789012:shop-prod-alarms
    subscriptions:
      description: The created topic's subscriptions (C(protocol), C(endpoint)), sorted.
      type: list
      elements: dict
      sample: [{"protocol": "email", "endpoint": "oncall@example.com"}]
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.alarms import AlarmsLayer, argument_spec


def main():
    run_layer(AlarmsLayer(), argument_spec())


if __name__ == "__main__":
    main()
