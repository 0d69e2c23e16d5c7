# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDS resource kinds of the database layer: the DB subnet group, the PostgreSQL DB parameter group and the
DB instance.

Names come from the environment alone: the subnet group and the instance are ``<environment>``, the parameter
group ``<environment>-postgres<major>`` (the family in the name, so a major upgrade makes a new group and retires
the old one only once the instance has moved to it).  Reads: DescribeDBSubnetGroups and DescribeDBInstances by
name (the instance's tags come with it), one paged DescribeDBParameterGroups, and per group of the environment
its ListTagsForResource and DescribeDBParameters(Source=user).

The instance's read overlays ``PendingModifiedValues`` on the current values: a change waiting for the
maintenance window (``apply_immediately=false``) is already asked for, so a second run must not send it again.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = Exception

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    Current,
    EngineError,
    Kind,
    contains_unknown,
    not_found,
    owned,
    tag_dict,
    tag_list,
)

SERVICE = "rds"
ENGINE = "postgres"
PARAMETER_BATCH = 20  # ModifyDBParameterGroup / ResetDBParameterGroup take at most 20 parameters a call
SECRET = "(secret, not shown)"  # noqa: S105 - the placeholder shown instead of a password
INSTANCE_KEY = "database"
SUBNET_GROUP_KEY = "subnet_group"
# Statuses after a create that mean "not ready yet"; real RDS goes creating -> backing-up -> available, and
# may pass through configuring-* on the way.
CREATING = (
    "creating",
    "backing-up",
    "configuring-enhanced-monitoring",
    "configuring-iam-database-auth",
    "configuring-log-exports",
)
FAILED = ("failed", "restore-error", "storage-full")
# PendingModifiedValues member -> our field
PENDING_FIELDS = {
    "DBInstanceClass": "instance_class",
    "AllocatedStorage": "allocated_storage",
    "Port": "port",
    "BackupRetentionPeriod": "backup_retention",
    "MultiAZ": "multi_az",
    "EngineVersion": "engine_version",
    "Iops": "iops",
    "StorageThroughput": "storage_throughput",
    "StorageType": "storage_type",
    "DBSubnetGroupName": "subnet_group",
}
# fields left alone when not given (None): AWS picks (and reports) its own value
OPTIONAL_FIELDS = ("kms_key_id", "iops", "storage_throughput", "backup_window", "maintenance_window")
# our field -> ModifyDBInstance parameter
MODIFY_PARAMS = {
    "instance_class": "DBInstanceClass",
    "allocated_storage": "AllocatedStorage",
    "max_allocated_storage": "MaxAllocatedStorage",
    "storage_type": "StorageType",
    "iops": "Iops",
    "storage_throughput": "StorageThroughput",
    "multi_az": "MultiAZ",
    "port": "DBPortNumber",
    "engine_version": "EngineVersion",
    "backup_retention": "BackupRetentionPeriod",
    "backup_window": "PreferredBackupWindow",
    "maintenance_window": "PreferredMaintenanceWindow",
    "parameter_group": "DBParameterGroupName",
    "security_groups": "VpcSecurityGroupIds",
    "deletion_protection": "DeletionProtection",
    "publicly_accessible": "PubliclyAccessible",
    "copy_tags_to_snapshot": "CopyTagsToSnapshot",
}
PROTECTED = (
    "DB instance %s has deletion protection on, so it is neither deleted nor replaced; nothing was changed. "
    "To delete it: run once with deletion_protection=false (state present), then state=absent (or, to replace it, "
    "the replacing change with allow_replacement=true)."
)


def list_tags(ctx, arn):
    return tag_dict(ctx.call(SERVICE, "list_tags_for_resource", ResourceName=arn).get("TagList"))


def set_resource_tags(ctx, arn, add, remove):
    if add:
        ctx.call(SERVICE, "add_tags_to_resource", ResourceName=arn, Tags=tag_list(add))
    if remove:
        ctx.call(SERVICE, "remove_tags_from_resource", ResourceName=arn, TagKeys=list(remove))


def version_tuple(version):
    parts = []
    for part in str(version or "").split("."):
        parts.append(int(part) if part.isdigit() else 0)
    return tuple(parts)


def major_version(version):
    """``16`` of ``16.4``; ``9.6`` of ``9.6.24`` (before PostgreSQL 10 the major version had two parts)."""
    parts = str(version).split(".")
    if parts[0].isdigit() and int(parts[0]) < 10 and len(parts) > 1:
        return "%s.%s" % (parts[0], parts[1])
    return parts[0]


def family(version):
    return "%s%s" % (ENGINE, major_version(version))


def parameter_value(value):
    """A parameter value as RDS stores it: a string; booleans as 1 / 0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def parameter_changes(current, desired):
    """(to set, to reset): the user parameters to send with ModifyDBParameterGroup (name -> value), and the
    names to reset to the engine default (set before, no longer wanted)."""
    current = current or {}
    desired = desired or {}
    to_set = dict(
        (name, parameter_value(value))
        for name, value in sorted(desired.items())
        if current.get(name) != parameter_value(value)
    )
    to_reset = sorted(name for name in current if name not in desired)
    return to_set, to_reset


def apply_method(apply_type):
    """``immediate`` for a dynamic parameter, ``pending-reboot`` for a static one or when unknown."""
    return "immediate" if (apply_type or "").lower() == "dynamic" else "pending-reboot"


def batches(items, size=PARAMETER_BATCH):
    return [items[i : i + size] for i in range(0, len(items), size)]


def overlay_pending(instance):
    """The instance's description with ``PendingModifiedValues`` laid over the current values: what the instance
    will be once the changes waiting for the maintenance window are applied."""
    merged = dict(instance)
    pending = instance.get("PendingModifiedValues") or {}
    for member in PENDING_FIELDS:
        if pending.get(member) is not None:
            merged[member] = pending[member]
    if pending.get("DBSubnetGroupName"):
        merged["DBSubnetGroup"] = dict(
            instance.get("DBSubnetGroup") or {}, DBSubnetGroupName=pending["DBSubnetGroupName"]
        )
    return merged


def instance_fields(instance):
    """The comparable fields of a DescribeDBInstances DBInstance, pending modifications included."""
    merged = overlay_pending(instance)
    groups = [
        g["VpcSecurityGroupId"]
        for g in merged.get("VpcSecurityGroups") or []
        if (g.get("Status") or "active").lower() not in ("removing", "inactive")
    ]
    parameter_groups = [g["DBParameterGroupName"] for g in merged.get("DBParameterGroups") or []]
    return {
        "engine": merged.get("Engine"),
        "engine_version": merged.get("EngineVersion"),
        "instance_class": merged.get("DBInstanceClass"),
        "allocated_storage": merged.get("AllocatedStorage"),
        "max_allocated_storage": merged.get("MaxAllocatedStorage"),
        "storage_type": merged.get("StorageType"),
        "iops": merged.get("Iops"),
        "storage_throughput": merged.get("StorageThroughput"),
        "multi_az": merged.get("MultiAZ"),
        "port": (merged.get("PendingModifiedValues") or {}).get("Port")
        or (merged.get("Endpoint") or {}).get("Port")
        or merged.get("DbInstancePort"),
        "database_name": merged.get("DBName"),
        "master_username": merged.get("MasterUsername"),
        "managed_password": bool(merged.get("MasterUserSecret")),
        "storage_encrypted": merged.get("StorageEncrypted"),
        "kms_key_id": merged.get("KmsKeyId"),
        "backup_retention": merged.get("BackupRetentionPeriod"),
        "backup_window": merged.get("PreferredBackupWindow"),
        "maintenance_window": merged.get("PreferredMaintenanceWindow"),
        "parameter_group": parameter_groups[0] if parameter_groups else None,
        "subnet_group": (merged.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "security_groups": sorted(groups),
        "deletion_protection": merged.get("DeletionProtection"),
        "publicly_accessible": merged.get("PubliclyAccessible"),
        "copy_tags_to_snapshot": merged.get("CopyTagsToSnapshot"),
    }


def instance_equal(field, before, after):
    if contains_unknown(after):
        return False
    if field == "master_password":
        return after is None  # present only when it is being set
    if after is None and field in OPTIONAL_FIELDS:
        return True
    if field == "engine_version":
        # AWS upgrades minor versions by itself (AutoMinorVersionUpgrade): a newer minor of the same major is
        # what was asked for; a downgrade is impossible anyway.
        if before is None:
            return False
        return major_version(before) == major_version(after) and version_tuple(before) >= version_tuple(after)
    if field == "allocated_storage":
        # storage never shrinks, and storage autoscaling grows it past what was given
        return before is not None and int(before) >= int(after)
    if field in ("maintenance_window", "backup_window"):
        return (before or "").lower() == (after or "").lower()
    if field == "security_groups":
        return sorted(before or []) == sorted(after or [])
    if field == "kms_key_id":
        # AWS answers the key's ARN; a key id given is the last part of it
        return before == after or (before or "").endswith("/" + after)
    if field == "parameter_group":
        return (before or "").lower() == (after or "").lower()
    return before == after


def final_snapshot_name(environment, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - older Pythons too
    return "%s-final-%s" % (environment, now.strftime("%Y%m%d%H%M%S"))


@dataclasses.dataclass
class RdsState:
    """What the RDS kinds learn during a run: names held by resources this layer did not make ("DB subnet group
    x", ...: a create under them is refused), and the final snapshot a delete asked for."""

    foreign: list = dataclasses.field(default_factory=list)
    final_snapshot: str | None = None


class SubnetGroup(Kind):
    """The DB subnet group ``<environment>``: the database subnets of the network layer."""

    name = "subnet_group"
    unordered = ("subnet_ids",)
    updatable = ("description", "subnet_ids")

    def read(self, ctx):
        try:
            groups = ctx.paginate(
                SERVICE, "describe_db_subnet_groups", "DBSubnetGroups", DBSubnetGroupName=ctx.environment
            )
        except ClientError as exc:
            if not not_found(exc, "DBSubnetGroupNotFoundFault"):
                raise
            return []
        found = []
        for group in groups:
            tags = list_tags(ctx, group["DBSubnetGroupArn"])
            if not owned(ctx, tags):
                ctx.state(RdsState).foreign.append("DB subnet group %s" % group["DBSubnetGroupName"])
                continue
            fields = {
                "description": group.get("DBSubnetGroupDescription"),
                "subnet_ids": sorted(s["SubnetIdentifier"] for s in group.get("Subnets") or []),
            }
            found.append(Current(SUBNET_GROUP_KEY, group["DBSubnetGroupName"], fields, tags, group))
        return found

    def create(self, ctx, key, fields, tags):
        refuse_foreign(ctx, "DB subnet group %s" % ctx.environment)
        answer = ctx.call(
            SERVICE,
            "create_db_subnet_group",
            DBSubnetGroupName=ctx.environment,
            DBSubnetGroupDescription=fields["description"],
            SubnetIds=sorted(fields["subnet_ids"]),
            Tags=tag_list(tags),
        )
        ctx.remember(self.name, key, answer.get("DBSubnetGroup"))
        return ctx.environment

    def update(self, ctx, current, fields, changed):
        ctx.call(
            SERVICE,
            "modify_db_subnet_group",
            DBSubnetGroupName=current.id,
            DBSubnetGroupDescription=fields["description"],
            SubnetIds=sorted(fields["subnet_ids"]),
        )

    def delete(self, ctx, current):
        ctx.optional(SERVICE, "delete_db_subnet_group", ("DBSubnetGroupNotFoundFault",), DBSubnetGroupName=current.id)

    def set_tags(self, ctx, current, add, remove):
        set_resource_tags(ctx, current.raw["DBSubnetGroupArn"], add, remove)


def refuse_foreign(ctx, what):
    """Fail before creating a resource whose name is taken by one this layer did not make."""
    if what in ctx.state(RdsState).foreign:
        raise EngineError(
            "%s already exists but is not tagged webstack:environment=%s, webstack:layer=%s; this module does not "
            "take over resources it did not create. Rename or delete it, or choose another environment name."
            % (what, ctx.environment, ctx.layer)
        )


class ParameterGroup(Kind):
    """A DB parameter group ``<environment>-postgres<major>`` (key ``postgres<major>``) with the user's
    parameters.  A group no longer wanted (after a major upgrade) is deleted last, in ``finish``, once the
    instance has been moved to its successor."""

    name = "parameter_group"
    create_only = ("family",)
    updatable = ("parameters",)

    def __init__(self):
        self.retired = []

    def read(self, ctx):
        pattern = re.compile(r"^%s-(%s\d+(\.\d+)?)$" % (re.escape(ctx.environment), ENGINE))
        found = []
        for group in ctx.paginate(SERVICE, "describe_db_parameter_groups", "DBParameterGroups"):
            match = pattern.match(group["DBParameterGroupName"])
            if not match:
                continue
            tags = list_tags(ctx, group["DBParameterGroupArn"])
            if not owned(ctx, tags):
                ctx.state(RdsState).foreign.append("DB parameter group %s" % group["DBParameterGroupName"])
                continue
            parameters, apply_types = {}, {}
            for item in ctx.paginate(
                SERVICE,
                "describe_db_parameters",
                "Parameters",
                DBParameterGroupName=group["DBParameterGroupName"],
                Source="user",
            ):
                if item.get("ParameterValue") is None:
                    continue
                parameters[item["ParameterName"]] = item["ParameterValue"]
                apply_types[item["ParameterName"]] = item.get("ApplyType")
            fields = {"family": group.get("DBParameterGroupFamily"), "parameters": parameters}
            raw = dict(group, ApplyTypes=apply_types)
            found.append(Current(match.group(1), group["DBParameterGroupName"], fields, tags, raw))
        return found

    def equal(self, field, before, after):
        if field == "parameters":
            to_set, to_reset = parameter_changes(before, after)
            return not to_set and not to_reset
        return before == after

    def create(self, ctx, key, fields, tags):
        refuse_foreign(ctx, "DB parameter group %s-%s" % (ctx.environment, key))
        name = "%s-%s" % (ctx.environment, key)
        answer = ctx.call(
            SERVICE,
            "create_db_parameter_group",
            DBParameterGroupName=name,
            DBParameterGroupFamily=fields["family"],
            Description="webstack %s: PostgreSQL parameters (%s)" % (ctx.environment, fields["family"]),
            Tags=tag_list(tags),
        )
        ctx.remember(self.name, key, answer.get("DBParameterGroup"))
        empty = Current(key, name, {"family": fields["family"], "parameters": {}}, tags, {"ApplyTypes": {}})
        self.update(ctx, empty, fields, ["parameters"])
        return name

    def update(self, ctx, current, fields, changed):
        to_set, to_reset = parameter_changes(current.fields.get("parameters"), fields.get("parameters"))
        known = dict((current.raw or {}).get("ApplyTypes") or {})
        if any(name not in known for name in to_set):
            known.update(self.apply_types(ctx, current.id))
        for batch in batches(sorted(to_set)):
            ctx.call(
                SERVICE,
                "modify_db_parameter_group",
                DBParameterGroupName=current.id,
                Parameters=[
                    {"ParameterName": n, "ParameterValue": to_set[n], "ApplyMethod": apply_method(known.get(n))}
                    for n in batch
                ],
            )
        for batch in batches(to_reset):
            ctx.call(
                SERVICE,
                "reset_db_parameter_group",
                DBParameterGroupName=current.id,
                ResetAllParameters=False,
                Parameters=[{"ParameterName": n, "ApplyMethod": apply_method(known.get(n))} for n in batch],
            )

    def apply_types(self, ctx, group_name):
        """Name -> ApplyType (static / dynamic) of every parameter of the group: read only when a parameter is
        set for the first time (its apply method depends on it)."""
        found = {}
        for item in ctx.paginate(SERVICE, "describe_db_parameters", "Parameters", DBParameterGroupName=group_name):
            if item.get("ApplyType"):
                found[item["ParameterName"]] = item["ApplyType"]
        return found

    def delete(self, ctx, current):
        # The instance may still use it (a major upgrade moves the instance to the new group in its update,
        # which runs after the deletes): deleted in finish, after every create and update.
        self.retired.append(current.id)

    def finish(self, ctx):
        retired, self.retired = self.retired, []
        for name in retired:
            ctx.optional(
                SERVICE,
                "delete_db_parameter_group",
                ("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"),
                DBParameterGroupName=name,
            )

    def set_tags(self, ctx, current, add, remove):
        set_resource_tags(ctx, current.raw["DBParameterGroupArn"], add, remove)


class DBInstance(Kind):
    """The DB instance ``<environment>`` (PostgreSQL), never publicly accessible, tags copied to snapshots.

    ``password``: the master password to send (create, or every run with update_password=always); None lets
    RDS manage it in Secrets Manager.  ``final_snapshot``: take ``<environment>-final-<UTC time>`` on delete.
    """

    name = "db_instance"
    create_only = ("engine", "storage_encrypted", "kms_key_id", "master_username", "database_name", "subnet_group")
    updatable = tuple(MODIFY_PARAMS) + ("managed_password", "master_password")

    def __init__(self, password=None, apply_immediately=False, final_snapshot=True, now=None):
        self.password = password
        self.apply_immediately = apply_immediately
        self.final_snapshot = final_snapshot
        self.now = now

    def describe(self, ctx):
        return ctx.call(
            SERVICE, "describe_db_instances", Filters=[{"Name": "db-instance-id", "Values": [ctx.environment]}]
        ).get("DBInstances", [])

    def read(self, ctx):
        found = []
        for instance in self.describe(ctx):
            if instance["DBInstanceIdentifier"].lower() != ctx.environment:
                continue
            tags = tag_dict(instance.get("TagList"))
            if not owned(ctx, tags):
                ctx.state(RdsState).foreign.append("DB instance %s" % ctx.environment)
                continue
            found.append(
                Current(INSTANCE_KEY, instance["DBInstanceIdentifier"], instance_fields(instance), tags, instance)
            )
        return found

    def equal(self, field, before, after):
        return instance_equal(field, before, after)

    def check_delete(self, ctx, current):
        if current.fields.get("deletion_protection"):
            raise EngineError(PROTECTED % current.id)

    def create(self, ctx, key, fields, tags):
        refuse_foreign(ctx, "DB instance %s" % ctx.environment)
        params = dict(
            DBInstanceIdentifier=ctx.environment,
            Engine=ENGINE,
            EngineVersion=fields["engine_version"],
            DBInstanceClass=fields["instance_class"],
            AllocatedStorage=fields["allocated_storage"],
            StorageType=fields["storage_type"],
            MultiAZ=fields["multi_az"],
            Port=fields["port"],
            DBName=fields["database_name"],
            MasterUsername=fields["master_username"],
            DBSubnetGroupName=fields["subnet_group"],
            DBParameterGroupName=fields["parameter_group"],
            VpcSecurityGroupIds=sorted(fields["security_groups"]),
            BackupRetentionPeriod=fields["backup_retention"],
            StorageEncrypted=fields["storage_encrypted"],
            DeletionProtection=fields["deletion_protection"],
            PubliclyAccessible=False,
            CopyTagsToSnapshot=True,
            Tags=tag_list(tags),
        )
        optional = (
            ("max_allocated_storage", "MaxAllocatedStorage"),
            ("iops", "Iops"),
            ("storage_throughput", "StorageThroughput"),
            ("kms_key_id", "KmsKeyId"),
            ("backup_window", "PreferredBackupWindow"),
            ("maintenance_window", "PreferredMaintenanceWindow"),
        )
        for field, param in optional:
            if fields.get(field) is not None:
                params[param] = fields[field]
        if self.password is None:
            params["ManageMasterUserPassword"] = True
        else:
            params["MasterUserPassword"] = self.password
        answer = ctx.call(SERVICE, "create_db_instance", **params)
        ctx.remember(self.name, key, answer.get("DBInstance"))
        return answer["DBInstance"]["DBInstanceIdentifier"]

    def modify_params(self, current, fields, changed):
        """ModifyDBInstance's parameters for the changed fields (pure: unit-tested)."""
        params = {"DBInstanceIdentifier": current.id, "ApplyImmediately": bool(self.apply_immediately)}
        for field in changed:
            if field in MODIFY_PARAMS:
                value = fields.get(field)
                if field == "max_allocated_storage" and value is None:
                    value = max(fields["allocated_storage"], current.fields.get("allocated_storage") or 0)  # off
                if field == "security_groups":
                    value = sorted(value)
                params[MODIFY_PARAMS[field]] = value
        if "storage_type" in changed:  # AWS wants the storage settings together when the type changes
            for field in ("allocated_storage", "iops", "storage_throughput"):
                if fields.get(field) is not None:
                    params[MODIFY_PARAMS[field]] = max(fields[field], current.fields.get(field) or 0)
        if "engine_version" in changed and major_version(fields["engine_version"]) != major_version(
            current.fields.get("engine_version")
        ):
            params["AllowMajorVersionUpgrade"] = True
            params["DBParameterGroupName"] = fields["parameter_group"]
        if "managed_password" in changed:
            params["ManageMasterUserPassword"] = bool(fields["managed_password"])
        if self.password is not None and ("master_password" in changed or "managed_password" in changed):
            params["MasterUserPassword"] = self.password
        return params

    def update(self, ctx, current, fields, changed):
        answer = ctx.call(SERVICE, "modify_db_instance", **self.modify_params(current, fields, changed))
        ctx.remember(self.name, current.key, answer.get("DBInstance"))

    def delete_params(self, ctx, current):
        params = {"DBInstanceIdentifier": current.id, "DeleteAutomatedBackups": False}
        if self.final_snapshot:
            params["FinalDBSnapshotIdentifier"] = final_snapshot_name(ctx.environment, self.now)
        else:
            params["SkipFinalSnapshot"] = True
        return params

    def delete(self, ctx, current):
        if (current.raw or {}).get("DBInstanceStatus", "").lower() == "deleting":
            return  # an earlier run asked already
        params = self.delete_params(ctx, current)
        if (
            ctx.optional(SERVICE, "delete_db_instance", ("DBInstanceNotFound", "DBInstanceNotFoundFault"), **params)
            is None
        ):
            return
        ctx.state(RdsState).final_snapshot = params.get("FinalDBSnapshotIdentifier")

    def wait_created(self, ctx, ids):
        def pending():
            found = dict((i["DBInstanceIdentifier"], i) for i in self.describe(ctx))
            still = []
            for identifier in ids:
                instance = found.get(identifier)
                status = (instance or {}).get("DBInstanceStatus", "missing").lower()
                if instance is not None:
                    ctx.remember(self.name, INSTANCE_KEY, instance)
                if status in FAILED or status.startswith("incompatible") or status.startswith("inaccessible"):
                    raise EngineError(
                        "DB instance %s is %s after its create; see its events in the RDS console."
                        % (identifier, status)
                    )
                if status in CREATING or status == "missing":
                    still.append("DB instance %s (%s)" % (identifier, status))
            return still

        ctx.poll("the DB instance to become available", pending, interval=10.0, max_interval=30.0)

    def wait_deleted(self, ctx, ids):
        # Always waited for: the parameter and subnet groups are in use until it is gone, and a replacement
        # reuses its identifier.
        def pending():
            found = dict((i["DBInstanceIdentifier"], i) for i in self.describe(ctx))
            return ["DB instance %s (%s)" % (i, found[i].get("DBInstanceStatus")) for i in ids if i in found]

        ctx.poll("the DB instance to be deleted", pending, interval=10.0, max_interval=30.0)

    def set_tags(self, ctx, current, add, remove):
        set_resource_tags(ctx, current.raw["DBInstanceArn"], add, remove)
