#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: security_groups
short_description: The security-group chain of a webstack environment
version_added: 0.1.0
description:
  - Converges the firewall of one environment in one task - the chain load balancer -> instances ->
    database and cache.
  - The load balancer group admits O(load_balancer_ports) from O(load_balancer_cidrs); the instance group
    admits O(instance_port) from the load balancer group only; the database and cache groups admit their
    port from the instance group only. O(extra_ingress) adds more (for example SSH from a bastion range).
  - Rules converge exactly - missing ones are added, stray ones (added by hand, say) are removed, and
    nothing that already matches is touched. Every group keeps AWS's default egress (all traffic out);
    any other egress rule is removed.
  - Groups are named C(<environment>-load-balancer), C(<environment>-instance), C(<environment>-database)
    and C(<environment>-cache).
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  vpc_id:
    description:
      - The VPC the groups belong to (the network layer's C(vpc_id)). Required when O(state=present).
      - In check mode it may be null (the network is not created yet); the plan then shows the VPC as
        known after apply.
    type: str
  groups:
    description: Which groups of the chain to manage. V(load_balancer) and V(instance) are always needed.
    type: list
    elements: str
    choices: [load_balancer, instance, database, cache]
    default: [load_balancer, instance, database, cache]
  load_balancer_ports:
    description: Ports the load balancer accepts (TCP).
    type: list
    elements: int
    default: [80, 443]
  load_balancer_cidrs:
    description: IPv4 and IPv6 ranges the load balancer accepts traffic from.
    type: list
    elements: str
    default: ["0.0.0.0/0", "::/0"]
  instance_port:
    description: The port the load balancer sends traffic to on the instances (nginx on the instances).
    type: int
    default: 80
  database_port:
    description: The database's port, open to the instance group.
    type: int
    default: 5432
  cache_port:
    description: The cache's port, open to the instance group.
    type: int
    default: 6379
  extra_ingress:
    description: More ingress rules, each on one of the managed groups.
    type: list
    elements: dict
    default: []
    suboptions:
      group:
        description: The group the rule goes on.
        type: str
        required: true
        choices: [load_balancer, instance, database, cache]
      protocol:
        description: V(tcp), V(udp), V(icmp) or V(all).
        type: str
        choices: [tcp, udp, icmp, all]
        default: tcp
      port:
        description: The port (the first of a range with O(extra_ingress[].to_port)). Required for tcp and udp.
        type: int
      to_port:
        description: The last port of a range.
        type: int
      cidr:
        description: An IPv4 or IPv6 source range. Give this or O(extra_ingress[].source_group).
        type: str
      source_group:
        description: One of the managed groups as the source.
        type: str
        choices: [load_balancer, instance, database, cache]
      description:
        description: The rule's description.
        type: str
        default: ""
  allow_replacement:
    description:
      - Allow changes that delete a group and create it again (another VPC).
      - Without it such a change fails before anything is touched.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Changing a rule's description replaces that rule (revoke, then authorize).
"""

EXAMPLES = r"""
- name: The security-group chain of an environment
  webstack.aws.security_groups:
    environment: shop-prod
    vpc_id: "{{ network.network.vpc_id }}"

- name: HTTPS only, SSH from a bastion range, no cache
  webstack.aws.security_groups:
    environment: shop-prod
    vpc_id: "{{ network.network.vpc_id }}"
    groups: [load_balancer, instance, database]
    load_balancer_ports: [443]
    extra_ingress:
      - group: instance
        port: 22
        cidr: 10.99.0.0/24
        description: ssh from the bastion

- name: Delete the groups
  webstack.aws.security_groups:
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
    - Values known only after apply (ids of groups still to be created) read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: Always V(security_group).
      type: str
      sample: security_group
    key:
      description: The group's role in the chain, also its C(webstack:resource) tag.
      type: str
      sample: instance
    id:
      description: The group's id; null for a create.
      type: str
      sample: sg-0123456789abcdef0
    fields:
      description: Field name (C(ingress), C(egress), C(tags), ...) to C(before) and C(after).
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
  sample: ["create security_group load_balancer"]
security_groups:
  description:
    - The groups, as converged (ids are null in check mode for groups not created yet).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    vpc_id:
      description: The VPC of the groups.
      type: str
      sample: vpc-0123456789abcdef0
    group_ids:
      description: Role in the chain to group id.
      type: dict
      sample: {"load_balancer": "sg-0a", "instance": "sg-0b", "database": "sg-0c", "cache": "sg-0d"}
    group_names:
      description: Role in the chain to group name.
      type: dict
      sample: {"load_balancer": "shop-prod-load-balancer", "instance": "shop-prod-instance"}
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.security_groups import (
    SecurityGroupsLayer,
    argument_spec,
)


def main():
    run_layer(SecurityGroupsLayer(), argument_spec())


if __name__ == "__main__":
    main()
