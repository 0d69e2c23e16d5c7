#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: load_balancer
short_description: The Application Load Balancer of a webstack environment, its processes, listeners and rules
version_added: 0.1.0
description:
  - Converges the load balancer layer of one environment in one task - an Application Load Balancer named
    after the environment across the public subnets, one target group per Elastic Beanstalk I(process),
    the listeners and the listener rules.
  - Listeners - without O(certificate_arn), HTTP on port 80 forwards to the default process. With it, HTTP on
    port 80 redirects to HTTPS (HTTP 301) and HTTPS on port 443 serves with the certificate and O(ssl_policy).
  - Processes are target groups named C(<environment>-<process>) (target type C(instance)). Every option left
    out takes Elastic Beanstalk's default. Health check and attribute changes are made in place; a change of
    port, protocol or VPC needs O(allow_replacement=true) - the new target group is made first (named
    C(<environment>-<process>-r), or back again), the listeners and rules are pointed at it, and only then is
    the old one deleted.
  - Rules converge exactly and in order - list order is evaluation order. A rule is known by its O(rules[].name)
    or, without one, by its conditions; a moved rule only changes priority (SetRulePriorities), a changed action
    or condition of a named rule is modified in place (ModifyRule), and only rules gone from the list are deleted.
  - Load balancer attributes (idle timeout, deletion protection, access logs) converge, and only the attributes
    that differ are sent.
  - Reads - DescribeLoadBalancers by name, DescribeListeners, DescribeRules per listener, DescribeTargetGroups,
    DescribeTags for all of them at once (20 ARNs a call), one DescribeLoadBalancerAttributes and one
    DescribeTargetGroupAttributes per process (they have no batch form), and one DescribeTargetHealth per process
    for the result.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  vpc_id:
    description:
      - The VPC (the network layer's C(vpc_id)). Required when O(state=present); changing it replaces the load
        balancer and target groups.
      - In check mode it may be null (the network is not created yet); the plan then shows it as known after apply.
    type: str
  subnets:
    description:
      - The subnets of the load balancer, one per availability zone, at least two (the network layer's
        C(subnet_ids.public)). Changed in place. Required when O(state=present), except in check mode.
    type: list
    elements: str
  security_groups:
    description:
      - The security groups of the load balancer (the security_groups layer's C(group_ids.load_balancer)). Changed in
        place. Required when O(state=present), except in check mode.
    type: list
    elements: str
  scheme:
    description: Whether the load balancer faces the internet or only the VPC. Changing it replaces the load balancer.
    type: str
    choices: [internet-facing, internal]
    default: internet-facing
  idle_timeout:
    description: Seconds a connection may stay idle (1 to 4000).
    type: int
    default: 60
  deletion_protection:
    description:
      - Whether AWS refuses to delete the load balancer.
      - With it on, O(state=absent) (or a change that replaces the load balancer) fails before anything is
        changed, with a message saying to turn it off first; run once with O(deletion_protection=false), then
        with O(state=absent).
    type: bool
    default: false
  access_logs:
    description:
      - Write access logs to S3. Left out, access logs are off. The bucket policy must allow the load balancer
        to write (see the Elastic Load Balancing guide).
    type: dict
    suboptions:
      bucket:
        description: The S3 bucket.
        type: str
        required: true
      prefix:
        description: Key prefix in the bucket (no leading or trailing C(/)).
        type: str
        default: ""
  certificate_arn:
    description:
      - The ACM (or IAM) certificate for HTTPS (the certificate layer's C(arn)). With it, port 80 redirects to
        HTTPS and port 443 serves; without it, port 80 serves and there is no HTTPS listener.
    type: str
  ssl_policy:
    description:
      - The security policy of the HTTPS listener, one of the predefined ALB policies (checked before any AWS call
        against the list in the ELBv2 user guide, TLS 1.3 and post-quantum policies included).
    type: str
    default: ELBSecurityPolicy-TLS13-1-2-2021-06
  processes:
    description:
      - The processes (target groups) traffic goes to. Elastic Beanstalk's defaults for every option left out.
    type: list
    elements: dict
    default: [{name: default}]
    suboptions:
      name:
        description:
          - The process name (lowercase letters, digits, hyphens). The target group is C(<environment>-<name>),
            which must fit 30 characters.
        type: str
        required: true
      port:
        description: The port on the instances. Changing it replaces the target group.
        type: int
        default: 80
      protocol:
        description: The protocol to the instances. Changing it replaces the target group.
        type: str
        choices: [HTTP, HTTPS]
        default: HTTP
      health_check_path:
        description: The health check path; must start with C(/).
        type: str
        default: /
      health_check_interval:
        description: Seconds between health checks (5 to 300).
        type: int
        default: 15
      health_check_timeout:
        description: Seconds before a health check fails (2 to 120, below the interval).
        type: int
        default: 5
      healthy_threshold:
        description: Consecutive successes before a target is healthy (2 to 10).
        type: int
        default: 3
      unhealthy_threshold:
        description: Consecutive failures before a target is unhealthy (2 to 10).
        type: int
        default: 5
      matcher:
        description: The HTTP codes of a healthy answer, like C(200), C(200,302) or C(200-299).
        type: str
        default: "200"
      deregistration_delay:
        description: Seconds a deregistering target is given to finish its requests (0 to 3600).
        type: int
        default: 20
      stickiness:
        description: Whether requests of a client stick to one target (load balancer cookie).
        type: bool
        default: false
      stickiness_duration:
        description: Seconds the stickiness cookie lasts (1 to 604800).
        type: int
        default: 86400
  default_process:
    description:
      - The process the listener forwards to when no rule matches. Defaults to the process named C(default), or
        the first one listed.
    type: str
  rules:
    description:
      - Listener rules of the serving listener (HTTPS with a certificate, else HTTP), in evaluation order.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The rule's identity (lowercase letters, digits, hyphens). With a name, changed conditions are
            modified in place; without one, the rule is known by its conditions, so changing them makes a new rule.
        type: str
      priority:
        description:
          - The priority (1 to 50000). Left out, it is the previous rule's plus 1. Priorities must increase
            down the list.
        type: int
      conditions:
        description: What the rule matches (at least one value, at most five in all).
        type: dict
        required: true
        suboptions:
          path_patterns:
            description: Path patterns, like C(/api/*).
            type: list
            elements: str
            default: []
          host_headers:
            description: Host names, like C(api.example.com).
            type: list
            elements: str
            default: []
      forward:
        description: The process to forward matching requests to. Give this or O(rules[].fixed_response).
        type: str
      fixed_response:
        description: Answer matching requests directly.
        type: dict
        suboptions:
          status_code:
            description: A 2XX, 4XX or 5XX HTTP status code.
            type: str
            required: true
          content_type:
            description: The content type of the body.
            type: str
            choices: [text/plain, text/css, text/html, application/javascript, application/json]
            default: text/plain
          message_body:
            description: The body (at most 1024 characters).
            type: str
            default: ""
  allow_replacement:
    description:
      - Allow changes that delete a resource and create it again (load balancer scheme or VPC, a process's port,
        protocol or VPC). Without it such a change fails before anything is touched.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - O(wait) waits for a new load balancer to become active. Deleting the load balancer is always waited for
    (its target groups can only be deleted after it).
  - Deletion order is rules, listeners, the load balancer, then target groups.
"""

EXAMPLES = r"""
- name: The load balancer of an environment, HTTP only
  webstack.aws.load_balancer:
    environment: shop-prod
    vpc_id: "{{ network.network.vpc_id }}"
    subnets: "{{ network.network.subnet_ids.public }}"
    security_groups: ["{{ firewall.security_groups.group_ids.load_balancer }}"]

- name: HTTPS with a redirect from HTTP, an API process, and a maintenance answer for /old
  webstack.aws.load_balancer:
    environment: shop-prod
    vpc_id: "{{ network.network.vpc_id }}"
    subnets: "{{ network.network.subnet_ids.public }}"
    security_groups: ["{{ firewall.security_groups.group_ids.load_balancer }}"]
    certificate_arn: "{{ certificate.certificate.arn }}"
    idle_timeout: 120
    access_logs:
      bucket: shop-prod-logs
      prefix: alb
    processes:
      - name: default
        health_check_path: /health
      - name: api
        port: 8080
        health_check_path: /api/health
        stickiness: true
    rules:
      - name: api
        conditions:
          path_patterns: ["/api/*"]
        forward: api
      - conditions:
          path_patterns: ["/old/*"]
        fixed_response:
          status_code: "410"
          message_body: gone

- name: Delete the load balancer, its listeners, rules and target groups
  webstack.aws.load_balancer:
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
    - Values known only after apply (ARNs of resources still to be created) read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: V(target_group), V(load_balancer), V(listener) or V(listener_rule).
      type: str
      sample: listener_rule
    key:
      description:
        - The resource's key, also its C(webstack:resource) tag - the process name, V(load_balancer),
          V(http) / V(https), or C(rule-<name>) (C(rule-<digest of the conditions>) for a rule without a name).
      type: str
      sample: rule-api
    id:
      description: The resource's ARN; null for a create.
      type: str
    fields:
      description: Field name to C(before) and C(after).
      type: dict
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
  sample: ["create target_group default", "create load_balancer load_balancer", "create listener http"]
load_balancer:
  description:
    - The load balancer, as converged (ARNs and names are null in check mode for resources not created yet).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    name:
      description: The load balancer's name (the environment's).
      type: str
      sample: shop-prod
    arn:
      description: The load balancer's ARN.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-prod/50dc6c495c0c9188
    dns_name:
      description: The load balancer's DNS name.
      type: str
      sample: shop-prod-1234567890.us-east-1.elb.amazonaws.com
    canonical_hosted_zone_id:
      description: The hosted zone of the DNS name, for Route 53 alias records.
      type: str
      sample: Z35SXDOTRQ7X7K
    dimension:
      description: The CloudWatch C(LoadBalancer) dimension, C(app/<name>/<id>).
      type: str
      sample: app/shop-prod/50dc6c495c0c9188
    scheme:
      description: V(internet-facing) or V(internal).
      type: str
    vpc_id:
      description: The VPC.
      type: str
    default_process:
      description: The process the listener forwards to when no rule matches.
      type: str
      sample: default
    target_groups:
      description: Per process - C(arn), C(name), C(port) and C(dimension) (the CloudWatch C(TargetGroup) dimension).
      type: dict
      sample: {"default": {"arn": "arn:aws:elasticloadbalancing:...:targetgroup/shop-prod-default/0b1c",
               "name": "shop-prod-default", "port": 80, "dimension": "targetgroup/shop-prod-default/0b1c"}}
    target_group_arns:
      description: Process name to target group ARN (what the auto_scaling layer attaches its Auto Scaling group to).
      type: dict
    listener_arns:
      description: V(http) (and V(https) with a certificate) to listener ARN.
      type: dict
    rule_arns:
      description: Rule key to rule ARN.
      type: dict
    targets:
      description:
        - Per process, the registered targets with their health (DescribeTargetHealth) - C(id), C(port),
          C(state), C(reason), C(description).
      type: dict
      sample: {"default": [{"id": "i-0123456789abcdef0", "port": 80, "state": "healthy", "reason": null,
               "description": null}]}
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.load_balancer import LoadBalancerLayer, argument_spec


def main():
    run_layer(LoadBalancerLayer(), argument_spec())


if __name__ == "__main__":
    main()
