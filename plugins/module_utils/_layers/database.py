# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database layer: one RDS PostgreSQL DB instance per environment, its DB subnet group and its DB parameter
group.  Validation here is pure (no AWS call); the kinds are in rds.py."""

from __future__ import annotations

import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Unknown, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, collect
from ansible_collections.webstack.aws.plugins.module_utils._kinds.rds import (
    INSTANCE_KEY,
    SECRET,
    SUBNET_GROUP_KEY,
    DBInstance,
    ParameterGroup,
    RdsState,
    SubnetGroup,
    family,
    major_version,
    parameter_value,
    version_tuple,
)

INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
ENGINE_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
BACKUP_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAINTENANCE_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$",
    re.IGNORECASE,
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * 24 * 60
DAY = 24 * 60
PASSWORD_FORBIDDEN = ("/", '"', "@", " ")
RESERVED_USERNAMES = ("rdsadmin", "rdsrepladmin", "rds_superuser", "public")
STORAGE_LIMITS = {"gp3": (20, 65536), "gp2": (20, 65536), "io2": (100, 65536)}
KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/)?(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
GP3_BASELINE_LIMIT = 400  # below 400 GiB, gp3 on PostgreSQL has a fixed baseline: 3000 IOPS, 125 MiB/s


def argument_spec():
    return dict(
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        engine_version=dict(type="str", default="16.4"),
        instance_class=dict(type="str", default="db.t4g.micro"),
        allocated_storage=dict(type="int", default=20),
        max_allocated_storage=dict(type="int"),
        storage_type=dict(type="str", default="gp3", choices=["gp3", "gp2", "io2"]),
        iops=dict(type="int"),
        storage_throughput=dict(type="int"),
        multi_az=dict(type="bool", default=False),
        storage_encrypted=dict(type="bool", default=True),
        kms_key_id=dict(type="str"),
        port=dict(type="int", default=5432),
        database_name=dict(type="str", default="ebdb"),
        master_username=dict(type="str", default="ebroot"),
        master_password=dict(type="str", no_log=True),
        update_password=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
        backup_retention=dict(type="int", default=7),
        backup_window=dict(type="str"),
        maintenance_window=dict(type="str"),
        parameters=dict(type="dict", default={}),
        deletion_protection=dict(type="bool", default=True),
        apply_immediately=dict(type="bool", default=False),
        final_snapshot=dict(type="bool", default=True),
        allow_replacement=dict(type="bool", default=False),
        allow_major_version_upgrade=dict(type="bool", default=False),
    )


def backup_interval(value):
    """(start, end) in minutes of the day; end may pass midnight (end > 1440)."""
    match = BACKUP_WINDOW.match(value or "")
    if not match:
        return None
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if end <= start:
        end += DAY
    return start, end


def maintenance_interval(value):
    """(start, end) in minutes of the week from Monday 00:00 UTC; end may pass the week's end."""
    match = MAINTENANCE_WINDOW.match(value or "")
    if not match:
        return None
    start = DAYS.index(match.group(1).lower()) * DAY + int(match.group(2)) * 60 + int(match.group(3))
    end = DAYS.index(match.group(4).lower()) * DAY + int(match.group(5)) * 60 + int(match.group(6))
    if end <= start:
        end += WEEK
    return start, end


def windows_overlap(backup, maintenance):
    """Whether the daily backup window meets the weekly maintenance window (both as intervals above)."""
    b_start, b_end = backup
    m_start, m_end = maintenance
    for day in range(-1, 9):  # every day's backup window, around the week's wrap
        start, end = b_start + day * DAY, b_end + day * DAY
        for shift in (-WEEK, 0, WEEK):
            if start < m_end + shift and m_start + shift < end:
                return True
    return False


def validate_windows(params):
    backup = None
    if params.get("backup_window") is not None:
        backup = backup_interval(params["backup_window"])
        if backup is None:
            raise ValidationError(
                "backup_window", "%r is not hh24:mi-hh24:mi in UTC, like 03:00-03:30" % (params["backup_window"],)
            )
        if backup[1] - backup[0] < 30:
            raise ValidationError("backup_window", "%r is shorter than 30 minutes" % (params["backup_window"],))
    maintenance = None
    if params.get("maintenance_window") is not None:
        maintenance = maintenance_interval(params["maintenance_window"])
        if maintenance is None:
            raise ValidationError(
                "maintenance_window",
                "%r is not ddd:hh24:mi-ddd:hh24:mi in UTC, like sun:04:00-sun:04:30" % (params["maintenance_window"],),
            )
        if maintenance[1] - maintenance[0] < 30:
            raise ValidationError(
                "maintenance_window", "%r is shorter than 30 minutes" % (params["maintenance_window"],)
            )
    if backup and maintenance and windows_overlap(backup, maintenance):
        raise ValidationError(
            "maintenance_window",
            "%s overlaps the backup window %s; move one of them"
            % (params["maintenance_window"], params["backup_window"]),
        )


def validate_password(password):
    if password is None:
        return
    if not 8 <= len(password) <= 128:
        raise ValidationError("master_password", "must be 8 to 128 characters long (got %d)" % len(password))
    bad = [c for c in PASSWORD_FORBIDDEN if c in password]
    if bad:
        raise ValidationError(
            "master_password",
            "must not contain %s (RDS refuses '/', '\"', '@' and spaces)"
            % " or ".join("space" if c == " " else repr(c) for c in bad),
        )


def validate_size(params):
    storage_type = params["storage_type"]
    low, high = STORAGE_LIMITS[storage_type]
    size = params["allocated_storage"]
    if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= high:
        raise ValidationError(
            "allocated_storage", "%r GiB is out of range for %s; use %d to %d GiB" % (size, storage_type, low, high)
        )
    ceiling = params.get("max_allocated_storage")
    if ceiling is None:
        return
    if ceiling <= size:
        raise ValidationError(
            "max_allocated_storage",
            "%d must be greater than allocated_storage (%d); leave it out to turn storage autoscaling off"
            % (ceiling, size),
        )
    if ceiling > high:
        raise ValidationError(
            "max_allocated_storage", "%d is above the %s maximum, %d GiB" % (ceiling, storage_type, high)
        )


def validate_gp3_performance(params, iops, throughput):
    option = "iops" if iops is not None else "storage_throughput"
    if params["allocated_storage"] < GP3_BASELINE_LIMIT:
        raise ValidationError(
            option,
            "cannot be set below %d GiB of gp3 (the baseline 3000 IOPS and 125 MiB/s are included); leave it "
            "out or raise allocated_storage" % GP3_BASELINE_LIMIT,
        )
    if iops is not None:
        validation.in_range(iops, "iops", 12000, 64000)
    if throughput is not None:
        validation.in_range(throughput, "storage_throughput", 500, 4000)


def validate_performance(params):
    storage_type = params["storage_type"]
    iops, throughput = params.get("iops"), params.get("storage_throughput")
    if storage_type == "gp2" and iops is not None:
        raise ValidationError("iops", "does not apply to gp2 (its IOPS follow the size); use gp3 or io2")
    if storage_type == "io2":
        if iops is None:
            raise ValidationError("iops", "is required with storage_type=io2 (1000 to 256000)")
        validation.in_range(iops, "iops", 1000, 256000)
    if throughput is not None and storage_type != "gp3":
        raise ValidationError("storage_throughput", "applies to gp3 only")
    if storage_type == "gp3" and (iops is not None or throughput is not None):
        validate_gp3_performance(params, iops, throughput)


def validate_storage(params):
    validate_size(params)  # the IOPS and throughput limits depend on a valid size
    validate_performance(params)


# option -> what it is the output of (given in check mode only may it be empty)
ID_LISTS = (
    ("subnets", "network layer's subnet_ids.database"),
    ("security_groups", "security_groups layer's group_ids.database"),
)


def validate_id_list(params, check_mode, option, source):
    values = params.get(option)
    if params.get("state", "present") == "present" and not check_mode and not values:
        raise ValidationError(
            option, "is required with state=present (the %s); it may be left empty only in check mode" % source
        )
    if values and all(values):
        if len(set(values)) != len(values):
            raise ValidationError(option, "lists an id twice")
        if option == "subnets" and len(values) < 2:
            raise ValidationError("subnets", "give at least two subnets in two availability zones (RDS requires it)")


def validate_engine_version(params):
    if not ENGINE_VERSION.match(params["engine_version"] or ""):
        raise ValidationError(
            "engine_version", "%r is not a PostgreSQL version like 16.4" % (params["engine_version"],)
        )
    if version_tuple(params["engine_version"])[0] < 11:
        raise ValidationError("engine_version", "%r: use PostgreSQL 11 or later" % (params["engine_version"],))


def validate_instance_class(params):
    if not INSTANCE_CLASS.match(params["instance_class"] or ""):
        raise ValidationError(
            "instance_class",
            "%r is not an RDS instance class; write it db.<family>.<size>, like db.t4g.micro"
            % (params["instance_class"],),
        )


def validate_kms_key(params):
    if params.get("kms_key_id") is None:
        return
    if not params["storage_encrypted"]:
        raise ValidationError("kms_key_id", "needs storage_encrypted=true")
    if not KMS_KEY.match(params["kms_key_id"]):
        # an alias cannot be compared with the key ARN RDS reports, and a mismatch would mean a replacement
        raise ValidationError(
            "kms_key_id", "%r: give the KMS key's ARN or key id, not an alias" % (params["kms_key_id"],)
        )


def validate_port(params):
    validation.port(params["port"], "port")
    if not 1150 <= params["port"] <= 65535:
        raise ValidationError("port", "%r: RDS PostgreSQL listens on a port from 1150 to 65535" % (params["port"],))


def validate_identifier(params, option):
    if not IDENTIFIER.match(params[option] or ""):
        raise ValidationError(
            option, "%r: use 1 to 63 letters, digits and underscores, starting with a letter" % (params[option],)
        )
    if option == "master_username" and params[option].lower() in RESERVED_USERNAMES:
        raise ValidationError("master_username", "%r is reserved by RDS" % (params["master_username"],))


def validate_parameters(params):
    for name, value in (params.get("parameters") or {}).items():
        if not PARAMETER_NAME.match(str(name)):
            raise ValidationError("parameters", "%r is not a parameter name" % (name,))
        if value is None or isinstance(value, (dict, list)):
            raise ValidationError("parameters", "%s: give a string, number or boolean value" % name)


def validate(params, check_mode=False):
    """Every option's checks, independent ones together: all their problems are reported at once."""
    collect(
        *[
            (lambda option=option, source=source: validate_id_list(params, check_mode, option, source))
            for option, source in ID_LISTS
        ],
        lambda: validate_engine_version(params),
        lambda: validate_instance_class(params),
        lambda: validate_storage(params),
        lambda: validate_kms_key(params),
        lambda: validate_port(params),
        lambda: validate_identifier(params, "database_name"),
        lambda: validate_identifier(params, "master_username"),
        lambda: validate_password(params.get("master_password")),
        lambda: validation.in_range(params["backup_retention"], "backup_retention", 0, 35),
        lambda: validate_windows(params),
        lambda: validate_parameters(params),
    )


class DatabaseLayer(LayerSpec):
    layer = "database"
    result_key = "database"
    services = ("rds",)

    def __init__(self, now=None):
        self.instance_kind = DBInstance(now=now)
        self.parameter_kind = ParameterGroup()

    def kinds(self):
        # creation order; deletion runs the other way (the instance first, waited for, then its groups)
        return [SubnetGroup(), self.parameter_kind, self.instance_kind]

    def validate(self, params, check_mode):
        validate(params, check_mode)
        # run_layer calls desired() only for state=present: what a delete needs is set here
        self.instance_kind.apply_immediately = params["apply_immediately"]
        self.instance_kind.final_snapshot = params["final_snapshot"]

    def desired(self, ctx, params, current):
        env = ctx.environment
        version = params["engine_version"]
        group_key = family(version)
        have = current.get("db_instance", {}).get(INSTANCE_KEY)
        if have is not None:
            check_version(have.fields.get("engine_version"), version, params)
        password = params.get("master_password")
        send_password = password is not None and (have is None or params["update_password"] == "always")  # noqa: S105 - an option
        self.instance_kind.password = password
        want = {"subnet_group": {}, "parameter_group": {}, "db_instance": {}}
        want["subnet_group"][SUBNET_GROUP_KEY] = Desired(
            {
                "description": "webstack %s: database subnets" % env,
                "subnet_ids": known_ids(params.get("subnets"), "database subnet ids from the network layer"),
            },
            ctx.tags_for(SUBNET_GROUP_KEY),
        )
        want["parameter_group"][group_key] = Desired(
            {
                "family": group_key,
                "parameters": dict(
                    (str(name), parameter_value(value)) for name, value in (params.get("parameters") or {}).items()
                ),
            },
            ctx.tags_for(group_key),
        )
        fields = {
            "engine": "postgres",
            "engine_version": version,
            "instance_class": params["instance_class"],
            "allocated_storage": params["allocated_storage"],
            "max_allocated_storage": params.get("max_allocated_storage"),
            "storage_type": params["storage_type"],
            "iops": params.get("iops"),
            "storage_throughput": params.get("storage_throughput"),
            "multi_az": params["multi_az"],
            "port": params["port"],
            "database_name": params["database_name"],
            "master_username": params["master_username"],
            "managed_password": password is None,
            "storage_encrypted": params["storage_encrypted"],
            "kms_key_id": params.get("kms_key_id"),
            "backup_retention": params["backup_retention"],
            "backup_window": params.get("backup_window"),
            "maintenance_window": (params.get("maintenance_window") or "").lower() or None,
            "parameter_group": "%s-%s" % (env, group_key),
            "subnet_group": env,
            "security_groups": known_ids(
                params.get("security_groups"), "the database group id from the security_groups layer"
            ),
            "deletion_protection": params["deletion_protection"],
            "publicly_accessible": False,
            "copy_tags_to_snapshot": True,
        }
        if send_password:
            fields["master_password"] = SECRET
        want["db_instance"][INSTANCE_KEY] = Desired(fields, ctx.tags_for(INSTANCE_KEY))
        return want

    def outputs(self, ctx, params, ids, current):
        identifier = ids.get("db_instance", {}).get(INSTANCE_KEY)
        instance = (ctx.description("db_instance", INSTANCE_KEY, current) or {}) if identifier else {}
        endpoint = instance.get("Endpoint") or {}
        group_key = family(params["engine_version"])
        return {
            "identifier": identifier,
            "arn": instance.get("DBInstanceArn"),
            "endpoint": endpoint.get("Address"),
            "port": endpoint.get("Port") or (params["port"] if identifier else None),
            "secret_arn": (instance.get("MasterUserSecret") or {}).get("SecretArn"),
            "master_username": params["master_username"],
            "database_name": params["database_name"],
            "engine_version": instance.get("EngineVersion"),
            "status": instance.get("DBInstanceStatus"),
            "parameter_group": ids.get("parameter_group", {}).get(group_key),
            "subnet_group": ids.get("subnet_group", {}).get(SUBNET_GROUP_KEY),
            "pending_modifications": dict(instance.get("PendingModifiedValues") or {}),
            "final_snapshot": ctx.state(RdsState).final_snapshot,
        }

    def absent_outputs(self, ctx, params):
        """For state=absent, once run_layer asks for it: the final snapshot taken, if any."""
        return {"final_snapshot": ctx.state(RdsState).final_snapshot}


def check_version(current_version, wanted, params):
    """Plan-time checks of an engine version change against the instance found (no AWS call)."""
    if not current_version:
        return
    have_major, want_major = major_version(current_version), major_version(wanted)
    if have_major == want_major:
        return
    if version_tuple(wanted) < version_tuple(current_version):
        raise ValidationError(
            "engine_version",
            "%s is older than the instance's %s; RDS cannot downgrade (restore a snapshot into a new environment "
            "instead)" % (wanted, current_version),
        )
    if not params.get("allow_major_version_upgrade"):
        raise ValidationError(
            "allow_major_version_upgrade",
            "engine_version %s is a major upgrade from %s; set allow_major_version_upgrade=true to do it (take a "
            "snapshot first; the new parameter group %s is made and the old one deleted after the move)"
            % (wanted, current_version, family(wanted)),
        )


def known_ids(values, what):
    """Sorted ids, or one unknown when an earlier layer has not made them yet (check mode on a fresh environment)."""
    if not values or any(not v for v in values):
        return Unknown(what)
    return sorted(values)
