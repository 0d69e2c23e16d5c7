#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: The network layer of a webstack environment (VPC, subnets, gateways, routes)
version_added: 0.1.0
description:
  - Converges the network of one environment in one task - a VPC, public / private / database subnets
    in each availability zone, an internet gateway, NAT gateways with their Elastic IPs, and route tables
    with their associations.
  - Public subnets route to the internet gateway; private subnets route to the NAT gateway of their zone
    (or the single shared one); database subnets have no route out of the VPC.
  - Subnet ranges are carved from O(cidr_block) automatically and stably - the VPC is split into four
    blocks (public, private, database, one spare) and each block into 8 zone slots, so adding a zone later
    never moves an existing subnet. A /16 gives /21 subnets. Or give them in O(subnets).
  - Reads each resource kind with one call filtered by the environment's tags; a run with nothing to do
    makes no mutating call and reports no change. Check mode returns the exact plan; C(--diff) renders it.
  - Changing a create-only setting (the VPC or a subnet range, a zone) needs the resources replaced; the
    module refuses unless O(allow_replacement=true).
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  cidr_block:
    description:
      - The VPC's IPv4 range, from /16 to /28. Auto-carving needs /23 or larger.
      - Create-only - changing it replaces the VPC and everything in it.
    type: str
    default: 10.0.0.0/16
  az_count:
    description:
      - How many availability zones to spread over (the first ones of the region, in name order).
      - Defaults to 2 when O(availability_zones) is not given. More zones than the region has is an error.
    type: int
  availability_zones:
    description:
      - The zones to use, by name. Overrides the automatic choice; O(az_count) must then be omitted or match.
    type: list
    elements: str
  subnets:
    description:
      - Explicit subnet ranges, one per zone for each tier, in the order of the zones. Omit to carve them
        automatically.
      - Each must lie inside O(cidr_block) and not overlap another.
    type: dict
    suboptions:
      public:
        description: Ranges of the public subnets (load balancer, NAT gateways).
        type: list
        elements: str
        required: true
      private:
        description: Ranges of the private subnets (instances).
        type: list
        elements: str
        required: true
      database:
        description: Ranges of the database subnets (RDS, ElastiCache); no route out of the VPC.
        type: list
        elements: str
        required: true
  nat_gateways:
    description:
      - V(one_per_az) - a NAT gateway in each zone, so losing a zone does not cut the others off (the highly
        available choice).
      - V(single) - one NAT gateway shared by every zone (cheaper).
      - V(none) - no NAT gateway; private subnets have no route out of the VPC.
    type: str
    choices: [one_per_az, single, none]
    default: one_per_az
  enable_dns_support:
    description: Whether the Amazon DNS server resolves names in the VPC.
    type: bool
    default: true
  enable_dns_hostnames:
    description: Whether instances with public addresses get public DNS names.
    type: bool
    default: true
  map_public_ip_on_launch:
    description: Whether instances launched in the public subnets get a public IPv4 address.
    type: bool
    default: false
  allow_replacement:
    description:
      - Allow changes that delete resources and create them again (a new VPC or subnet range, another zone).
      - Without it such a change fails before anything is touched, and the error lists what would be replaced.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Deleting the layer (O(state=absent)) waits for the NAT gateways to be gone before releasing their
    Elastic IPs and deleting the subnets. Delete the environment's other layers (security groups, load
    balancer, instances) first - a VPC that still holds them cannot be deleted.
"""

EXAMPLES = r"""
- name: A two-zone network with a NAT gateway per zone
  webstack.aws.network:
    environment: shop-prod
    cidr_block: 10.20.0.0/16
    tags:
      team: payments

- name: Three zones, one shared NAT gateway
  webstack.aws.network:
    environment: shop-staging
    cidr_block: 10.30.0.0/16
    az_count: 3
    nat_gateways: single

- name: Explicit subnet ranges in chosen zones
  webstack.aws.network:
    environment: shop-dev
    cidr_block: 10.40.0.0/20
    availability_zones: [us-east-1a, us-east-1b]
    subnets:
      public: [10.40.0.0/24, 10.40.1.0/24]
      private: [10.40.4.0/23, 10.40.6.0/23]
      database: [10.40.10.0/24, 10.40.11.0/24]
    nat_gateways: none

- name: Show what would change, without changing it
  webstack.aws.network:
    environment: shop-prod
    cidr_block: 10.20.0.0/16
  check_mode: true
  diff: true
  register: network_plan

- name: Delete the network (after the other layers)
  webstack.aws.network:
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
    - Values known only after apply (ids of resources still to be created) read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: create
    kind:
      description: V(vpc), V(internet_gateway), V(subnet), V(elastic_ip), V(nat_gateway) or V(route_table).
      type: str
      sample: subnet
    key:
      description: The resource's key in the layer, also its C(webstack:resource) tag.
      type: str
      sample: public-us-east-1a
    id:
      description: The AWS id of the existing resource; null for a create.
      type: str
      sample: subnet-0123456789abcdef0
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"cidr_block": {"before": null, "after": "10.0.0.0/21"}}
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
  sample: ["create vpc vpc", "create subnet public-us-east-1a"]
network:
  description:
    - The network, as converged (ids are null in check mode for resources not created yet).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    vpc_id:
      description: The VPC's id.
      type: str
      sample: vpc-0123456789abcdef0
    cidr_block:
      description: The VPC's range.
      type: str
      sample: 10.0.0.0/16
    availability_zones:
      description: The zones used, in order.
      type: list
      elements: str
      sample: [us-east-1a, us-east-1b]
    subnets:
      description: Tier (V(public), V(private), V(database)) to zone to C(id) and C(cidr_block).
      type: dict
      sample: {"public": {"us-east-1a": {"id": "subnet-0a", "cidr_block": "10.0.0.0/21"}}}
    subnet_ids:
      description: Tier to the list of subnet ids, in zone order (handy for load balancers and subnet groups).
      type: dict
      sample: {"public": ["subnet-0a", "subnet-0b"], "private": ["subnet-1a", "subnet-1b"]}
    internet_gateway_id:
      description: The internet gateway's id.
      type: str
      sample: igw-0123456789abcdef0
    nat_gateway_ids:
      description: Zone to NAT gateway id (one entry when O(nat_gateways=single), none when V(none)).
      type: dict
      sample: {"us-east-1a": "nat-0123456789abcdef0"}
    elastic_ips:
      description: Zone to the NAT gateway's Elastic IP (C(allocation_id), C(public_ip)).
      type: dict
      sample: {"us-east-1a": {"allocation_id": "eipalloc-0123", "public_ip": "198.51.100.7"}}
    route_table_ids:
      description: Route table key (V(public), V(private-<zone>), V(database)) to id.
      type: dict
      sample: {"public": "rtb-0a", "private-us-east-1a": "rtb-0b", "database": "rtb-0c"}
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.network import NetworkLayer, argument_spec


def main():
    run_layer(NetworkLayer(), argument_spec())


if __name__ == "__main__":
    main()
