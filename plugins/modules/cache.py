#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cache
short_description: The ElastiCache Redis or Valkey replication group of a webstack environment
version_added: 0.2.0
description:
  - Converges the cache layer of one environment in one task - a cache subnet group named after the environment
    in the network layer's database subnets, and one ElastiCache replication group (cluster mode disabled, never a
    bare cache cluster) named after the environment, with one primary and O(replicas) read replicas.
  - Automatic failover and Multi-AZ are on exactly when there is at least one replica (AWS needs a replica to fail
    over to); they follow O(replicas).
  - Encryption at rest and in transit are on by default; an AUTH token (O(auth_token)) can be set only with
    encryption in transit. The token is never returned, never shown in the plan or diff (the plan reads
    C((secret, not shown))) and never logged.
  - In-place changes go through C(ModifyReplicationGroup) (node type, engine version, security groups, snapshot
    retention and window, maintenance window, transit encryption, failover), the replica count through
    C(IncreaseReplicaCount) / C(DecreaseReplicaCount) (applied at once), and the subnets through
    C(ModifyCacheSubnetGroup). When several calls are needed the module waits for the group to be C(available)
    between them. The engine, the port, encryption at rest and the subnet group cannot change in place - such a
    change needs O(allow_replacement=true), and the replacement deletes the group (with a final snapshot unless
    O(final_snapshot=false)) before making the new one, so the data is lost from the cache.
  - With O(apply_immediately=false) (the default) AWS keeps node type and engine version changes for the next
    maintenance window. Those pending changes (C(PendingModifiedValues)) count as done, so a second run is a no-op;
    they are returned in C(cache.pending_modifications).
  - Turning encryption in transit on or off in place is a migration AWS makes in two steps through the
    C(preferred) mode, which accepts both encrypted and plain connections. The first run moves to C(preferred)
    (the plan says so); move the clients over, then run again to reach C(required) (or off).
  - Reads - C(DescribeReplicationGroups) and C(DescribeCacheSubnetGroups) by name, C(DescribeCacheClusters) for the
    primary cluster (engine version, security groups, subnet group and maintenance window are only there), and one
    C(ListTagsForResource) for each of the two resources - five calls on a no-op run.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  subnets:
    description:
      - The subnets of the cache subnet group (the network layer's C(subnet_ids.database)). Changed in place.
      - Required when O(state=present), except in check mode, where it may be null (the network is not created
        yet); the plan then shows it as known after apply.
    type: list
    elements: str
  security_groups:
    description:
      - The security groups of the replication group (the security_groups layer's C(group_ids.cache)). Changed in place.
      - Required when O(state=present), except in check mode (null then - known after apply).
    type: list
    elements: str
  engine:
    description: The engine. Changing it replaces the replication group.
    type: str
    choices: [redis, valkey]
    default: redis
  engine_version:
    description:
      - The engine version, C(major.minor) like C(7.1) (AWS answers with the patch level, C(7.1.0), which counts
        as the same). Defaults to C(7.1) for V(redis) and C(8.0) for V(valkey). Upgraded in place.
    type: str
  node_type:
    description: The node type, like C(cache.t4g.micro) or C(cache.r7g.large). Changed in place.
    type: str
    default: cache.t4g.micro
  replicas:
    description:
      - Read replicas beside the primary, 0 to 5. With 1 or more, automatic failover and Multi-AZ are on; with 0
        they are off (they are turned off before the last replica goes).
    type: int
    default: 1
  port:
    description: The port the cache listens on. Changing it replaces the replication group.
    type: int
    default: 6379
  at_rest_encryption:
    description: Encrypt the data at rest (with the AWS managed key). Changing it replaces the replication group.
    type: bool
    default: true
  transit_encryption:
    description:
      - Require TLS for connections. Changed in place in two steps (see the description).
    type: bool
    default: true
  auth_token:
    description:
      - The AUTH token (password) clients give. Set when the group is created, and added to a group that has none.
      - 16 to 128 printable ASCII characters, without C(/), C("), C(@), C(%) or spaces. Needs
        O(transit_encryption=true).
      - Left out, a token the group already has is left alone. Never returned, shown or logged.
    type: str
  update_auth_token:
    description:
      - V(on_create) sets O(auth_token) when the group is created (or has no token yet) and never changes it after.
      - V(always) sends O(auth_token) on every run with the C(ROTATE) strategy - AWS then accepts both the previous
        and the new token until the next rotation - so the module reports a change on every run. The module cannot
        tell whether the token given is already the group's, since AWS never returns it.
    type: str
    choices: [on_create, always]
    default: on_create
  snapshot_retention:
    description: Days automatic snapshots are kept, 0 (no automatic snapshots) to 35.
    type: int
    default: 1
  snapshot_window:
    description:
      - The daily time range (UTC) for the automatic snapshot, C(hh24:mi-hh24:mi), at least 60 minutes, like
        C(05:00-06:00); it must not overlap O(maintenance_window). Left out, AWS chooses it (and it is left alone).
    type: str
  maintenance_window:
    description:
      - The weekly maintenance window (UTC), C(ddd:hh24:mi-ddd:hh24:mi), 60 minutes to 24 hours, like
        C(sun:23:00-mon:01:00). Left out, AWS chooses it (and it is left alone).
    type: str
  apply_immediately:
    description:
      - Apply node type and engine version changes at once rather than in the next maintenance window.
        Replica count changes are always applied at once.
    type: bool
    default: false
  final_snapshot:
    description:
      - Take a final snapshot, named C(<environment>-final-<UTC yyyymmddHHMMSS>), when the replication group is
        deleted (O(state=absent), or a replacement). V(false) deletes without one - the data is then gone for good.
    type: bool
    default: true
  allow_replacement:
    description:
      - Allow changes that delete the replication group and create it again (engine, port, encryption at rest).
        Without it such a change fails before anything is touched.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  idempotent:
    support: partial
    description:
      - A second run with the same options reports no change and makes no mutating AWS call, except with
        O(update_auth_token=always), which rotates the token on every run.
notes:
  - O(wait) waits for a new replication group to become C(available) (polling its status; it takes several
    minutes on AWS). Deleting it is always waited for, since the subnet group can only be deleted after it.
  - Deletion order is the replication group, then the subnet group.
"""

EXAMPLES = r"""
- name: The cache of an environment (Redis 7.1, one replica, encrypted, with an AUTH token)
  webstack.aws.cache:
    environment: shop-prod
    subnets: "{{ network.network.subnet_ids.database }}"
    security_groups: ["{{ firewall.security_groups.group_ids.cache }}"]
    auth_token: "{{ vault_cache_auth_token }}"

- name: Valkey, two replicas, a larger node type applied at once, set windows
  webstack.aws.cache:
    environment: shop-prod
    subnets: "{{ network.network.subnet_ids.database }}"
    security_groups: ["{{ firewall.security_groups.group_ids.cache }}"]
    engine: valkey
    node_type: cache.r7g.large
    replicas: 2
    snapshot_retention: 7
    snapshot_window: "03:00-04:00"
    maintenance_window: "sun:05:00-sun:06:00"
    apply_immediately: true

- name: Rotate the AUTH token (the previous one is accepted until the next rotation)
  webstack.aws.cache:
    environment: shop-prod
    subnets: "{{ network.network.subnet_ids.database }}"
    security_groups: ["{{ firewall.security_groups.group_ids.cache }}"]
    auth_token: "{{ vault_cache_auth_token_new }}"
    update_auth_token: always

- name: Delete the cache (a final snapshot is kept)
  webstack.aws.cache:
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
    - The AUTH token reads C((secret, not shown)); values known only after apply read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: V(cache_subnet_group) or V(replication_group).
      type: str
      sample: replication_group
    key:
      description: The resource's key, also its C(webstack:resource) tag - V(subnet_group) or V(cache).
      type: str
      sample: cache
    id:
      description: The subnet group's name or the replication group's id; null for a create.
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
  sample: ["create cache_subnet_group subnet_group", "create replication_group cache"]
cache:
  description:
    - The replication group, as converged (ids and endpoints are null in check mode before it exists).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The replication group id (the environment's name).
      type: str
      sample: shop-prod
    arn:
      description: The replication group's ARN.
      type: str
      sample: arn:aws:elasticache:us-east-1:123456789012:replicationgroup:shop-prod
    primary_endpoint:
      description: The address of the primary (writes).
      type: str
      sample: master.shop-prod.abc123.use1.cache.amazonaws.com
    reader_endpoint:
      description: The address that spreads reads over the replicas (null while AWS has none to report).
      type: str
      sample: replica.shop-prod.abc123.use1.cache.amazonaws.com
    port:
      description: The port.
      type: int
      sample: 6379
    engine:
      description: V(redis) or V(valkey).
      type: str
    engine_version:
      description: The engine version asked for.
      type: str
      sample: "7.1"
    node_type:
      description: The node type asked for (see RV(cache.pending_modifications) for one not applied yet).
      type: str
      sample: cache.t4g.micro
    replicas:
      description: The number of read replicas.
      type: int
      sample: 1
    status:
      description: The replication group's status as last read (V(available), V(creating), V(modifying)...).
      type: str
      sample: available
    subnet_group:
      description: The cache subnet group's name.
      type: str
      sample: shop-prod
    pending_modifications:
      description:
        - Changes AWS keeps for the maintenance window or is making - C(node_type), C(engine_version),
          C(automatic_failover), C(transit_encryption), C(auth_token_status) - when there are any.
      type: dict
      sample: {"node_type": "cache.t4g.small"}
    final_snapshot:
      description: The final snapshot taken in this run (when the group was replaced), else null.
      type: str
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.cache import CacheLayer, argument_spec


def main():
    run_layer(CacheLayer(), argument_spec())


if __name__ == "__main__":
    main()
