# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cache layer: one ElastiCache Redis (or Valkey) replication group per environment and its subnet group."""

from __future__ import annotations

import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, EngineError, Ref, Unknown, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, collect
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elasticache import (
    GROUP_KEY,
    SECRET,
    SECRET_ROTATED,
    SUBNET_GROUP_KEY,
    CacheState,
    CacheSubnetGroup,
    ReplicationGroup,
    endpoints,
    final_snapshot_name,
    pending_modifications,
)

ENGINES = ("redis", "valkey")
DEFAULT_VERSIONS = {"redis": "7.1", "valkey": "8.0"}
# Major versions ElastiCache offers per engine (checked before any AWS call; the exact minor is AWS's to refuse).
MAJOR_VERSIONS = {"redis": (4, 5, 6, 7), "valkey": (7, 8)}
ENGINE_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)(\.[0-9]+)?$")
NODE_TYPE = re.compile(r"^cache\.[a-z]+[0-9]+[a-z-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal)$")
MAX_ID = 40  # replication group ids
MAX_REPLICAS = 5
MAX_RETENTION = 35
# AWS: printable ASCII, and not '/', '"', '@' (nor '%', refused by ModifyReplicationGroup); no spaces.
TOKEN_FORBIDDEN = set('/"@% ')
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
SNAPSHOT_WINDOW = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$")
MAINTENANCE_WINDOW = re.compile(r"^([a-z]{3}):([0-9]{2}):([0-9]{2})-([a-z]{3}):([0-9]{2}):([0-9]{2})$")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def argument_spec():
    return dict(
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        engine=dict(type="str", default="redis", choices=list(ENGINES)),
        engine_version=dict(type="str"),
        node_type=dict(type="str", default="cache.t4g.micro"),
        replicas=dict(type="int", default=1),
        port=dict(type="int", default=6379),
        at_rest_encryption=dict(type="bool", default=True),
        transit_encryption=dict(type="bool", default=True),
        auth_token=dict(type="str", no_log=True),
        update_auth_token=dict(type="str", default="on_create", choices=["on_create", "always"]),
        snapshot_retention=dict(type="int", default=1),
        snapshot_window=dict(type="str"),
        maintenance_window=dict(type="str"),
        apply_immediately=dict(type="bool", default=False),
        final_snapshot=dict(type="bool", default=True),
        allow_replacement=dict(type="bool", default=False),
    )


def engine_version(params):
    return params.get("engine_version") or DEFAULT_VERSIONS[params["engine"]]


def clock_minutes(hours, minutes, option, value):
    hours, minutes = int(hours), int(minutes)
    if hours > 23 or minutes > 59:
        raise ValidationError(option, "%r has a time that does not exist; use 00:00 to 23:59 (UTC)" % (value,))
    return hours * 60 + minutes


def snapshot_window_minutes(value, option="snapshot_window"):
    """(start, end) minutes of the day of ``hh24:mi-hh24:mi``; at least 60 minutes long."""
    match = SNAPSHOT_WINDOW.match(value or "")
    if not match:
        raise ValidationError(option, "%r is not a daily window; write it like 05:00-06:00 (UTC)" % (value,))
    start = clock_minutes(match.group(1), match.group(2), option, value)
    end = clock_minutes(match.group(3), match.group(4), option, value)
    if (end - start) % MINUTES_PER_DAY < 60:
        raise ValidationError(option, "%r is shorter than the 60 minutes AWS requires" % (value,))
    return start, end


def maintenance_window_minutes(value, option="maintenance_window"):
    """(start, end) minutes of the week of ``ddd:hh24:mi-ddd:hh24:mi``; 60 minutes to 24 hours long."""
    match = MAINTENANCE_WINDOW.match((value or "").lower())
    if not match or match.group(1) not in DAYS or match.group(4) not in DAYS:
        raise ValidationError(
            option, "%r is not a weekly window; write it like sun:05:00-sun:06:00 (UTC; days sun to sat)" % (value,)
        )
    start = DAYS.index(match.group(1)) * MINUTES_PER_DAY + clock_minutes(match.group(2), match.group(3), option, value)
    end = DAYS.index(match.group(4)) * MINUTES_PER_DAY + clock_minutes(match.group(5), match.group(6), option, value)
    length = (end - start) % MINUTES_PER_WEEK
    if length < 60 or length > MINUTES_PER_DAY:
        raise ValidationError(option, "%r must be 60 minutes to 24 hours long" % (value,))
    return start, end


def check_auth_token(token, transit_encryption):
    """Never puts the token itself in a message."""
    if not transit_encryption:
        raise ValidationError(
            "auth_token", "needs transit_encryption=true (AWS accepts an AUTH token only on encrypted connections)"
        )
    if not 16 <= len(token) <= 128:
        raise ValidationError("auth_token", "must be 16 to 128 characters long (the one given has %d)" % len(token))
    bad = sorted(set(c for c in token if c in TOKEN_FORBIDDEN or not 32 <= ord(c) <= 126))
    if bad:
        named = ", ".join(
            "space" if c == " " else repr(c) if 32 <= ord(c) <= 126 else "a non-printable character" for c in bad
        )
        raise ValidationError(
            "auth_token", "may hold printable ASCII characters except '/', '\"', '@', '%%' and spaces; found %s" % named
        )


def check_environment(params):
    env = params["environment"]
    if len(env) > MAX_ID:
        raise ValidationError(
            "environment",
            "%r is %d characters; the replication group is named after it and ids are at most %d"
            % (env, len(env), MAX_ID),
        )


# option -> what to pass (required when state=present; in check mode the earlier layers may not have made it yet)
REQUIRED_INPUTS = (
    ("subnets", "pass the network layer's database subnet ids"),
    ("security_groups", "pass [the security_groups layer's cache group id]"),
)


def check_required_input(params, option, what):
    if not params.get(option) or any(not s for s in params[option]):
        raise ValidationError(option, "is required when state=present; %s" % what)


def check_engine_version(params):
    version = engine_version(params)
    match = ENGINE_VERSION.match(version)
    if not match:
        raise ValidationError("engine_version", "%r is not a version; write it like 7.1 (major.minor)" % (version,))
    if int(match.group(1)) not in MAJOR_VERSIONS[params["engine"]]:
        raise ValidationError(
            "engine_version",
            "%r is not a %s version ElastiCache offers (majors %s)"
            % (version, params["engine"], ", ".join(str(v) for v in MAJOR_VERSIONS[params["engine"]])),
        )


def check_node_type(params):
    if not NODE_TYPE.match(params["node_type"] or ""):
        raise ValidationError(
            "node_type",
            "%r is not a cache node type; write it like cache.t4g.micro or cache.r7g.large" % (params["node_type"],),
        )


def windows_overlap(snapshot, maintenance):
    """Whether the daily snapshot window overlaps the weekly maintenance window on any day."""
    for day in range(7):
        start = day * MINUTES_PER_DAY + snapshot[0]
        length = (snapshot[1] - snapshot[0]) % MINUTES_PER_DAY
        m_length = (maintenance[1] - maintenance[0]) % MINUTES_PER_WEEK
        offset = (start - maintenance[0]) % MINUTES_PER_WEEK
        if offset < m_length or (maintenance[0] - start) % MINUTES_PER_WEEK < length:
            return True
    return False


def check_windows(params):
    snapshot = maintenance = None
    if params.get("snapshot_window"):
        snapshot = snapshot_window_minutes(params["snapshot_window"])
    if params.get("maintenance_window"):
        maintenance = maintenance_window_minutes(params["maintenance_window"])
    if snapshot and maintenance and windows_overlap(snapshot, maintenance):
        raise ValidationError(
            "snapshot_window",
            "%s overlaps maintenance_window %s; AWS requires them apart"
            % (params["snapshot_window"], params["maintenance_window"]),
        )


def check_auth_token_options(params):
    if params.get("auth_token") is not None:
        check_auth_token(params["auth_token"], params["transit_encryption"])
    if params["update_auth_token"] == "always" and not params.get("auth_token"):  # noqa: S105 - a choice
        raise ValidationError("update_auth_token", "'always' rotates to auth_token: give auth_token too")


# option -> (lowest, highest)
RANGES = (("replicas", 0, MAX_REPLICAS), ("port", 1, 65535), ("snapshot_retention", 0, MAX_RETENTION))


def validate(params, check_mode=False):
    check_environment(params)
    if params["state"] != "present":
        return
    collect(
        *[
            (lambda option=option, what=what: check_required_input(params, option, what))
            for option, what in (() if check_mode else REQUIRED_INPUTS)
        ],
        lambda: check_engine_version(params),
        lambda: check_node_type(params),
        *[(lambda row=row: validation.in_range(params[row[0]], *row)) for row in RANGES],
        lambda: check_windows(params),
        lambda: check_auth_token_options(params),
    )


def transit_step(current_state, want_encrypted):
    """The next transit encryption state: AWS moves between off and required only through 'preferred'
    (both kinds of clients accepted), one modification at a time."""
    if want_encrypted:
        return "preferred" if current_state == "disabled" else "required"
    return "preferred" if current_state == "required" else "disabled"


def known_ids(values, what):
    if not values or any(not v for v in values):
        return Unknown(what)
    return sorted(values)


class CacheLayer(LayerSpec):
    layer = "cache"
    result_key = "cache"
    services = ("elasticache",)

    def __init__(self):
        self.params = {}
        self.group_kind = None

    def kinds(self):
        params = self.params
        final = None
        if params.get("final_snapshot", True) and params.get("environment"):
            final = final_snapshot_name(params["environment"])
        self.group_kind = ReplicationGroup(
            auth_token=params.get("auth_token"),
            apply_immediately=bool(params.get("apply_immediately")),
            final_snapshot=final,
        )
        return [CacheSubnetGroup(), self.group_kind]

    def validate(self, params, check_mode):
        self.params = params
        validate(params, check_mode)

    def desired(self, ctx, params, current):
        env = ctx.environment
        foreign = ctx.state(CacheState)
        if foreign.foreign_group or foreign.foreign_subnet_group:
            raise EngineError(
                "An ElastiCache replication group or cache subnet group named %s exists without this environment's "
                "webstack tags (made by hand, or by another tool): the cache layer will not adopt it. Delete or rename "
                "it, or choose another environment name." % env
            )
        have = current.get("replication_group", {}).get(GROUP_KEY)
        if have is not None and (have.raw or {}).get("group", {}).get("Status") == "deleting":
            raise EngineError(
                "The replication group %s is being deleted; run again once it is gone (state=absent waits for it)."
                % env
            )
        replicas = params["replicas"]
        failover = "enabled" if replicas > 0 else "disabled"
        transit = "required" if params["transit_encryption"] else "disabled"
        if have is not None:
            transit = transit_step(have.fields.get("transit_encryption"), params["transit_encryption"])
        if params.get("auth_token"):
            rotate = params["update_auth_token"] == "always"  # noqa: S105 - a choice, not a password
            token = SECRET_ROTATED if rotate and have is not None else SECRET
        else:  # left out: whatever the group has is left alone
            token = have.fields.get("auth_token") if have is not None else None
        subnet_group = {
            "name": env,
            "subnets": known_ids(params.get("subnets"), "database subnet ids from the network layer"),
        }
        group = {
            "engine": params["engine"],
            "engine_version": engine_version(params),
            "node_type": params["node_type"],
            "replicas": replicas,
            "automatic_failover": failover,
            "multi_az": failover,
            "port": params["port"],
            "subnet_group": Ref("cache_subnet_group", SUBNET_GROUP_KEY),
            "security_groups": known_ids(
                params.get("security_groups"), "the cache group id from the security_groups layer"
            ),
            "at_rest_encryption": params["at_rest_encryption"],
            "transit_encryption": transit,
            "auth_token": token,
            "snapshot_retention": params["snapshot_retention"],
            "snapshot_window": params.get("snapshot_window"),
            "maintenance_window": (params.get("maintenance_window") or "").lower() or None,
        }
        return {
            "cache_subnet_group": {SUBNET_GROUP_KEY: Desired(subnet_group, ctx.tags_for(SUBNET_GROUP_KEY))},
            "replication_group": {GROUP_KEY: Desired(group, ctx.tags_for(GROUP_KEY))},
        }

    def outputs(self, ctx, params, ids, current):
        group_id = ids.get("replication_group", {}).get(GROUP_KEY)
        have = current.get("replication_group", {}).get(GROUP_KEY)
        made = ctx.created.get(("replication_group", GROUP_KEY))
        group, cluster = {}, None
        if have is not None:
            group, cluster = have.raw["group"], have.raw["cluster"]
        if made is not None:  # created, modified or waited for in this run: AWS's latest answer
            group = made
        if not group_id:
            group = {}
        primary, reader, port = endpoints(group)
        taken = self.group_kind.snapshots_taken if self.group_kind else []
        return {
            "id": group_id,
            "arn": group.get("ARN"),
            "primary_endpoint": primary,
            "reader_endpoint": reader,
            "port": port or params["port"],
            "engine": params["engine"],
            "engine_version": engine_version(params),
            "node_type": params["node_type"],
            "replicas": params["replicas"],
            "status": group.get("Status"),
            "subnet_group": ids.get("cache_subnet_group", {}).get(SUBNET_GROUP_KEY),
            "pending_modifications": pending_modifications(group, cluster) if group else {},
            "final_snapshot": taken[-1] if taken else None,
        }

    def absent_outputs(self, ctx, params):
        """For state=absent: the final snapshot taken by this run, if any."""
        taken = self.group_kind.snapshots_taken if self.group_kind else []
        return {"final_snapshot": taken[-1] if taken else None}
