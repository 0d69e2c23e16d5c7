# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Elastic Load Balancing (v2) resource kinds: target group, load balancer, listener, listener rule.

ELBv2 has no tag filter on its Describe calls, so one shared read finds everything of an environment:
DescribeLoadBalancers(Names=[<environment>]) (the load balancer is named after the environment),
DescribeListeners(LoadBalancerArn) (one), DescribeRules per listener (two at most), DescribeTargetGroups
(every page, keeping the names that start with ``<environment>-``: target groups a listener does not use
yet are found too), then DescribeTags for all of those ARNs at once (20 per call) and the attribute
reads, which have no batch form (one DescribeLoadBalancerAttributes, one DescribeTargetGroupAttributes
per target group).  Listeners and rules on the environment's load balancer are the layer's, tagged or
not (a listener or rule added by hand is converged away); target groups and the load balancer count only
with the environment's tags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = None

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_RESOURCE,
    Current,
    EngineError,
    Kind,
    error_code,
    not_found,
    owned,
    tag_dict,
    tag_list,
)

TAGS_PER_CALL = 20
MAX_PRIORITY = 50000

# What AWS uses when an attribute was never set (moto leaves some out of its answers until they are).
LB_ATTRIBUTE_DEFAULTS = {"idle_timeout": 60, "deletion_protection": False, "access_logs": {"enabled": False}}
TG_ATTRIBUTE_DEFAULTS = {"deregistration_delay": 300, "stickiness": False, "stickiness_duration": 86400}
REDIRECT_DEFAULTS = {"Host": "#{host}", "Path": "/#{path}", "Query": "#{query}"}


def arn_dimension(arn):
    """The CloudWatch dimension in an ARN: ``app/<name>/<id>`` (load balancer), ``targetgroup/<name>/<id>``."""
    if not arn:
        return None
    if ":loadbalancer/" in arn:
        return arn.split(":loadbalancer/", 1)[1]
    if ":targetgroup/" in arn:
        return "targetgroup/" + arn.split(":targetgroup/", 1)[1]
    return None


def rule_key(listener, name, conditions):
    """A rule's identity: its listener and its name, or without a name a digest of its conditions (so a
    reorder is a reorder).  A rule cannot move to another listener: a new listener means new rules."""
    if name:
        return "%s-rule-%s" % (listener, name)
    digest = hashlib.sha256(json.dumps(conditions, sort_keys=True).encode("utf-8")).hexdigest()[:10]
    return "%s-rule-%s" % (listener, digest)


# -- normalisation (what AWS answers -> what the layer compares) --------------------------------------
def lb_attributes(attribute_list):
    raw = dict((a["Key"], a["Value"]) for a in attribute_list or [])
    enabled = raw.get("access_logs.s3.enabled", "false") == "true"
    logs = {"enabled": enabled}
    if enabled:
        logs.update(bucket=raw.get("access_logs.s3.bucket", ""), prefix=raw.get("access_logs.s3.prefix", ""))
    return {
        "idle_timeout": int(raw.get("idle_timeout.timeout_seconds", LB_ATTRIBUTE_DEFAULTS["idle_timeout"])),
        "deletion_protection": raw.get("deletion_protection.enabled", "false") == "true",
        "access_logs": logs,
    }


def lb_attribute_changes(before, after):
    """ModifyLoadBalancerAttributes entries for the attributes that differ (and only those)."""
    changes = []
    before = dict(LB_ATTRIBUTE_DEFAULTS, **(before or {}))
    if before["idle_timeout"] != after["idle_timeout"]:
        changes.append({"Key": "idle_timeout.timeout_seconds", "Value": str(after["idle_timeout"])})
    if before["deletion_protection"] != after["deletion_protection"]:
        changes.append({"Key": "deletion_protection.enabled", "Value": str(after["deletion_protection"]).lower()})
    if before["access_logs"] != after["access_logs"]:
        logs = after["access_logs"]
        changes.append({"Key": "access_logs.s3.enabled", "Value": str(logs["enabled"]).lower()})
        if logs["enabled"]:
            changes.append({"Key": "access_logs.s3.bucket", "Value": logs["bucket"]})
            changes.append({"Key": "access_logs.s3.prefix", "Value": logs.get("prefix") or ""})
    return changes


def tg_attributes(attribute_list):
    raw = dict((a["Key"], a["Value"]) for a in attribute_list or [])
    return {
        "deregistration_delay": int(
            raw.get("deregistration_delay.timeout_seconds", TG_ATTRIBUTE_DEFAULTS["deregistration_delay"])
        ),
        "stickiness": raw.get("stickiness.enabled", "false") == "true",
        "stickiness_duration": int(
            raw.get("stickiness.lb_cookie.duration_seconds", TG_ATTRIBUTE_DEFAULTS["stickiness_duration"])
        ),
    }


def tg_attribute_changes(before, after):
    before = dict(TG_ATTRIBUTE_DEFAULTS, **(before or {}))
    changes = []
    if before["deregistration_delay"] != after["deregistration_delay"]:
        changes.append({"Key": "deregistration_delay.timeout_seconds", "Value": str(after["deregistration_delay"])})
    if before["stickiness"] != after["stickiness"]:
        changes.append({"Key": "stickiness.enabled", "Value": str(after["stickiness"]).lower()})
        if after["stickiness"]:
            changes.append({"Key": "stickiness.type", "Value": "lb_cookie"})
    if before["stickiness_duration"] != after["stickiness_duration"]:
        changes.append({"Key": "stickiness.lb_cookie.duration_seconds", "Value": str(after["stickiness_duration"])})
    return changes


def health_check(tg):
    return {
        "path": tg.get("HealthCheckPath"),
        "interval": tg.get("HealthCheckIntervalSeconds"),
        "timeout": tg.get("HealthCheckTimeoutSeconds"),
        "healthy_threshold": tg.get("HealthyThresholdCount"),
        "unhealthy_threshold": tg.get("UnhealthyThresholdCount"),
        "matcher": (tg.get("Matcher") or {}).get("HttpCode"),
    }


def health_check_params(check):
    return {
        "HealthCheckPath": check["path"],
        "HealthCheckIntervalSeconds": check["interval"],
        "HealthCheckTimeoutSeconds": check["timeout"],
        "HealthyThresholdCount": check["healthy_threshold"],
        "UnhealthyThresholdCount": check["unhealthy_threshold"],
        "Matcher": {"HttpCode": check["matcher"]},
    }


def normalise_conditions(conditions):
    """AWS rule conditions -> {path_patterns: [...], host_headers: [...]} (sorted; only those present)."""
    found = {}
    for condition in conditions or []:
        field = condition.get("Field")
        if field == "path-pattern":
            values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
            found.setdefault("path_patterns", []).extend(values)
        elif field == "host-header":
            values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
            found.setdefault("host_headers", []).extend(values)
        else:  # a condition this layer does not manage: never equal to what is asked for
            found.setdefault("other", []).append(json.dumps(condition, sort_keys=True))
    return dict((k, sorted(set(v))) for k, v in found.items() if v)


def conditions_for_aws(conditions):
    result = []
    if conditions.get("path_patterns"):
        result.append({"Field": "path-pattern", "PathPatternConfig": {"Values": list(conditions["path_patterns"])}})
    if conditions.get("host_headers"):
        result.append({"Field": "host-header", "HostHeaderConfig": {"Values": list(conditions["host_headers"])}})
    return result


def _one_action(action):
    kind = action.get("Type")
    if kind == "forward":
        arn = action.get("TargetGroupArn")
        groups = ((action.get("ForwardConfig") or {}).get("TargetGroups")) or []
        if not arn and len(groups) == 1:
            arn = groups[0].get("TargetGroupArn")
        if arn and len(groups) <= 1:
            return {"type": "forward", "target_group_arn": arn}
    elif kind == "redirect":
        config = dict(REDIRECT_DEFAULTS, **(action.get("RedirectConfig") or {}))
        return {
            "type": "redirect",
            "protocol": config.get("Protocol", "#{protocol}"),
            "port": str(config.get("Port", "#{port}")),
            "host": config["Host"],
            "path": config["Path"],
            "query": config["Query"],
            "status_code": config.get("StatusCode"),
        }
    elif kind == "fixed-response":
        config = action.get("FixedResponseConfig") or {}
        return {
            "type": "fixed_response",
            "status_code": str(config.get("StatusCode")),
            "content_type": config.get("ContentType") or "text/plain",
            "message_body": config.get("MessageBody") or "",
        }
    return {"type": "other", "raw": json.dumps(action, sort_keys=True, default=str)}


def normalise_actions(actions):
    """AWS actions -> one comparable dict (forward / redirect / fixed_response)."""
    ordered = sorted(actions or [], key=lambda a: a.get("Order", 0))
    if len(ordered) == 1:
        return _one_action(ordered[0])
    return {"type": "several", "actions": [_one_action(a) for a in ordered]}


def action_for_aws(action):
    if action["type"] == "forward":
        return [{"Type": "forward", "TargetGroupArn": action["target_group_arn"]}]
    if action["type"] == "redirect":
        config = {
            "Protocol": action["protocol"],
            "Port": action["port"],
            "Host": action["host"],
            "Path": action["path"],
            "Query": action["query"],
            "StatusCode": action["status_code"],
        }
        return [{"Type": "redirect", "RedirectConfig": config}]
    if action["type"] == "fixed_response":
        config = {"StatusCode": action["status_code"], "ContentType": action["content_type"]}
        if action.get("message_body"):
            config["MessageBody"] = action["message_body"]
        return [{"Type": "fixed-response", "FixedResponseConfig": config}]
    raise EngineError("internal: cannot send action %r" % (action,))


def redirect_to_https():
    return {
        "type": "redirect",
        "protocol": "HTTPS",
        "port": "443",
        "host": REDIRECT_DEFAULTS["Host"],
        "path": REDIRECT_DEFAULTS["Path"],
        "query": REDIRECT_DEFAULTS["Query"],
        "status_code": "HTTP_301",
    }


def listener_key(listener, tags):
    if tags.get(TAG_RESOURCE):
        return tags[TAG_RESOURCE]
    protocol, port = listener.get("Protocol"), listener.get("Port")
    if (protocol, port) == ("HTTP", 80):
        return "http"
    if (protocol, port) == ("HTTPS", 443):
        return "https"
    return "%s-%s" % (str(protocol).lower(), port)


def referenced_target_groups(data):
    """ARNs of the target groups the listeners and rules of ``load()`` forward to."""
    found = set()
    for item in data["listeners"] + data["rules"]:
        for action in item.get("DefaultActions") or item.get("Actions") or []:
            if action.get("TargetGroupArn"):
                found.add(action["TargetGroupArn"])
            for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
                found.add(group.get("TargetGroupArn"))
    return found


@dataclasses.dataclass
class Elbv2State:
    """The one read of the environment's load balancing resources (see ``load``), and the rule priority moves
    the layer planned ({rule ARN: (listener ARN, priority)}, applied once by the rule kind)."""

    snapshot: dict | None = None
    rule_moves: dict | None = None


# -- the shared read -------------------------------------------------------------------------------
def environment_balancers(ctx):
    """The load balancer named after the environment (none or one): one DescribeLoadBalancers."""
    if len(ctx.environment) > 32:  # cannot be a load balancer's name (and DescribeLoadBalancers would refuse it)
        return []
    try:
        return ctx.call("elbv2", "describe_load_balancers", Names=[ctx.environment])["LoadBalancers"]
    except ClientError as exc:
        if not not_found(exc, "LoadBalancerNotFound"):
            raise
        return []


def listeners_and_rules(ctx, balancers):
    """The balancers' listeners, and their rules but the default ones (each with its ListenerArn)."""
    listeners, rules = [], []
    for balancer in balancers:
        listeners.extend(
            ctx.paginate("elbv2", "describe_listeners", "Listeners", LoadBalancerArn=balancer["LoadBalancerArn"])
        )
    for listener in listeners:
        for rule in ctx.paginate("elbv2", "describe_rules", "Rules", ListenerArn=listener["ListenerArn"]):
            if not rule.get("IsDefault"):
                rules.append(dict(rule, ListenerArn=listener["ListenerArn"]))
    return listeners, rules


def read_tags(ctx, arns):
    """ARN -> tags, TAGS_PER_CALL ARNs a DescribeTags."""
    tags = {}
    for start in range(0, len(arns), TAGS_PER_CALL):
        answer = ctx.call("elbv2", "describe_tags", ResourceArns=arns[start : start + TAGS_PER_CALL])
        for description in answer.get("TagDescriptions", []):
            tags[description["ResourceArn"]] = tag_dict(description.get("Tags"))
    return tags


def load(ctx):
    """Read everything of the environment once (see the module docstring); every kind reads from this."""
    state = ctx.state(Elbv2State)
    cached = state.snapshot
    if cached is not None:
        return cached
    env = ctx.environment
    balancers = environment_balancers(ctx)
    listeners, rules = listeners_and_rules(ctx, balancers)
    groups = [
        tg
        for tg in ctx.paginate("elbv2", "describe_target_groups", "TargetGroups", PageSize=400)
        if tg["TargetGroupName"].startswith(env + "-")
    ]
    arns = [b["LoadBalancerArn"] for b in balancers] + [g["TargetGroupArn"] for g in groups]
    arns += [item["ListenerArn"] for item in listeners] + [r["RuleArn"] for r in rules]
    tags = read_tags(ctx, arns)
    balancers = [b for b in balancers if owned(ctx, tags.get(b["LoadBalancerArn"], {}))]
    mine = set(b["LoadBalancerArn"] for b in balancers)
    listeners = [item for item in listeners if item["LoadBalancerArn"] in mine]
    kept = set(item["ListenerArn"] for item in listeners)
    rules = [r for r in rules if r["ListenerArn"] in kept]
    groups = [g for g in groups if owned(ctx, tags.get(g["TargetGroupArn"], {}))]
    # Attributes have no batch read: one call per load balancer (one) and per target group.
    lb_attrs = {}
    for balancer in balancers:
        answer = ctx.call("elbv2", "describe_load_balancer_attributes", LoadBalancerArn=balancer["LoadBalancerArn"])
        lb_attrs[balancer["LoadBalancerArn"]] = lb_attributes(answer.get("Attributes"))
    tg_attrs = {}
    for group in groups:
        answer = ctx.call("elbv2", "describe_target_group_attributes", TargetGroupArn=group["TargetGroupArn"])
        tg_attrs[group["TargetGroupArn"]] = tg_attributes(answer.get("Attributes"))
    priorities = {}
    for rule in rules:
        priorities.setdefault(rule["ListenerArn"], {})[rule["RuleArn"]] = int(rule["Priority"])
    cached = {
        "load_balancers": balancers,
        "listeners": listeners,
        "rules": rules,
        "target_groups": groups,
        "tags": tags,
        "lb_attributes": lb_attrs,
        "tg_attributes": tg_attrs,
        "priorities": priorities,  # listener ARN -> rule ARN -> priority, kept current by the rule kind
    }
    state.snapshot = cached
    return cached


class Elbv2Kind(Kind):
    """Shared ELBv2 plumbing: tags by AddTags / RemoveTags on the resource's ARN."""

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call("elbv2", "add_tags", ResourceArns=[current.id], Tags=tag_list(add))
        if remove:
            ctx.call("elbv2", "remove_tags", ResourceArns=[current.id], TagKeys=list(remove))


class TargetGroup(Elbv2Kind):
    """A target group: one Elastic Beanstalk "process".  Port, protocol and VPC cannot change in place;
    a replacement makes the new group first (under the other of its two names), the listeners and rules
    are repointed to it, and only then is the old one deleted."""

    name = "target_group"
    create_only = ("name", "port", "protocol", "vpc_id", "target_type")
    updatable = ("health_check", "attributes")
    replace_creates_first = True

    def read(self, ctx):
        data = load(ctx)
        found = []
        for tg in data["target_groups"]:
            arn = tg["TargetGroupArn"]
            tags = data["tags"].get(arn, {})
            fields = {
                "name": tg["TargetGroupName"],
                "port": tg.get("Port"),
                "protocol": tg.get("Protocol"),
                "vpc_id": tg.get("VpcId"),
                "target_type": tg.get("TargetType"),
                "health_check": health_check(tg),
                "attributes": data["tg_attributes"].get(arn),
            }
            found.append(Current(tags.get(TAG_RESOURCE, arn), arn, fields, tags, tg))
        return self._one_per_key(found, data)

    def _one_per_key(self, found, data):
        """Two groups of one process (a replacement interrupted before the old one was deleted): the one
        listeners and rules forward to keeps the key, the other is planned for deletion (after them)."""
        in_use = referenced_target_groups(data)
        by_key = {}
        for item in found:
            by_key.setdefault(item.key, []).append(item)
        for key, items in by_key.items():
            items.sort(key=lambda c: (c.id not in in_use, str(c.fields.get("name")).endswith("-r"), c.id))
            for index, item in enumerate(items[1:]):
                item.key = "%s#superseded-%d" % (key, index + 1)
        return found

    def create(self, ctx, key, fields, tags):
        params = health_check_params(fields["health_check"])
        tg = ctx.call(
            "elbv2",
            "create_target_group",
            Name=fields["name"],
            Protocol=fields["protocol"],
            Port=fields["port"],
            VpcId=fields["vpc_id"],
            TargetType=fields["target_type"],
            HealthCheckProtocol=fields["protocol"],
            HealthCheckEnabled=True,
            Tags=tag_list(tags),
            **params,
        )["TargetGroups"][0]
        changes = tg_attribute_changes(None, fields["attributes"])
        if changes:
            ctx.call("elbv2", "modify_target_group_attributes", TargetGroupArn=tg["TargetGroupArn"], Attributes=changes)
        ctx.remember(self.name, key, tg)
        # AWS answers a create of an existing group (same name and settings) with that group: never retire it
        self.created.add(tg["TargetGroupArn"])
        return tg["TargetGroupArn"]

    def update(self, ctx, current, fields, changed):
        if "health_check" in changed:
            ctx.call(
                "elbv2", "modify_target_group", TargetGroupArn=current.id, **health_check_params(fields["health_check"])
            )
        if "attributes" in changed:
            changes = tg_attribute_changes(current.fields.get("attributes"), fields["attributes"])
            ctx.call("elbv2", "modify_target_group_attributes", TargetGroupArn=current.id, Attributes=changes)

    def __init__(self):
        self.retiring = []
        self.created = set()

    def delete(self, ctx, current):
        """Deferred to ``finish``: a listener or rule may still forward to this group until the update phase
        points it elsewhere (a process renamed, or no longer the default)."""
        self.retiring.append(current)

    def finish(self, ctx):
        retiring, self.retiring = self.retiring, []
        for current in retiring:
            if current.id not in self.created:
                self._delete_now(ctx, current)

    def _delete_now(self, ctx, current):
        # Right after its load balancer or listener goes, AWS may still call the group in use for a moment.
        def pending():
            try:
                ctx.call("elbv2", "delete_target_group", TargetGroupArn=current.id)
            except ClientError as exc:
                if error_code(exc) != "ResourceInUse":
                    raise
                return ["target group %s (still in use)" % current.fields.get("name")]
            return []

        ctx.poll(
            "target group %s to be released" % current.fields.get("name"), pending, timeout=min(ctx.wait_timeout, 300)
        )


class LoadBalancer(Elbv2Kind):
    """The Application Load Balancer, named after the environment."""

    name = "load_balancer"
    unordered = ("subnets", "security_groups")
    create_only = ("name", "scheme", "vpc_id")
    updatable = ("subnets", "security_groups", "idle_timeout", "deletion_protection", "access_logs")

    def read(self, ctx):
        data = load(ctx)
        found = []
        for lb in data["load_balancers"]:
            arn = lb["LoadBalancerArn"]
            tags = data["tags"].get(arn, {})
            attributes = data["lb_attributes"].get(arn) or dict(LB_ATTRIBUTE_DEFAULTS)
            fields = {
                "name": lb["LoadBalancerName"],
                "scheme": lb.get("Scheme"),
                "vpc_id": lb.get("VpcId"),
                "subnets": sorted(z["SubnetId"] for z in lb.get("AvailabilityZones", [])),
                "security_groups": sorted(lb.get("SecurityGroups") or []),
            }
            fields.update(attributes)
            found.append(Current(tags.get(TAG_RESOURCE, arn), arn, fields, tags, lb))
        return found

    def check_delete(self, ctx, current):
        if current.fields.get("deletion_protection"):
            raise EngineError(
                "The load balancer %s has deletion protection on, so it cannot be deleted or replaced. Run the "
                "module with deletion_protection: false first (state=present), then again with state=absent "
                "(or the change that replaces it)." % current.fields.get("name")
            )

    def create(self, ctx, key, fields, tags):
        lb = ctx.call(
            "elbv2",
            "create_load_balancer",
            Name=fields["name"],
            Subnets=list(fields["subnets"]),
            SecurityGroups=list(fields["security_groups"]),
            Scheme=fields["scheme"],
            Type="application",
            IpAddressType="ipv4",
            Tags=tag_list(tags),
        )["LoadBalancers"][0]
        changes = lb_attribute_changes(None, fields)
        if changes:
            ctx.call(
                "elbv2", "modify_load_balancer_attributes", LoadBalancerArn=lb["LoadBalancerArn"], Attributes=changes
            )
        ctx.remember(self.name, key, lb)
        return lb["LoadBalancerArn"]

    def update(self, ctx, current, fields, changed):
        if "subnets" in changed:
            ctx.call("elbv2", "set_subnets", LoadBalancerArn=current.id, Subnets=list(fields["subnets"]))
        if "security_groups" in changed:
            ctx.call(
                "elbv2",
                "set_security_groups",
                LoadBalancerArn=current.id,
                SecurityGroups=list(fields["security_groups"]),
            )
        wanted = dict((f, fields[f]) for f in LB_ATTRIBUTE_DEFAULTS)
        have = dict((f, current.fields.get(f)) for f in LB_ATTRIBUTE_DEFAULTS)
        changes = lb_attribute_changes(have, wanted)
        if changes:
            ctx.call("elbv2", "modify_load_balancer_attributes", LoadBalancerArn=current.id, Attributes=changes)

    def delete(self, ctx, current):
        ctx.call("elbv2", "delete_load_balancer", LoadBalancerArn=current.id)

    def _states(self, ctx, arns):
        try:
            found = ctx.call("elbv2", "describe_load_balancers", LoadBalancerArns=list(arns))["LoadBalancers"]
        except ClientError as exc:
            if not not_found(exc, "LoadBalancerNotFound"):
                raise
            return {}
        return dict((lb["LoadBalancerArn"], lb.get("State", {}).get("Code")) for lb in found)

    def wait_created(self, ctx, ids):
        def pending():
            states = self._states(ctx, ids)
            return ["%s (%s)" % (arn_dimension(a), states.get(a)) for a in ids if states.get(a) != "active"]

        ctx.poll("the load balancer to become active", pending)

    def wait_deleted(self, ctx, ids):
        # Always waited for: its target groups can only go once it is gone, and a replacement reuses its name.
        def pending():
            states = self._states(ctx, ids)
            return [arn_dimension(a) for a in ids if a in states]

        ctx.poll("the load balancer to be deleted", pending)


class Listener(Elbv2Kind):
    """A listener (``http`` on 80, ``https`` on 443) with its default action."""

    name = "listener"
    create_only = ("load_balancer_arn", "port", "protocol")
    updatable = ("default_action", "ssl_policy", "certificate_arn")

    def sort_keys(self, keys):
        # HTTPS first: it is serving before HTTP starts redirecting to it (and HTTP goes last on teardown).
        return sorted(keys, key=lambda k: (k != "https", k))

    def read(self, ctx):
        data = load(ctx)
        found = []
        for listener in data["listeners"]:
            arn = listener["ListenerArn"]
            tags = data["tags"].get(arn, {})
            https = listener.get("Protocol") == "HTTPS"
            certificates = [c["CertificateArn"] for c in listener.get("Certificates") or []]
            fields = {
                "load_balancer_arn": listener["LoadBalancerArn"],
                "port": listener.get("Port"),
                "protocol": listener.get("Protocol"),
                "ssl_policy": listener.get("SslPolicy") if https else None,
                "certificate_arn": certificates[0] if https and certificates else None,
                "default_action": normalise_actions(listener.get("DefaultActions")),
            }
            found.append(Current(listener_key(listener, tags), arn, fields, tags, listener))
        return found

    def create(self, ctx, key, fields, tags):
        params = {}
        if fields["protocol"] == "HTTPS":
            params = {
                "SslPolicy": fields["ssl_policy"],
                "Certificates": [{"CertificateArn": fields["certificate_arn"]}],
            }
        listener = ctx.call(
            "elbv2",
            "create_listener",
            LoadBalancerArn=fields["load_balancer_arn"],
            Protocol=fields["protocol"],
            Port=fields["port"],
            DefaultActions=action_for_aws(fields["default_action"]),
            Tags=tag_list(tags),
            **params,
        )["Listeners"][0]
        ctx.remember(self.name, key, listener)
        return listener["ListenerArn"]

    def update(self, ctx, current, fields, changed):
        params = {}
        if "default_action" in changed:
            params["DefaultActions"] = action_for_aws(fields["default_action"])
        if "ssl_policy" in changed and fields.get("ssl_policy"):
            params["SslPolicy"] = fields["ssl_policy"]
        if "certificate_arn" in changed and fields.get("certificate_arn"):
            params["Certificates"] = [{"CertificateArn": fields["certificate_arn"]}]
        if params:
            ctx.call("elbv2", "modify_listener", ListenerArn=current.id, **params)

    def delete(self, ctx, current):
        ctx.call("elbv2", "delete_listener", ListenerArn=current.id)


def priority_moves(moves, priorities):
    """SetRulePriorities batches that bring rules to new priorities without ever colliding.

    ``moves``: {rule ARN: new priority} on one listener; ``priorities``: {rule ARN: current priority} of
    every rule on it.  One batch when no target is held by another rule; otherwise the moving rules go to
    free priorities from the top first (AWS accepts a swap in one call, moto does not; two calls are
    correct on both)."""
    moving = dict((arn, p) for arn, p in moves.items() if priorities.get(arn) != p)
    if not moving:
        return []
    final = [{"RuleArn": arn, "Priority": p} for arn, p in sorted(moving.items(), key=lambda item: item[1])]
    held = dict((p, arn) for arn, p in priorities.items())
    if not any(held.get(p) not in (None, arn) for arn, p in moving.items()):
        return [final]
    taken = set(priorities.values()) | set(moves.values())
    free = (p for p in range(MAX_PRIORITY, 0, -1) if p not in taken)
    parking = [{"RuleArn": arn, "Priority": next(free)} for arn in sorted(moving)]
    return [parking, final]


class ListenerRule(Elbv2Kind):
    """A rule of the serving listener: conditions (paths, hosts), one action, a priority.

    Priorities change with SetRulePriorities (all moves of a run at once, before any new rule is made, so
    nothing collides); conditions and actions with ModifyRule; nothing is deleted and made again unless
    the rule itself is gone from the definition."""

    name = "listener_rule"
    create_only = ("listener_arn",)  # never changes: the listener is part of the key
    updatable = ("priority", "conditions", "action")

    def __init__(self):
        self.order = {}  # key -> desired priority, set by the layer

    def sort_keys(self, keys):
        return sorted(keys, key=lambda k: (self.order.get(k, MAX_PRIORITY + 1), k))

    def read(self, ctx):
        data = load(ctx)
        listeners = dict(
            (item["ListenerArn"], listener_key(item, data["tags"].get(item["ListenerArn"], {})))
            for item in data["listeners"]
        )
        found = []
        for rule in data["rules"]:
            arn = rule["RuleArn"]
            tags = data["tags"].get(arn, {})
            conditions = normalise_conditions(rule.get("Conditions"))
            fields = {
                "listener_arn": rule["ListenerArn"],
                "priority": int(rule["Priority"]),
                "conditions": conditions,
                "action": normalise_actions(rule.get("Actions")),
            }
            found.append(
                Current(
                    tags.get(TAG_RESOURCE) or rule_key(listeners[rule["ListenerArn"]], None, conditions),
                    arn,
                    fields,
                    tags,
                    rule,
                )
            )
        return found

    def _reorder(self, ctx):
        """Move every kept rule to its new priority, once per run (``Elbv2State.rule_moves``:
        {rule ARN: (listener ARN, priority)}, planned by the layer)."""
        state = ctx.state(Elbv2State)
        moves, state.rule_moves = state.rule_moves, None
        if not moves:
            return
        priorities = load(ctx)["priorities"]
        by_listener = {}
        for arn, (listener_arn, priority) in moves.items():
            if arn in priorities.get(listener_arn, {}):
                by_listener.setdefault(listener_arn, {})[arn] = priority
        for listener_arn in sorted(by_listener):
            held = priorities[listener_arn]
            for batch in priority_moves(by_listener[listener_arn], held):
                ctx.call("elbv2", "set_rule_priorities", RulePriorities=batch)
                for item in batch:
                    held[item["RuleArn"]] = item["Priority"]

    def create(self, ctx, key, fields, tags):
        self._reorder(ctx)
        rule = ctx.call(
            "elbv2",
            "create_rule",
            ListenerArn=fields["listener_arn"],
            Priority=fields["priority"],
            Conditions=conditions_for_aws(fields["conditions"]),
            Actions=action_for_aws(fields["action"]),
            Tags=tag_list(tags),
        )["Rules"][0]
        load(ctx)["priorities"].setdefault(fields["listener_arn"], {})[rule["RuleArn"]] = fields["priority"]
        ctx.remember(self.name, key, rule)
        return rule["RuleArn"]

    def update(self, ctx, current, fields, changed):
        if "priority" in changed:
            self._reorder(ctx)
        params = {}
        if "conditions" in changed:
            params["Conditions"] = conditions_for_aws(fields["conditions"])
        if "action" in changed:
            params["Actions"] = action_for_aws(fields["action"])
        if params:
            ctx.call("elbv2", "modify_rule", RuleArn=current.id, **params)

    def delete(self, ctx, current):
        ctx.call("elbv2", "delete_rule", RuleArn=current.id)
        load(ctx)["priorities"].get(current.fields["listener_arn"], {}).pop(current.id, None)
