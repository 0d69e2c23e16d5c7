#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dns
short_description: The DNS layer of a webstack environment (Route 53 zone, aliases, CNAME, blue/green swap)
version_added: 0.1.0
description:
  - Converges the public Route 53 hosted zone of O(domain) and the records one environment owns in it - the
    C(api.<domain>) alias A (and AAAA) record to the load balancer, the environment CNAME
    C(<environment>.<domain>) to the load balancer's DNS name (TTL 60), and any O(records) (for example
    C(cdn.<domain>) as an alias to CloudFront).
  - The zone is found by name, or created (with a C(CallerReference), so a retried create never makes two)
    when O(create_zone=true), and tagged when created. A zone the module did not create for this environment
    is never changed or deleted. O(state=absent) deletes a zone this environment created only when nothing
    but this environment's records is left in it (another environment's records keep it); this
    environment's other records in it (certificate validation records) go with it.
  - Route 53 records have no tags, so ownership is kept in the zone - for every name the environment owns,
    a TXT record C(_webstack-owner.<name>) reads
    C("webstack:environment=<environment>;webstack:layer=dns;types=<types>"). Only record sets listed there
    are ever changed or deleted; a record the module would create that already exists and is not owned
    fails the run with a message naming it.
  - Record groups left out are left alone - without O(load_balancer_dns_name) the C(api) and CNAME records
    are not touched, without O(records) the other records are not touched. A group that is given converges
    exactly - owned records of that group that are not listed are deleted.
  - O(swap) is the blue/green swap - the CNAMEs of this environment and of O(swap.peer) exchange targets in one
    atomic ChangeResourceRecordSets batch. It is idempotent - O(swap.swapped) is the desired mapping, not a
    toggle - and check mode shows both records' before and after.
  - The swap is state, kept in the zone - while two environments are swapped, each has a TXT record
    C(_webstack-swap.<environment>.<domain>) reading
    C("webstack:environment=<environment>;webstack:layer=dns;swapped-with=<peer>"), written and removed in the
    swap's own batch (plan kind C(swap)). A later run with O(load_balancer_dns_name) (a provision of either
    environment) keeps the swap - it points the peer's CNAME at this environment's load balancer and leaves its own
    CNAME, which the peer's run keeps at the peer's load balancer - so only a run with O(swap) changes where the
    names point. Such a run refuses to go on when the two swap states disagree, and when the CNAMEs look swapped
    with no state recorded (by an earlier release) - run the swap once to record it.
  - O(state=absent) of a swapped environment is refused while the peer's CNAME exists - swap back first.
  - "Reads cost one ListHostedZonesByName, one ListTagsForResource per zone with that name, and one paginated
    ListResourceRecordSets. All the changes of a run are one ChangeResourceRecordSets batch (atomic),
    followed by GetChange until C(INSYNC) when O(wait=true)."
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  domain:
    description:
      - The zone's domain name, for example C(example.com). Needs at least two labels; no wildcard.
    type: str
    required: true
  create_zone:
    description:
      - Create the public hosted zone when there is none named O(domain). With V(false) a missing zone is an error.
      - A zone that already exists is used as it is (and never deleted by this module unless it created it).
    type: bool
    default: true
  load_balancer_dns_name:
    description:
      - The load balancer's DNS name (the C(load_balancer) layer's output). When given, C(<api_name>.<domain>)
        is an alias A record (and AAAA with O(ipv6)) to it, and C(<environment>.<domain>) a CNAME to it with TTL 60.
      - When omitted, those records are left alone.
      - While this environment is swapped with another (see O(swap)), its CNAME is left as it is and the peer's
        CNAME points to this load balancer instead.
      - With O(swap), this environment's own load balancer (required).
    type: str
  load_balancer_hosted_zone_id:
    description:
      - The load balancer's canonical hosted zone id (for the alias target). Required with O(load_balancer_dns_name)
        unless O(swap) is given.
    type: str
  api_name:
    description: The name of the alias record to the load balancer, relative to O(domain) (V(@) for the apex).
    type: str
    default: api
  ipv6:
    description: Also an alias AAAA record for C(<api_name>.<domain>) (for a dualstack load balancer).
    type: bool
    default: false
  evaluate_target_health:
    description: Whether the load balancer alias records evaluate the target's health.
    type: bool
    default: true
  records:
    description:
      - Other records this environment owns in the zone. When given (even as an empty list) they converge exactly,
        among this environment's records that are not the load balancer ones; when omitted they are left alone.
      - Names are relative to O(domain) (C(cdn) is C(cdn.<domain>), V(@) the apex) unless they end with O(domain)
        or a dot. A leading C(*.) makes a wildcard record.
    type: list
    elements: dict
    suboptions:
      name:
        description: The record's name.
        type: str
        required: true
      type:
        description: The record type. Alias records are V(A) or V(AAAA).
        type: str
        required: true
        choices: [A, AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT]
      ttl:
        description: Time to live in seconds (not for alias records).
        type: int
        default: 300
      values:
        description:
          - The values (not with O(records[].alias)). TXT values are quoted for you when not already quoted.
          - A CNAME has exactly one value.
        type: list
        elements: str
      alias:
        description: An alias target instead of values (CloudFront - O(records[].alias.hosted_zone_id=Z2FDTNDATAQYW2)).
        type: dict
        suboptions:
          dns_name:
            description: The target's DNS name.
            type: str
            required: true
          hosted_zone_id:
            description: The target's hosted zone id.
            type: str
            required: true
          evaluate_target_health:
            description: Whether Route 53 evaluates the target's health.
            type: bool
            default: false
  swap:
    description:
      - The blue/green swap of the environment CNAMEs of this environment and O(swap.peer), in one atomic batch.
      - A mode of its own - only those two CNAMEs and the two environments' swap states are changed (both CNAMEs
        must exist, each owned by its environment), and O(records) must not be given.
      - Refused when either environment is swapped with a third one.
      - Each environment's own target is known - this one's is O(load_balancer_dns_name); the peer's is what its
        CNAME holds when not swapped (or what this one's holds when swapped).
    type: dict
    suboptions:
      peer:
        description: The other environment.
        type: str
        required: true
      swapped:
        description:
          - V(true) - C(<environment>.<domain>) points to the peer's load balancer and C(<peer>.<domain>) to this
            environment's. V(false) - each points to its own.
        type: bool
        required: true
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Returns the exact plan (both sides of a swap included) without changing anything.
notes:
  - Records are keyed C(<name>/<type>) in the plan, for example C(api.example.com/A).
  - Records with a routing policy (a C(SetIdentifier)) are never read or changed.
"""

EXAMPLES = r"""
- name: The zone, the api alias and the environment CNAME to the load balancer
  webstack.aws.dns:
    environment: shop-blue
    domain: example.com
    load_balancer_dns_name: "{{ lb.load_balancer.dns_name }}"
    load_balancer_hosted_zone_id: "{{ lb.load_balancer.canonical_hosted_zone_id }}"

- name: The CDN alias (to CloudFront) and a TXT record, in an existing zone
  webstack.aws.dns:
    environment: shop-blue
    domain: example.com
    create_zone: false
    records:
      - name: cdn
        type: A
        alias:
          dns_name: d111111abcdef8.cloudfront.net
          hosted_zone_id: Z2FDTNDATAQYW2
      - name: "@"
        type: TXT
        values: ["v=spf1 -all"]

- name: Blue/green - send shop-blue's CNAME to green's load balancer and green's to blue's
  webstack.aws.dns:
    environment: shop-blue
    domain: example.com
    load_balancer_dns_name: "{{ blue_lb_dns_name }}"
    swap:
      peer: shop-green
      swapped: true

- name: Delete this environment's records (and the zone, if it created it and nothing else is left in it)
  webstack.aws.dns:
    environment: shop-blue
    domain: example.com
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
      description: V(hosted_zone), V(swap) (an environment's swap state, keyed by the environment) or V(record).
      type: str
      sample: record
    key:
      description: V(zone) for the zone; C(<name>/<type>) for a record.
      type: str
      sample: shop-blue.example.com/CNAME
    id:
      description: The zone id, or the record's key; null for a create.
      type: str
      sample: Z0123456789ABCDEFGHIJ
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"values": {"before": ["blue-1.elb.amazonaws.com"], "after": ["green-1.elb.amazonaws.com"]}}
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
  sample: ["create hosted_zone zone", "create record api.example.com/A"]
dns:
  description:
    - The zone and this environment's records, as converged (the zone id is null in check mode when the zone
      is still to be created). Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-blue
    domain:
      description: The zone's domain.
      type: str
      sample: example.com
    hosted_zone_id:
      description: The zone's id (without C(/hostedzone/)).
      type: str
      sample: Z0123456789ABCDEFGHIJ
    zone_created_by_environment:
      description: Whether this environment created (and so owns) the zone.
      type: bool
      sample: true
    name_servers:
      description: The zone's name servers (delegate the domain to them).
      type: list
      elements: str
      sample: [ns-2048.awsdns-64.com, ns-2049.awsdns-65.net]
    cname:
      description: The environment CNAME's name.
      type: str
      sample: shop-blue.example.com
    swapped_with:
      description:
        - The environment this one is swapped with (each CNAME points at the other's load balancer), or null.
        - Null when the run managed neither CNAME (no O(load_balancer_dns_name), no O(swap)).
      type: str
      sample: shop-green
    records:
      description:
        - Every record this environment owns in the zone (C(name), C(type), C(ttl), C(values), C(alias)).
        - With O(swap), or while swapped, also the peer's CNAME that this run manages.
      type: list
      elements: dict
      sample: [{"name": "shop-blue.example.com", "type": "CNAME", "ttl": 60, "values": ["blue-1.elb.amazonaws.com"],
                "alias": null}]
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.dns import DnsLayer, argument_spec


def main():
    run_layer(DnsLayer(), argument_spec())


if __name__ == "__main__":
    main()
