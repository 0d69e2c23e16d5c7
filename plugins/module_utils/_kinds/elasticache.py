# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ElastiCache resource kinds: the cache subnet group and the Redis / Valkey replication group.

Both are named after the environment, so each is read with one call by name:
DescribeCacheSubnetGroups(CacheSubnetGroupName) and DescribeReplicationGroups(ReplicationGroupId)
("not found" is "none"), and the tags of each with one ListTagsForResource.  The replication group's own
description has no engine version, security groups, subnet group nor maintenance window: those are read
from its primary cluster with one DescribeCacheClusters(CacheClusterId).  A no-op run reads with five calls.

Changes waiting for the maintenance window (``PendingModifiedValues`` of the group and of its primary
cluster: node type, engine version, failover, transit encryption) are laid over what is read, so a second
run after ``apply_immediately=false`` is a no-op.
"""

from __future__ import annotations

import dataclasses
import datetime

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = None

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_RESOURCE,
    Current,
    EngineError,
    Kind,
    contains_unknown,
    error_code,
    not_found,
    owned,
    tag_dict,
    tag_list,
)

SUBNET_GROUP_KEY = "subnet_group"
GROUP_KEY = "cache"
SECRET = "(secret, not shown)"  # noqa: S105 - what the plan shows instead of the token
SECRET_ROTATED = "(secret, not shown: rotated on every run)"  # noqa: S105 - likewise
# What a field reads when the primary cluster could not be described (an emulator that keeps no clusters
# for a replication group's members): such a field is not compared, rather than always reported changed.
NOT_READ = "(not readable: the primary cluster was not found)"
CLUSTER_FIELDS = ("engine_version", "security_groups", "maintenance_window", "subnet_group")
SUBNET_GROUP_NOT_FOUND = ("CacheSubnetGroupNotFoundFault", "CacheSubnetGroupNotFound")
GROUP_NOT_FOUND = ("ReplicationGroupNotFoundFault", "ReplicationGroupNotFound")
CLUSTER_NOT_FOUND = ("CacheClusterNotFound", "CacheClusterNotFoundFault")
GROUP_EXISTS = ("ReplicationGroupAlreadyExistsFault", "ReplicationGroupAlreadyExists")


def read_tags(ctx, arn):
    return tag_dict(ctx.call("elasticache", "list_tags_for_resource", ResourceName=arn).get("TagList"))


def set_tags(ctx, arn, add, remove):
    if add:
        ctx.call("elasticache", "add_tags_to_resource", ResourceName=arn, Tags=tag_list(add))
    if remove:
        ctx.call("elasticache", "remove_tags_from_resource", ResourceName=arn, TagKeys=list(remove))


def final_snapshot_name(environment, now=None):
    """``<environment>-final-<UTC yyyymmddHHMMSS>``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - older Pythons too
    return "%s-final-%s" % (environment, now.strftime("%Y%m%d%H%M%S"))


@dataclasses.dataclass
class CacheState:
    """Names this layer would use that another owner's resources hold (found by the reads)."""

    foreign_group: str | None = None
    foreign_subnet_group: str | None = None


class CacheSubnetGroup(Kind):
    """The cache subnet group ``<environment>`` (the network layer's database subnets)."""

    name = "cache_subnet_group"
    unordered = ("subnets",)
    create_only = ("name",)
    updatable = ("subnets",)

    def read(self, ctx):
        try:
            groups = ctx.call("elasticache", "describe_cache_subnet_groups", CacheSubnetGroupName=ctx.environment).get(
                "CacheSubnetGroups", []
            )
        except ClientError as exc:
            if not not_found(exc, *SUBNET_GROUP_NOT_FOUND):
                raise
            return []
        found = []
        for group in groups:
            tags = read_tags(ctx, group["ARN"])
            if not owned(ctx, tags):
                ctx.state(CacheState).foreign_subnet_group = group["CacheSubnetGroupName"]
                continue
            fields = {
                "name": group["CacheSubnetGroupName"],
                "subnets": sorted(s["SubnetIdentifier"] for s in group.get("Subnets") or []),
            }
            found.append(
                Current(tags.get(TAG_RESOURCE, SUBNET_GROUP_KEY), group["CacheSubnetGroupName"], fields, tags, group)
            )
        return found

    def create(self, ctx, key, fields, tags):
        group = ctx.call(
            "elasticache",
            "create_cache_subnet_group",
            CacheSubnetGroupName=fields["name"],
            CacheSubnetGroupDescription="webstack environment %s: cache subnets" % ctx.environment,
            SubnetIds=sorted(fields["subnets"]),
            Tags=tag_list(tags),
        )["CacheSubnetGroup"]
        ctx.remember(self.name, key, group)
        return group["CacheSubnetGroupName"]

    def update(self, ctx, current, fields, changed):
        group = ctx.call(
            "elasticache",
            "modify_cache_subnet_group",
            CacheSubnetGroupName=current.id,
            SubnetIds=sorted(fields["subnets"]),
        )["CacheSubnetGroup"]
        ctx.remember(self.name, current.key, group)

    def delete(self, ctx, current):
        ctx.optional(
            "elasticache", "delete_cache_subnet_group", SUBNET_GROUP_NOT_FOUND, CacheSubnetGroupName=current.id
        )

    def set_tags(self, ctx, current, add, remove):
        set_tags(ctx, current.raw["ARN"], add, remove)


def primary_cluster_id(group):
    for node_group in group.get("NodeGroups") or []:
        for member in node_group.get("NodeGroupMembers") or []:
            if member.get("CurrentRole") == "primary":
                return member["CacheClusterId"]
    members = group.get("MemberClusters") or []
    return members[0] if members else None


def endpoints(group):
    """(primary address, reader address, port) of a cluster-mode-disabled group."""
    for node_group in group.get("NodeGroups") or []:
        primary = node_group.get("PrimaryEndpoint") or {}
        reader = node_group.get("ReaderEndpoint") or {}
        return primary.get("Address"), reader.get("Address"), primary.get("Port") or reader.get("Port")
    return None, None, None


def replica_count(group):
    node_groups = group.get("NodeGroups") or []
    if node_groups and node_groups[0].get("NodeGroupMembers"):
        return len(node_groups[0]["NodeGroupMembers"]) - 1
    return max(len(group.get("MemberClusters") or []) - 1, 0)


def enabled(value):
    """AutomaticFailover / MultiAZ (enabled, disabled, enabling, disabling) as enabled or disabled."""
    return "enabled" if value in ("enabled", "enabling") else "disabled"


def transit_state(enabled_flag, mode):
    if not enabled_flag:
        return "disabled"
    return mode or "required"


def pending_modifications(group, cluster):
    """The changes waiting for the maintenance window (or under way), snake_case, secrets left out."""
    found = {}
    group_pending = group.get("PendingModifiedValues") or {}
    cluster_pending = (cluster or {}).get("PendingModifiedValues") or {}
    if cluster_pending.get("CacheNodeType"):
        found["node_type"] = cluster_pending["CacheNodeType"]
    if cluster_pending.get("EngineVersion"):
        found["engine_version"] = cluster_pending["EngineVersion"]
    if group_pending.get("AutomaticFailoverStatus"):
        found["automatic_failover"] = group_pending["AutomaticFailoverStatus"]
    if group_pending.get("TransitEncryptionEnabled") is not None or group_pending.get("TransitEncryptionMode"):
        found["transit_encryption"] = transit_state(
            group_pending.get("TransitEncryptionEnabled", group.get("TransitEncryptionEnabled")),
            group_pending.get("TransitEncryptionMode"),
        )
    status = group_pending.get("AuthTokenStatus") or cluster_pending.get("AuthTokenStatus")
    if status:
        found["auth_token_status"] = status
    if group_pending.get("Resharding"):
        found["resharding"] = True
    return found


def group_fields(group, cluster):
    """What the layer compares, from the group and its primary cluster, pending changes laid over."""
    primary, _reader, port = endpoints(group)
    group_pending = group.get("PendingModifiedValues") or {}
    cluster_pending = (cluster or {}).get("PendingModifiedValues") or {}
    transit = transit_state(group.get("TransitEncryptionEnabled"), group.get("TransitEncryptionMode"))
    if group_pending.get("TransitEncryptionEnabled") is not None or group_pending.get("TransitEncryptionMode"):
        transit = transit_state(
            group_pending.get("TransitEncryptionEnabled", group.get("TransitEncryptionEnabled")),
            group_pending.get("TransitEncryptionMode") or group.get("TransitEncryptionMode"),
        )
    failover = enabled(group_pending.get("AutomaticFailoverStatus") or group.get("AutomaticFailover"))
    fields = {
        "engine": (group.get("Engine") or (cluster or {}).get("Engine") or "redis").lower(),
        "node_type": cluster_pending.get("CacheNodeType") or group.get("CacheNodeType"),
        "replicas": replica_count(group),
        "automatic_failover": failover,
        "multi_az": enabled(group.get("MultiAZ")),
        "port": port,
        "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
        "transit_encryption": transit,
        "auth_token": SECRET if group.get("AuthTokenEnabled") else None,
        "snapshot_retention": group.get("SnapshotRetentionLimit") or 0,
        "snapshot_window": group.get("SnapshotWindow"),
    }
    if cluster is None:
        for field in CLUSTER_FIELDS:
            fields[field] = NOT_READ
    else:
        fields["engine_version"] = cluster_pending.get("EngineVersion") or cluster.get("EngineVersion")
        fields["security_groups"] = sorted(g["SecurityGroupId"] for g in cluster.get("SecurityGroups") or [])
        window = cluster.get("PreferredMaintenanceWindow")
        fields["maintenance_window"] = window.lower() if window else None
        fields["subnet_group"] = cluster.get("CacheSubnetGroupName")
    return fields


def version_matches(before, after):
    """``7.1`` asked for, ``7.1.0`` read: the same version (AWS answers with the patch level)."""
    if before is None or after is None:
        return before == after
    return before == after or before.startswith(after + ".")


class ReplicationGroup(Kind):
    """The replication group ``<environment>`` (cluster mode disabled): one primary and 0 to 5 replicas.

    ``auth_token`` is the secret itself (never in a field); ``apply_immediately`` is sent with modifications;
    ``final_snapshot`` is the name of the snapshot taken when the group is deleted (None: no snapshot)."""

    name = "replication_group"
    unordered = ("security_groups",)
    create_only = ("engine", "port", "at_rest_encryption", "subnet_group")
    updatable = (
        "engine_version",
        "node_type",
        "replicas",
        "automatic_failover",
        "multi_az",
        "security_groups",
        "transit_encryption",
        "auth_token",
        "snapshot_retention",
        "snapshot_window",
        "maintenance_window",
    )

    def __init__(self, auth_token=None, apply_immediately=False, final_snapshot=None):
        self.auth_token = auth_token
        self.apply_immediately = apply_immediately
        self.final_snapshot = final_snapshot
        self.snapshots_taken = []

    # -- read ------------------------------------------------------------------------------------
    def describe(self, ctx, group_id):
        try:
            groups = ctx.call("elasticache", "describe_replication_groups", ReplicationGroupId=group_id)
        except ClientError as exc:
            if not not_found(exc, *GROUP_NOT_FOUND):
                raise
            return None
        found = groups.get("ReplicationGroups") or []
        return found[0] if found else None

    def read(self, ctx):
        group = self.describe(ctx, ctx.environment)
        if group is None:
            return []
        tags = read_tags(ctx, group["ARN"])
        if not owned(ctx, tags):
            ctx.state(CacheState).foreign_group = group["ReplicationGroupId"]
            return []
        cluster = None
        cluster_id = primary_cluster_id(group)
        if cluster_id and group.get("Status") != "deleting":
            try:
                clusters = ctx.call("elasticache", "describe_cache_clusters", CacheClusterId=cluster_id)
                cluster = (clusters.get("CacheClusters") or [None])[0]
            except ClientError as exc:
                if not not_found(exc, *CLUSTER_NOT_FOUND):
                    raise
        raw = {"group": group, "cluster": cluster}
        return [
            Current(
                tags.get(TAG_RESOURCE, GROUP_KEY), group["ReplicationGroupId"], group_fields(group, cluster), tags, raw
            )
        ]

    def equal(self, field, before, after):
        if contains_unknown(after):
            return False
        if after is None and field in ("snapshot_window", "maintenance_window", "engine_version"):
            return True  # left to AWS
        if before == NOT_READ:
            return True
        if field == "engine_version":
            return version_matches(before, after)
        if field == "maintenance_window":
            return (before or "").lower() == (after or "").lower()
        return super().equal(field, before, after)

    # -- create ----------------------------------------------------------------------------------
    def create(self, ctx, key, fields, tags):
        params = dict(
            ReplicationGroupId=ctx.environment,
            ReplicationGroupDescription="webstack environment %s: cache" % ctx.environment,
            Engine=fields["engine"],
            EngineVersion=fields["engine_version"],
            CacheNodeType=fields["node_type"],
            NumNodeGroups=1,
            ReplicasPerNodeGroup=fields["replicas"],
            AutomaticFailoverEnabled=fields["automatic_failover"] == "enabled",
            MultiAZEnabled=fields["multi_az"] == "enabled",
            CacheSubnetGroupName=fields["subnet_group"],
            SecurityGroupIds=sorted(fields["security_groups"]),
            Port=fields["port"],
            AtRestEncryptionEnabled=bool(fields["at_rest_encryption"]),
            TransitEncryptionEnabled=fields["transit_encryption"] != "disabled",
            SnapshotRetentionLimit=fields["snapshot_retention"],
            Tags=tag_list(tags),
        )
        if fields.get("snapshot_window"):
            params["SnapshotWindow"] = fields["snapshot_window"]
        if fields.get("maintenance_window"):
            params["PreferredMaintenanceWindow"] = fields["maintenance_window"]
        if fields.get("auth_token") and self.auth_token:
            params["AuthToken"] = self.auth_token
        try:
            group = ctx.call("elasticache", "create_replication_group", **params)["ReplicationGroup"]
        except ClientError as exc:
            # a create retried after a lost answer: the group is there, made by the first attempt
            if error_code(exc) not in GROUP_EXISTS:
                raise
            group = self.describe(ctx, ctx.environment)
            if group is None or not owned(ctx, read_tags(ctx, group["ARN"])):
                raise
        ctx.remember(self.name, key, group)
        return group["ReplicationGroupId"]

    def wait_available(self, ctx, group_id, what):
        def pending():
            group = self.describe(ctx, group_id)
            if group is None:
                raise EngineError("The replication group %s disappeared while %s." % (group_id, what))
            ctx.remember(self.name, GROUP_KEY, group)
            if group.get("Status") != "available":
                return ["replication group %s (%s)" % (group_id, group.get("Status"))]
            return []

        ctx.poll("%s (replication group %s available)" % (what, group_id), pending)

    def wait_created(self, ctx, ids):
        for group_id in ids:
            self.wait_available(ctx, group_id, "the cache to be created")

    # -- update ----------------------------------------------------------------------------------
    def update(self, ctx, current, fields, changed):
        group_id = current.id
        before = current.fields
        steps = []  # each one a callable making one call; waited for in between (AWS refuses while modifying)
        failover_done = False
        if "replicas" in changed and fields["replicas"] < before["replicas"]:
            if fields["replicas"] == 0 and before["automatic_failover"] == "enabled":
                steps.append(
                    lambda: self.modify(
                        ctx, group_id, {"AutomaticFailoverEnabled": False, "MultiAZEnabled": False}, immediately=True
                    )
                )
                failover_done = True
            steps.append(lambda: self.replicas(ctx, group_id, "decrease_replica_count", fields["replicas"]))
        elif "replicas" in changed:
            steps.append(lambda: self.replicas(ctx, group_id, "increase_replica_count", fields["replicas"]))
        params = modify_params(before, fields, changed, failover_done)
        if params:
            steps.append(lambda: self.modify(ctx, group_id, params))
        if "auth_token" in changed and fields.get("auth_token") and self.auth_token:
            # alone: AWS takes an AUTH token change only with its strategy, in a call of its own
            steps.append(
                lambda: self.modify(
                    ctx, group_id, {"AuthToken": self.auth_token, "AuthTokenUpdateStrategy": "ROTATE"}, immediately=True
                )
            )
        for index, step in enumerate(steps):
            if index:
                self.wait_available(ctx, group_id, "the previous change to the cache")
            step()

    def replicas(self, ctx, group_id, operation, count):
        # replica changes always apply at once (AWS requires ApplyImmediately=true for them)
        group = ctx.call(
            "elasticache", operation, ReplicationGroupId=group_id, NewReplicaCount=count, ApplyImmediately=True
        )["ReplicationGroup"]
        ctx.remember(self.name, GROUP_KEY, group)
        return group

    def modify(self, ctx, group_id, params, immediately=None):
        apply_now = self.apply_immediately if immediately is None else immediately
        group = ctx.call(
            "elasticache", "modify_replication_group", ReplicationGroupId=group_id, ApplyImmediately=apply_now, **params
        )["ReplicationGroup"]
        ctx.remember(self.name, GROUP_KEY, group)
        return group

    # -- delete ----------------------------------------------------------------------------------
    def delete(self, ctx, current):
        group = (current.raw or {}).get("group") or {}
        if group.get("Status") == "deleting":
            return  # asked before (a run that timed out waiting): only wait
        params = {"ReplicationGroupId": current.id}
        if self.final_snapshot:
            params["FinalSnapshotIdentifier"] = self.final_snapshot
            self.snapshots_taken.append(self.final_snapshot)
        ctx.call("elasticache", "delete_replication_group", **params)

    def wait_deleted(self, ctx, ids):
        # always waited for: the subnet group (and a replacement with the same id) can only follow it
        def pending():
            still = []
            for group_id in ids:
                group = self.describe(ctx, group_id)
                if group is not None:
                    still.append("replication group %s (%s)" % (group_id, group.get("Status")))
            return still

        ctx.poll("the cache to be deleted", pending)

    def set_tags(self, ctx, current, add, remove):
        set_tags(ctx, current.raw["group"]["ARN"], add, remove)


def modify_params(before, fields, changed, failover_done=False):
    """ModifyReplicationGroup's parameters for the changed fields (replicas and the AUTH token go apart)."""
    params = {}
    if "node_type" in changed:
        params["CacheNodeType"] = fields["node_type"]
    if "engine_version" in changed:
        params["EngineVersion"] = fields["engine_version"]
    if "automatic_failover" in changed and not failover_done:
        params["AutomaticFailoverEnabled"] = fields["automatic_failover"] == "enabled"
    if "multi_az" in changed and not failover_done:
        params["MultiAZEnabled"] = fields["multi_az"] == "enabled"
    if "security_groups" in changed:
        params["SecurityGroupIds"] = sorted(fields["security_groups"])
    if "snapshot_retention" in changed:
        params["SnapshotRetentionLimit"] = fields["snapshot_retention"]
    if "snapshot_window" in changed:
        params["SnapshotWindow"] = fields["snapshot_window"]
    if "maintenance_window" in changed:
        params["PreferredMaintenanceWindow"] = fields["maintenance_window"]
    if "transit_encryption" in changed:
        want = fields["transit_encryption"]
        if want == "disabled":
            params["TransitEncryptionEnabled"] = False
        else:
            params["TransitEncryptionEnabled"] = True
            params["TransitEncryptionMode"] = want
    return params
