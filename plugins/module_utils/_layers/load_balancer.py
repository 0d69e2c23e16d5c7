# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load balancer layer: an Application Load Balancer, its processes (target groups), listeners
and listener rules, with Elastic Beanstalk's defaults wherever an option is left out."""

from __future__ import annotations

import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Ref, Unknown, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, collect
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elbv2 import (
    Elbv2State,
    Listener,
    ListenerRule,
    LoadBalancer,
    TargetGroup,
    arn_dimension,
    redirect_to_https,
    rule_key,
)

DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# The predefined ALB security policies AWS documents (and DescribeSslPolicies answers with), checked before
# any AWS call; DescribeSslPolicies is not asked on every run.  Source: the ELBv2 user guide's table of
# security policies (TLS 1.3 and post-quantum ones included) as of 2025.
SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-2015-05",
)
CONTENT_TYPES = ("text/plain", "text/css", "text/html", "application/javascript", "application/json")
PROCESS_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
MATCHER = re.compile(r"^[0-9]{3}(-[0-9]{3}|(,[0-9]{3})*)$")
CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:(acm:[a-z0-9-]+:[0-9]{12}:certificate/.+|iam::[0-9]{12}:server-certificate/.+)$"
)
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
STATUS_CODE = re.compile(r"^[245][0-9]{2}$")
REPLACEMENT_SUFFIX = "-r"  # the second name a process's target group takes while it is replaced
MAX_NAME = 32  # load balancer and target group names
MAX_CONDITION_VALUES = 5  # per rule


def process_defaults():
    """Elastic Beanstalk's defaults for a process (its target group)."""
    return dict(
        name="default",
        port=80,
        protocol="HTTP",
        health_check_path="/",
        health_check_interval=15,
        health_check_timeout=5,
        healthy_threshold=3,
        unhealthy_threshold=5,
        matcher="200",
        deregistration_delay=20,
        stickiness=False,
        stickiness_duration=86400,
    )


def argument_spec():
    defaults = process_defaults()
    process_options = dict(
        name=dict(type="str", required=True),
        port=dict(type="int", default=defaults["port"]),
        protocol=dict(type="str", default="HTTP", choices=["HTTP", "HTTPS"]),
        health_check_path=dict(type="str", default=defaults["health_check_path"]),
        health_check_interval=dict(type="int", default=defaults["health_check_interval"]),
        health_check_timeout=dict(type="int", default=defaults["health_check_timeout"]),
        healthy_threshold=dict(type="int", default=defaults["healthy_threshold"]),
        unhealthy_threshold=dict(type="int", default=defaults["unhealthy_threshold"]),
        matcher=dict(type="str", default=defaults["matcher"]),
        deregistration_delay=dict(type="int", default=defaults["deregistration_delay"]),
        stickiness=dict(type="bool", default=False),
        stickiness_duration=dict(type="int", default=defaults["stickiness_duration"]),
    )
    return dict(
        vpc_id=dict(type="str"),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        scheme=dict(type="str", default="internet-facing", choices=["internet-facing", "internal"]),
        idle_timeout=dict(type="int", default=60),
        deletion_protection=dict(type="bool", default=False),
        access_logs=dict(
            type="dict",
            options=dict(bucket=dict(type="str", required=True), prefix=dict(type="str", default="")),
        ),
        certificate_arn=dict(type="str"),
        ssl_policy=dict(type="str", default=DEFAULT_SSL_POLICY),
        processes=dict(type="list", elements="dict", options=process_options, default=[{"name": "default"}]),
        default_process=dict(type="str"),
        rules=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str"),
                priority=dict(type="int"),
                conditions=dict(
                    type="dict",
                    required=True,
                    options=dict(
                        path_patterns=dict(type="list", elements="str", default=[]),
                        host_headers=dict(type="list", elements="str", default=[]),
                    ),
                ),
                forward=dict(type="str"),
                fixed_response=dict(
                    type="dict",
                    options=dict(
                        status_code=dict(type="str", required=True),
                        content_type=dict(type="str", default="text/plain", choices=list(CONTENT_TYPES)),
                        message_body=dict(type="str", default=""),
                    ),
                ),
            ),
        ),
        allow_replacement=dict(type="bool", default=False),
    )


def process_with_defaults(process):
    merged = process_defaults()
    merged.update(dict((k, v) for k, v in process.items() if v is not None))
    return merged


def default_process(params):
    names = [p["name"] for p in params["processes"]]
    if params.get("default_process"):
        return params["default_process"]
    return "default" if "default" in names else names[0]


def rule_conditions(rule):
    conditions = rule.get("conditions") or {}
    found = {}
    for field in ("path_patterns", "host_headers"):
        values = sorted(set(conditions.get(field) or []))
        if values:
            found[field] = values
    return found


def rule_priorities(rules):
    """Priorities in list order: a given one is kept, an omitted one is the previous one plus 1."""
    result, previous = [], 0
    for index, rule in enumerate(rules):
        priority = rule.get("priority")
        if priority is None:
            priority = previous + 1
        option = "rules[%d].priority" % index
        validation.in_range(priority, option, 1, 50000)
        if priority <= previous:
            raise ValidationError(
                option,
                "%d is not above the previous rule's %d; rules are evaluated in list order, so give increasing "
                "priorities (or leave them out)" % (priority, previous),
            )
        result.append(priority)
        previous = priority
    return result


def check_environment(params):
    env = params["environment"]
    if len(env) > MAX_NAME:
        raise ValidationError(
            "environment",
            "%r is %d characters; the load balancer is named after the environment and ALB names are at most %d"
            % (env, len(env), MAX_NAME),
        )


# option -> what to pass when it is missing (in check mode on a fresh environment the earlier layers have no ids
# yet: the plan is made against unknown ones)
REQUIRED_INPUTS = (
    ("vpc_id", "pass the network layer's vpc_id"),
    ("subnets", "pass the network layer's public subnet ids"),
    ("security_groups", "pass [the security_groups layer's load_balancer group id]"),
)


def check_required_inputs(params):
    for option, what in REQUIRED_INPUTS:
        value = params.get(option)
        if not value or (isinstance(value, list) and any(not v for v in value)):
            raise ValidationError(option, "is required when state=present; %s" % what)


def check_subnet_zones(params):
    subnets = params.get("subnets") or []
    if subnets and all(subnets) and len(set(subnets)) < 2:
        raise ValidationError(
            "subnets", "an Application Load Balancer needs subnets in at least two availability zones"
        )


def check_access_logs(params):
    logs = params.get("access_logs")
    if not logs:
        return
    if not BUCKET.match(logs["bucket"] or ""):
        raise ValidationError("access_logs.bucket", "%r is not a valid S3 bucket name" % (logs["bucket"],))
    prefix = logs.get("prefix") or ""
    if prefix.startswith("/") or prefix.endswith("/") or "AWSLogs" in prefix:
        raise ValidationError(
            "access_logs.prefix", "%r must not start or end with '/' nor contain 'AWSLogs'" % (prefix,)
        )


def check_certificate(params):
    if params.get("certificate_arn") and not CERTIFICATE_ARN.match(params["certificate_arn"]):
        raise ValidationError(
            "certificate_arn",
            "%r is not an ACM or IAM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"
            % (params["certificate_arn"],),
        )


def check_ssl_policy(params):
    if params["ssl_policy"] not in SSL_POLICIES:
        raise ValidationError(
            "ssl_policy",
            "%r is not a predefined ALB security policy; use %s (the default) or one of: %s"
            % (params["ssl_policy"], DEFAULT_SSL_POLICY, ", ".join(SSL_POLICIES[1:])),
        )


# process option -> (lowest, highest)
PROCESS_RANGES = (
    ("health_check_interval", 5, 300),
    ("health_check_timeout", 2, 120),
    ("healthy_threshold", 2, 10),
    ("unhealthy_threshold", 2, 10),
    ("deregistration_delay", 0, 3600),
    ("stickiness_duration", 1, 604800),
)


def process_names(params):
    return [process_with_defaults(raw)["name"] for raw in params["processes"] or []]


def check_process_name(env, process, option, earlier):
    name = process["name"]
    if not PROCESS_NAME.match(name or ""):
        raise ValidationError(option + ".name", "%r: use lowercase letters, digits and hyphens" % (name,))
    if len(env) + 1 + len(name) + len(REPLACEMENT_SUFFIX) > MAX_NAME:
        raise ValidationError(
            option + ".name",
            "%r is too long: target group names (%s-%s%s) are at most %d characters; shorten the process "
            "or environment name" % (name, env, name, REPLACEMENT_SUFFIX, MAX_NAME),
        )
    if name in earlier:
        raise ValidationError(option + ".name", "%r is given twice; process names must be unique" % name)


def check_process_port(process, option):
    validation.port(process["port"], option + ".port")
    if process["port"] == 0:
        raise ValidationError(option + ".port", "use a port from 1 to 65535")


def check_health_check_path(process, option):
    if not process["health_check_path"].startswith("/"):
        raise ValidationError(
            option + ".health_check_path", "%r must start with '/' (for example /health)" % process["health_check_path"]
        )


def check_health_check_timing(process, option):
    for name, low, high in PROCESS_RANGES[:2]:
        validation.in_range(process[name], option + "." + name, low, high)
    if process["health_check_timeout"] >= process["health_check_interval"]:
        raise ValidationError(
            option + ".health_check_timeout",
            "%d must be below health_check_interval (%d)"
            % (process["health_check_timeout"], process["health_check_interval"]),
        )


def check_matcher(process, option):
    if not MATCHER.match(process["matcher"]):
        raise ValidationError(
            option + ".matcher", "%r: use HTTP codes like 200, 200,302 or 200-299" % process["matcher"]
        )


def range_check(process, option, name, low, high):
    return lambda: validation.in_range(process[name], option + "." + name, low, high)


def check_process(env, raw, option, earlier):
    process = process_with_defaults(raw)
    collect(
        lambda: check_process_name(env, process, option, earlier),
        lambda: check_process_port(process, option),
        lambda: check_health_check_path(process, option),
        lambda: check_health_check_timing(process, option),
        *[range_check(process, option, name, low, high) for name, low, high in PROCESS_RANGES[2:4]],
        lambda: check_matcher(process, option),
        *[range_check(process, option, name, low, high) for name, low, high in PROCESS_RANGES[4:]],
    )


def check_processes(params):
    processes = params["processes"]
    if not processes:
        raise ValidationError("processes", "give at least one process (the default is [{name: default}])")
    names = process_names(params)
    collect(
        *[
            (
                lambda index=index, raw=raw: check_process(
                    params["environment"], raw, "processes[%d]" % index, names[:index]
                )
            )
            for index, raw in enumerate(processes)
        ]
    )


def check_default_process(params):
    names = process_names(params)
    if params.get("default_process") and params["default_process"] not in names:
        raise ValidationError(
            "default_process", "%r is not one of the processes (%s)" % (params["default_process"], ", ".join(names))
        )


def check_rule_conditions(rule, option):
    conditions = rule_conditions(rule)
    if not conditions:
        raise ValidationError(option + ".conditions", "give path_patterns and/or host_headers")
    count = sum(len(v) for v in conditions.values())
    if count > MAX_CONDITION_VALUES:
        raise ValidationError(
            option + ".conditions", "has %d values; AWS allows %d per rule" % (count, MAX_CONDITION_VALUES)
        )
    for value in conditions.get("path_patterns", []) + conditions.get("host_headers", []):
        if len(value) > 128:
            raise ValidationError(option + ".conditions", "%r is longer than 128 characters" % value)


def check_rule_action(rule, option, names):
    if bool(rule.get("forward")) == bool(rule.get("fixed_response")):
        raise ValidationError(option, "give exactly one action: forward (a process name) or fixed_response")
    if rule.get("forward") and rule["forward"] not in names:
        raise ValidationError(
            option + ".forward", "%r is not one of the processes (%s)" % (rule["forward"], ", ".join(names))
        )
    fixed = rule.get("fixed_response")
    if fixed:
        if not STATUS_CODE.match(str(fixed["status_code"])):
            raise ValidationError(
                option + ".fixed_response.status_code", "%r: use a 2XX, 4XX or 5XX code" % (fixed["status_code"],)
            )
        if len(fixed.get("message_body") or "") > 1024:
            raise ValidationError(option + ".fixed_response.message_body", "is over 1024 characters")


def check_rule(rule, option, keys, index):
    if rule.get("name") is not None and not PROCESS_NAME.match(rule["name"]):
        raise ValidationError(option + ".name", "%r: use lowercase letters, digits and hyphens" % (rule["name"],))
    check_rule_conditions(rule, option)
    key = rule_key("serving", rule.get("name"), rule_conditions(rule))
    if key in keys:
        raise ValidationError(
            option,
            "is the same rule as rules[%d] (same name, or same conditions and no name); give each rule a "
            "unique name or different conditions" % keys[key],
        )
    keys[key] = index


def check_rules(params):
    rules = params["rules"] or []
    rule_priorities(rules)
    names = process_names(params)
    keys = {}
    checks = []
    for index, rule in enumerate(rules):
        option = "rules[%d]" % index
        checks.append(lambda rule=rule, option=option, index=index: check_rule(rule, option, keys, index))
        checks.append(lambda rule=rule, option=option: check_rule_action(rule, option, names))
    collect(*checks)


def validate(params, check_mode=False):
    check_environment(params)
    if params["state"] != "present":
        return
    collect(
        *([] if check_mode else [lambda: check_required_inputs(params)]),
        lambda: check_subnet_zones(params),
        lambda: validation.in_range(params["idle_timeout"], "idle_timeout", 1, 4000),
        lambda: check_access_logs(params),
        lambda: check_certificate(params),
        lambda: check_ssl_policy(params),
        lambda: check_processes(params),
        lambda: check_default_process(params),
        lambda: check_rules(params),
    )


class LoadBalancerLayer(LayerSpec):
    layer = "load_balancer"
    result_key = "load_balancer"
    services = ("elbv2",)

    def __init__(self):
        self.rule_kind = ListenerRule()
        self.want = {}
        self.processes = []

    def kinds(self):
        # creation order; deletion runs the other way: rules, listeners, load balancer, target groups
        return [TargetGroup(), LoadBalancer(), Listener(), self.rule_kind]

    def validate(self, params, check_mode):
        validate(params, check_mode)

    def desired(self, ctx, params, current):
        env = ctx.environment
        vpc_id = params.get("vpc_id") or Unknown("vpc_id from the network layer")
        want = {"target_group": {}, "load_balancer": {}, "listener": {}, "listener_rule": {}}
        self.processes = [process_with_defaults(p) for p in params["processes"]]
        for process in self.processes:
            name = process["name"]
            fields = {
                "port": process["port"],
                "protocol": process["protocol"],
                "vpc_id": vpc_id,
                "target_type": "instance",
                "health_check": {
                    "path": process["health_check_path"],
                    "interval": process["health_check_interval"],
                    "timeout": process["health_check_timeout"],
                    "healthy_threshold": process["healthy_threshold"],
                    "unhealthy_threshold": process["unhealthy_threshold"],
                    "matcher": process["matcher"],
                },
                "attributes": {
                    "deregistration_delay": process["deregistration_delay"],
                    "stickiness": process["stickiness"],
                    "stickiness_duration": process["stickiness_duration"],
                },
            }
            fields["name"] = target_group_name(env, name, current.get("target_group", {}).get(name), fields)
            want["target_group"][name] = Desired(fields, ctx.tags_for(name))
        logs = params.get("access_logs")
        want["load_balancer"]["load_balancer"] = Desired(
            {
                "name": env,
                "scheme": params["scheme"],
                "vpc_id": vpc_id,
                "subnets": known_ids(params["subnets"], "public subnet ids from the network layer"),
                "security_groups": known_ids(
                    params["security_groups"], "the load balancer group id from the security_groups layer"
                ),
                "idle_timeout": params["idle_timeout"],
                "deletion_protection": params["deletion_protection"],
                "access_logs": (
                    {"enabled": True, "bucket": logs["bucket"], "prefix": logs.get("prefix") or ""}
                    if logs
                    else {"enabled": False}
                ),
            },
            ctx.tags_for("load_balancer"),
        )
        lb = Ref("load_balancer", "load_balancer")
        forward = {"type": "forward", "target_group_arn": Ref("target_group", default_process(params))}
        certificate = params.get("certificate_arn")
        http = {"load_balancer_arn": lb, "port": 80, "protocol": "HTTP", "ssl_policy": None, "certificate_arn": None}
        http["default_action"] = redirect_to_https() if certificate else forward
        want["listener"]["http"] = Desired(http, ctx.tags_for("http"))
        serving = "http"
        if certificate:
            serving = "https"
            want["listener"]["https"] = Desired(
                {
                    "load_balancer_arn": lb,
                    "port": 443,
                    "protocol": "HTTPS",
                    "ssl_policy": params["ssl_policy"],
                    "certificate_arn": certificate,
                    "default_action": forward,
                },
                ctx.tags_for("https"),
            )
        serving_listener = current.get("listener", {}).get(serving)
        have_rules = current.get("listener_rule", {})
        moves = {}
        order = {}
        rules = params["rules"] or []
        priorities = rule_priorities(rules)
        for index, rule in enumerate(rules):
            priority = priorities[index]
            conditions = rule_conditions(rule)
            key = rule_key(serving, rule.get("name"), conditions)
            if rule.get("forward"):
                action = {"type": "forward", "target_group_arn": Ref("target_group", rule["forward"])}
            else:
                fixed = rule["fixed_response"]
                action = {
                    "type": "fixed_response",
                    "status_code": str(fixed["status_code"]),
                    "content_type": fixed.get("content_type") or "text/plain",
                    "message_body": fixed.get("message_body") or "",
                }
            want["listener_rule"][key] = Desired(
                {
                    "listener_arn": Ref("listener", serving),
                    "priority": priority,
                    "conditions": conditions,
                    "action": action,
                },
                ctx.tags_for(key),
            )
            order[key] = priority
            have = have_rules.get(key)
            if have is not None and serving_listener is not None and have.fields["listener_arn"] == serving_listener.id:
                moves[have.id] = (serving_listener.id, priority)
        self.rule_kind.order = order
        ctx.state(Elbv2State).rule_moves = moves
        self.want = want
        return want

    def outputs(self, ctx, params, ids, current):
        lb_arn = ids.get("load_balancer", {}).get("load_balancer")
        lb = (ctx.description("load_balancer", "load_balancer", current) or {}) if lb_arn else {}
        groups = ids.get("target_group", {})
        listeners = ids.get("listener", {})
        rules = ids.get("listener_rule", {})
        target_groups = {}
        targets = {}
        for process in self.processes:
            name = process["name"]
            arn = groups.get(name)
            target_groups[name] = {
                "arn": arn,
                "name": self.want["target_group"][name].fields["name"],
                "port": process["port"],
                "dimension": arn_dimension(arn),
            }
            targets[name] = []
            if arn:  # one DescribeTargetHealth per process: there is no batch form
                answer = ctx.call("elbv2", "describe_target_health", TargetGroupArn=arn)
                for item in answer.get("TargetHealthDescriptions", []):
                    health = item.get("TargetHealth") or {}
                    targets[name].append(
                        {
                            "id": item["Target"]["Id"],
                            "port": item["Target"].get("Port"),
                            "state": health.get("State"),
                            "reason": health.get("Reason"),
                            "description": health.get("Description"),
                        }
                    )
        return {
            "environment": ctx.environment,
            "name": ctx.environment,
            "arn": lb_arn,
            "dns_name": lb.get("DNSName"),
            "canonical_hosted_zone_id": lb.get("CanonicalHostedZoneId"),
            "dimension": arn_dimension(lb_arn),
            "scheme": params["scheme"],
            "vpc_id": params.get("vpc_id"),
            "default_process": default_process(params),
            "target_groups": target_groups,
            "target_group_arns": dict((name, tg["arn"]) for name, tg in target_groups.items()),
            "listener_arns": dict((key, listeners.get(key)) for key in self.want["listener"]),
            "rule_arns": dict((key, rules.get(key)) for key in self.want["listener_rule"]),
            "targets": targets,
        }


def known_ids(values, what):
    """Sorted ids, or one unknown when an earlier layer has not made them yet (check mode on a fresh environment)."""
    if not values or any(not v for v in values):
        return Unknown(what)
    return sorted(values)


def target_group_name(env, process, have, fields):
    """``<environment>-<process>``; while a replacement is under way (port, protocol or VPC changed), the
    new group takes the other of its two names, ``<environment>-<process>-r``, so both exist at once."""
    primary = "%s-%s" % (env, process)
    if have is None:
        return primary
    current_name = have.fields.get("name")
    same = all(have.fields.get(f) == fields[f] for f in ("port", "protocol", "vpc_id", "target_type"))
    if same and current_name in (primary, primary + REPLACEMENT_SUFFIX):
        return current_name
    return primary + REPLACEMENT_SUFFIX if current_name == primary else primary
