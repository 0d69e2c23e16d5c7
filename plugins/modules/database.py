#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: database
short_description: The RDS PostgreSQL database of a webstack environment (DB instance, subnet and parameter groups)
version_added: 0.2.0
description:
  - Converges the database layer of one environment in one task - the DB subnet group C(<environment>) over the
    network layer's database subnets, the DB parameter group C(<environment>-postgres<major>) with the user's
    parameters, and the PostgreSQL DB instance C(<environment>), never publicly accessible, tags copied to its
    snapshots, tagged at creation like every resource of the layer.
  - B(This layer holds users' data.) Deletion protection is on by default; deleting the instance (O(state=absent),
    or a change that replaces it) takes a final snapshot C(<environment>-final-<UTC yyyymmddHHMMSS>) unless
    O(final_snapshot=false), and keeps the automated backups.
  - "Changes go to the maintenance window unless O(apply_immediately=true). A change waiting for the window is
    listed in the instance's C(PendingModifiedValues); the module reads those values as already done, so a second
    run does not send the change again and reports no change. The result's C(pending_modifications) shows them."
  - Parameters converge exactly - a parameter removed from O(parameters) is reset to the engine default.
    Dynamic parameters apply at once, static ones at the next reboot (the module never reboots the instance;
    C(ParameterApplyStatus=pending-reboot) says one is due).
  - Reads - DescribeDBSubnetGroups and DescribeDBInstances by name (the instance's tags come with it), one
    DescribeDBParameterGroups, and ListTagsForResource and DescribeDBParameters (C(Source=user)) for each of the
    environment's parameter groups, plus ListTagsForResource for the subnet group.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  subnets:
    description:
      - The subnets of the DB subnet group, at least two in two availability zones (the network layer's
        C(subnet_ids.database)). Changed in place.
      - Required when O(state=present), except in check mode, where they may be null or empty (the network is not
        created yet); the plan then shows them as known after apply.
    type: list
    elements: str
  security_groups:
    description:
      - The VPC security groups of the instance (the security_groups layer's C(group_ids.database)). Changed in place.
      - Required when O(state=present), except in check mode (as O(subnets)).
    type: list
    elements: str
  engine_version:
    description:
      - The PostgreSQL version, C(<major>.<minor>). A newer minor version that RDS applied by itself is accepted as
        is (no downgrade is attempted).
      - A new major version needs O(allow_major_version_upgrade=true); the parameter group of the new family
        (C(<environment>-postgres<new major>)) is made with the same parameters, the instance moved to it, and the
        old group deleted after. A lower major version is refused.
    type: str
    default: "16.4"
  instance_class:
    description: The instance class, C(db.<family>.<size>), like C(db.t4g.micro) or C(db.m7g.large).
    type: str
    default: db.t4g.micro
  allocated_storage:
    description:
      - Storage in GiB (gp3 and gp2 - 20 to 65536, io2 - 100 to 65536). Storage only grows - a value below the
        current size (for example after storage autoscaling grew it) is left as it is.
    type: int
    default: 20
  max_allocated_storage:
    description:
      - The ceiling of storage autoscaling in GiB, above O(allocated_storage). Left out, storage autoscaling is off.
    type: int
  storage_type:
    description: The storage type.
    type: str
    choices: [gp3, gp2, io2]
    default: gp3
  iops:
    description:
      - Provisioned IOPS. Required for io2 (1000 to 256000); for gp3 only from 400 GiB (12000 to 64000; below, the
        baseline of 3000 IOPS is included). Left out, AWS's value stays.
    type: int
  storage_throughput:
    description:
      - gp3 throughput in MiB/s, only from 400 GiB (500 to 4000). Left out, AWS's value stays.
    type: int
  multi_az:
    description: Whether a standby runs in a second availability zone.
    type: bool
    default: false
  storage_encrypted:
    description:
      - Whether storage is encrypted. Create-only - a change replaces the instance (needs O(allow_replacement)).
    type: bool
    default: true
  kms_key_id:
    description:
      - The KMS key (ARN or key id, not an alias) of the encrypted storage; left out, the account's C(aws/rds) key.
        Create-only.
    type: str
  port:
    description: The port PostgreSQL listens on (1150 to 65535).
    type: int
    default: 5432
  database_name:
    description: The database created with the instance (Elastic Beanstalk's default name). Create-only.
    type: str
    default: ebdb
  master_username:
    description: The master user name. Create-only.
    type: str
    default: ebroot
  master_password:
    description:
      - The master password, 8 to 128 characters without C(/), C(") , C(@) or spaces. Never returned, never shown in
        the plan or diff (a change reads C(master_password (secret, not shown))).
      - Left out, RDS manages the password in AWS Secrets Manager (C(ManageMasterUserPassword)) and the result's
        C(secret_arn) names the secret. Leaving it out for an instance that had a password switches it to a
        managed password; giving one for an instance with a managed password switches it back.
    type: str
  update_password:
    description:
      - V(on_create) sends O(master_password) only when the instance is created. V(always) sends it on every run -
        the module then always reports a change (it cannot read the password back to compare).
    type: str
    choices: [on_create, always]
    default: on_create
  backup_retention:
    description: Days automated backups are kept (0 to 35; 0 turns automated backups off).
    type: int
    default: 7
  backup_window:
    description:
      - The daily backup window in UTC, C(hh24:mi-hh24:mi), at least 30 minutes, not overlapping
        O(maintenance_window). Left out, AWS picks one and it stays.
    type: str
  maintenance_window:
    description:
      - The weekly maintenance window in UTC, C(ddd:hh24:mi-ddd:hh24:mi) (like C(sun:04:00-sun:04:30)), at least
        30 minutes. Left out, AWS picks one and it stays.
    type: str
  parameters:
    description:
      - PostgreSQL parameters of the instance's parameter group, name to value (booleans become C(1) / C(0)).
        Parameters not listed are reset to the engine default.
    type: dict
    default: {}
  deletion_protection:
    description:
      - Whether RDS refuses to delete the instance. With it on, O(state=absent) or a replacement fails before
        anything is changed (check mode too); run once with O(deletion_protection=false) and O(state=present), then
        with O(state=absent). The module never turns protection off by itself.
    type: bool
    default: true
  apply_immediately:
    description:
      - Apply instance changes now (possibly with a restart) instead of in the next maintenance window. Changes
        waiting for the window count as done for the next run (see the description).
    type: bool
    default: false
  final_snapshot:
    description:
      - Take the snapshot C(<environment>-final-<UTC yyyymmddHHMMSS>) when the instance is deleted (O(state=absent)
        or a replacement). The snapshot is kept after the instance is gone; delete it yourself when no longer needed.
      - B(V(false) deletes the data with no final snapshot) - only the automated backups (kept for their retention)
        remain. Set it only when the data is truly disposable.
    type: bool
    default: true
  allow_replacement:
    description:
      - Allow a change of a create-only option (O(storage_encrypted), O(kms_key_id), O(database_name),
        O(master_username)), which deletes the instance (final snapshot per O(final_snapshot)) and creates an empty
        one. Without it such a change fails before anything is touched.
    type: bool
    default: false
  allow_major_version_upgrade:
    description: Allow O(engine_version) to move to a new major version. Without it such a change fails when planning.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Returns the exact plan without changing anything; refusals (deletion protection) fail the same way.
  idempotent:
    support: partial
    description:
      - A second run with the same options reports no change and makes no mutating AWS call, except with
        O(update_password=always), which sends the password every run.
notes:
  - O(wait) waits after a create until the instance is C(available) (it goes C(creating), C(backing-up), then
    C(available); this takes several minutes). Deleting the instance is always waited for, because its subnet and
    parameter groups can only be deleted once it is gone.
  - In the result of O(state=absent) the C(database) value is empty; the final snapshot is named
    C(<environment>-final-<UTC time of the delete>) (see the C(applied) list for when).
"""

EXAMPLES = r"""
- name: The database of an environment (password managed by RDS in Secrets Manager)
  webstack.aws.database:
    environment: shop-prod
    subnets: "{{ network.network.subnet_ids.database }}"
    security_groups: ["{{ firewall.security_groups.group_ids.database }}"]

- name: A bigger instance, storage autoscaling, windows and parameters, applied now
  webstack.aws.database:
    environment: shop-prod
    subnets: "{{ network.network.subnet_ids.database }}"
    security_groups: ["{{ firewall.security_groups.group_ids.database }}"]
    instance_class: db.m7g.large
    allocated_storage: 100
    max_allocated_storage: 500
    multi_az: true
    backup_retention: 14
    backup_window: "03:00-03:30"
    maintenance_window: "sun:04:00-sun:04:30"
    parameters:
      log_min_duration_statement: 500
      rds.force_ssl: 1
    apply_immediately: true

- name: Delete the database - first turn deletion protection off
  webstack.aws.database:
    environment: shop-prod
    subnets: "{{ network.network.subnet_ids.database }}"
    security_groups: ["{{ firewall.security_groups.group_ids.database }}"]
    deletion_protection: false

- name: Then delete it (a final snapshot is taken)
  webstack.aws.database:
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
    - Values known only after apply read C((known after apply ...)); a password being set reads C((secret, not shown)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: V(subnet_group), V(parameter_group) or V(db_instance).
      type: str
      sample: db_instance
    key:
      description: V(subnet_group), the parameter group's family (like V(postgres16)), or V(database).
      type: str
      sample: database
    id:
      description: The resource's name; null for a create.
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
  sample: ["create subnet_group subnet_group", "create parameter_group postgres16", "create db_instance database"]
database:
  description:
    - The database, as converged (null in check mode for what is not created yet). Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    identifier:
      description: The DB instance identifier (the environment's name).
      type: str
      sample: shop-prod
    arn:
      description: The DB instance ARN.
      type: str
      sample: arn:aws:rds:us-east-1:123456789012:db:shop-prod
    endpoint:
      description: The address to connect to (null until the instance is available).
      type: str
      sample: shop-prod.abcdefghijkl.us-east-1.rds.amazonaws.com
    port:
      description: The port.
      type: int
      sample: 5432
    secret_arn:
      description:
        - The Secrets Manager secret holding the master password when RDS manages it; null when a password was given.
      type: str
      sample: arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-abcdef
    master_username:
      description: The master user name.
      type: str
      sample: ebroot
    database_name:
      description: The database name.
      type: str
      sample: ebdb
    engine_version:
      description: The PostgreSQL version the instance runs.
      type: str
      sample: "16.4"
    status:
      description: The instance status (C(available), C(modifying), ...).
      type: str
      sample: available
    parameter_group:
      description: The DB parameter group's name.
      type: str
      sample: shop-prod-postgres16
    subnet_group:
      description: The DB subnet group's name.
      type: str
      sample: shop-prod
    pending_modifications:
      description: Changes waiting for the maintenance window (RDS's C(PendingModifiedValues)); empty when none.
      type: dict
      sample: {"DBInstanceClass": "db.t4g.small"}
    final_snapshot:
      description: The identifier of the final snapshot taken by a replacement in this run, else null.
      type: str
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.database import DatabaseLayer, argument_spec


def main():
    run_layer(DatabaseLayer(), argument_spec())


if __name__ == "__main__":
    main()
