# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security_groups layer: the security-group chain of one environment.

load balancer (its ports from the world) -> instances (the app port from the load balancer only)
-> database and cache (their ports from the instances only), plus optional extra ingress.
"""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Ref, Unknown, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, collect
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import EVENTUAL_CONSISTENCY_CODES, SecurityGroup

GROUPS = ("load_balancer", "instance", "database", "cache")
PROTOCOLS = ("tcp", "udp", "icmp", "all")
ALL_EGRESS = [{"protocol": "-1", "cidr": "0.0.0.0/0", "description": ""}]
DESCRIPTIONS = {
    "load_balancer": "webstack %s: load balancer",
    "instance": "webstack %s: instances",
    "database": "webstack %s: database",
    "cache": "webstack %s: cache",
}


def argument_spec():
    return dict(
        vpc_id=dict(type="str"),
        groups=dict(type="list", elements="str", choices=list(GROUPS), default=list(GROUPS)),
        load_balancer_ports=dict(type="list", elements="int", default=[80, 443]),
        load_balancer_cidrs=dict(type="list", elements="str", default=["0.0.0.0/0", "::/0"]),
        instance_port=dict(type="int", default=80),
        database_port=dict(type="int", default=5432),
        cache_port=dict(type="int", default=6379),
        extra_ingress=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                group=dict(type="str", required=True, choices=list(GROUPS)),
                protocol=dict(type="str", default="tcp", choices=list(PROTOCOLS)),
                port=dict(type="int"),
                to_port=dict(type="int"),
                cidr=dict(type="str"),
                source_group=dict(type="str", choices=list(GROUPS)),
                description=dict(type="str", default=""),
            ),
        ),
        allow_replacement=dict(type="bool", default=False),
    )


def check_vpc(params, check_mode):
    # In check mode on a fresh environment the network layer has no VPC id yet: plan against an unknown one.
    if params["state"] == "present" and not params.get("vpc_id") and not check_mode:
        raise ValidationError("vpc_id", "is required when state=present; pass the network layer's vpc_id")


def check_groups(params):
    for needed in ("load_balancer", "instance"):
        if needed not in params["groups"]:
            raise ValidationError(
                "groups", "must include %r: the chain starts with the load balancer and the instances" % needed
            )


def check_load_balancer_ports(params):
    if not params["load_balancer_ports"]:
        raise ValidationError("load_balancer_ports", "give at least one port (for example [80, 443])")
    collect(
        *[
            (lambda index=index, value=value: validation.port(value, "load_balancer_ports[%d]" % index))
            for index, value in enumerate(params["load_balancer_ports"])
        ]
    )


def check_rule_source(rule, option, groups):
    if rule["group"] not in groups:
        raise ValidationError(
            option + ".group", "%r is not one of the groups being managed (%s)" % (rule["group"], ", ".join(groups))
        )
    if bool(rule.get("cidr")) == bool(rule.get("source_group")):
        raise ValidationError(option, "give exactly one of 'cidr' or 'source_group' as the source")
    if rule.get("cidr"):
        validation.any_network(rule["cidr"], option + ".cidr")
    if rule.get("source_group") and rule["source_group"] not in groups:
        raise ValidationError(
            option + ".source_group", "%r is not one of the groups being managed" % rule["source_group"]
        )


def check_rule_ports(rule, option):
    if rule["protocol"] not in ("tcp", "udp"):
        if rule.get("port") is not None or rule.get("to_port") is not None:
            raise ValidationError(
                option + ".port", "ports apply only to tcp and udp; remove them for %s" % rule["protocol"]
            )
        return
    if rule.get("port") is None:
        raise ValidationError(option + ".port", "is required for protocol %s" % rule["protocol"])
    validation.port(rule["port"], option + ".port")
    if rule.get("to_port") is not None:
        validation.port(rule["to_port"], option + ".to_port")
        if rule["to_port"] < rule["port"]:
            raise ValidationError(option + ".to_port", "must not be below port %d" % rule["port"])


def extra_ingress_checks(params):
    checks = []
    for index, rule in enumerate(params["extra_ingress"]):
        option = "extra_ingress[%d]" % index
        checks.append(lambda rule=rule, option=option: check_rule_source(rule, option, params["groups"]))
        checks.append(lambda rule=rule, option=option: check_rule_ports(rule, option))
    return checks


def validate(params, check_mode=False):
    collect(
        lambda: check_vpc(params, check_mode),
        lambda: check_groups(params),
        lambda: check_load_balancer_ports(params),
        *[
            (lambda index=index, value=value: validation.any_network(value, "load_balancer_cidrs[%d]" % index))
            for index, value in enumerate(params["load_balancer_cidrs"])
        ],
        *[
            (lambda option=option: validation.port(params[option], option))
            for option in ("instance_port", "database_port", "cache_port")
        ],
        *extra_ingress_checks(params),
    )


def _rule(protocol, port, to_port=None, cidr=None, group=None, description=""):
    rule = {"protocol": "-1" if protocol == "all" else protocol, "description": description or ""}
    if protocol in ("tcp", "udp"):
        rule["from_port"], rule["to_port"] = port, to_port if to_port is not None else port
    elif protocol == "icmp":
        rule["from_port"], rule["to_port"] = -1, -1
    if group is not None:
        rule["group_id"] = group
    else:
        rule["cidr"] = cidr
    return rule


class SecurityGroupsLayer(LayerSpec):
    layer = "security_groups"
    result_key = "security_groups"
    services = ("ec2",)
    retry_codes = EVENTUAL_CONSISTENCY_CODES

    def kinds(self):
        return [SecurityGroup()]

    def validate(self, params, check_mode):
        validate(params, check_mode)

    def desired(self, ctx, params, current):
        env = ctx.environment
        groups = params["groups"]
        ingress = dict((g, []) for g in groups)
        for port in params["load_balancer_ports"]:
            for block in params["load_balancer_cidrs"]:
                ingress["load_balancer"].append(
                    _rule("tcp", port, cidr=block, description="port %d from %s" % (port, block))
                )
        ingress["instance"].append(
            _rule(
                "tcp",
                params["instance_port"],
                group=Ref("security_group", "load_balancer"),
                description="app port from the load balancer",
            )
        )
        if "database" in groups:
            ingress["database"].append(
                _rule(
                    "tcp",
                    params["database_port"],
                    group=Ref("security_group", "instance"),
                    description="database port from the instances",
                )
            )
        if "cache" in groups:
            ingress["cache"].append(
                _rule(
                    "tcp",
                    params["cache_port"],
                    group=Ref("security_group", "instance"),
                    description="cache port from the instances",
                )
            )
        for rule in params["extra_ingress"]:
            source = Ref("security_group", rule["source_group"]) if rule.get("source_group") else None
            ingress[rule["group"]].append(
                _rule(
                    rule["protocol"],
                    rule.get("port"),
                    rule.get("to_port"),
                    cidr=rule.get("cidr"),
                    group=source,
                    description=rule.get("description"),
                )
            )
        want = {"security_group": {}}
        for group in groups:
            want["security_group"][group] = Desired(
                {
                    "vpc_id": params["vpc_id"] or Unknown("vpc_id from the network layer"),
                    "group_name": "%s-%s" % (env, group.replace("_", "-")),
                    "description": DESCRIPTIONS[group] % env,
                    "ingress": ingress[group],
                    "egress": list(ALL_EGRESS),
                },
                ctx.tags_for(group),
            )
        self.groups = groups
        return want

    def outputs(self, ctx, params, ids, current):
        found = ids.get("security_group", {})
        return {
            "environment": ctx.environment,
            "vpc_id": params["vpc_id"],
            "group_ids": dict((g, found.get(g)) for g in self.groups),
            "group_names": dict((g, "%s-%s" % (ctx.environment, g.replace("_", "-"))) for g in self.groups),
        }
