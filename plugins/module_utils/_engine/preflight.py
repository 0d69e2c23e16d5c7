# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole environment definition checked before the first AWS call, with the layers' own rules.

Each layer's module options are built from the definition the way the environment role passes them
(``roles/environment/tasks/present.yml``: a section's options under their own names, plus what the role
computes from other layers), then checked with the module's argument spec and the layer's ``validate`` -
the very rules the module applies when it runs - and with the rules that span layers. Every problem is
reported at once, each under its path in the definition (``webstack_environment.load_balancer.ssl_policy``).
Values the role computes from layers that do not exist yet (ids, ARNs) are stand-ins of the right shape:
they are checked by the modules when they run, not here.
"""

from __future__ import annotations

import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import common_argument_spec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, environment_name
from ansible_collections.webstack.aws.plugins.module_utils._layers import (
    alarms,
    auto_scaling,
    cache,
    certificate,
    database,
    dns,
    instance_profile,
    load_balancer,
    network,
    queue,
    security_groups,
    static_assets,
)

ROOT = "webstack_environment"
# role section -> (layer module, its LayerSpec class); certificate and dns are built from the top level
SECTIONS = {
    "network": (network, network.NetworkLayer),
    "firewall": (security_groups, security_groups.SecurityGroupsLayer),
    "identity": (instance_profile, instance_profile.InstanceProfileLayer),
    "load_balancer": (load_balancer, load_balancer.LoadBalancerLayer),
    "instances": (auto_scaling, auto_scaling.AutoScalingLayer),
    "alarms": (alarms, alarms.AlarmsLayer),
    "database": (database, database.DatabaseLayer),
    "cache": (cache, cache.CacheLayer),
    "static_assets": (static_assets, static_assets.StaticAssetsLayer),
    "queue": (queue, queue.QueueLayer),
}
WEB_ONLY = ("load_balancer",)
WORKER_ONLY = ("queue",)
ROLE_ONLY = ("enabled",)  # section options the role reads itself
# Stand-ins for what the role passes from layers converged earlier in the same run.
ACCOUNT = "123456789012"
REGION = "us-east-1"
VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
GROUP = "sg-0123456789abcdef0"
CERTIFICATE = "arn:aws:acm:%s:%s:certificate/00000000-0000-0000-0000-000000000000" % (REGION, ACCOUNT)
LOAD_BALANCER = "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/stand-in/0123456789abcdef" % (REGION, ACCOUNT)
TARGET_GROUP = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/stand-in/0123456789abcdef" % (REGION, ACCOUNT)
ZONE = "Z0123456789ABCDEFGHIJ"
LOAD_BALANCER_DNS = "stand-in-0123456789.%s.elb.amazonaws.com" % REGION
LOAD_BALANCER_ZONE = "Z35SXDOTRQ7X7K"
CDN_DOMAIN = "d0123456789abc.cloudfront.net"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
ARGUMENT = re.compile(r"argument '(\w+)'")  # how Ansible's argument spec errors name the option
# the certificate's and the DNS layer's options -> where the definition holds them
TOP_LEVEL_PATHS = {
    "domain": "domain",
    "domain_name": "domain",
    "api_name": "api_name",
    "subject_alternative_names": "static_assets.aliases",
    "records": "static_assets.aliases",
}


class Problems:
    """Problems found so far, each a (path, message) pair."""

    def __init__(self):
        self.found = []

    def add(self, path, message):
        self.found.append((path, message))

    def layer_error(self, section, error, options):
        """A layer's ValidationError(s), each under the definition path of its option."""
        for single in error.errors:
            head = re.split(r"[.\[]", single.option)[0]
            if head == "environment":
                self.add("%s.name" % ROOT, single.message)
            elif section and head in options:
                self.add("%s.%s.%s" % (ROOT, section, single.option), single.message)
            elif section:  # an option the role computes: say which
                self.add("%s.%s" % (ROOT, section), str(single))
            else:  # the certificate and DNS layers, built from the top level
                self.add("%s.%s" % (ROOT, TOP_LEVEL_PATHS.get(head, head)), str(single))


def section_of(definition, name):
    value = definition.get(name)
    return value if isinstance(value, dict) else {}


def computed(definition, module):
    """What the role passes a layer besides its section's options (see present.yml)."""
    name = definition["name"]
    web = definition.get("tier", "web") == "web"
    assets = section_of(definition, "static_assets")
    aliases = assets.get("aliases") or []
    if module is security_groups:
        return {"vpc_id": VPC}
    if module is instance_profile:
        # with the static assets on, the role scopes the bucket policy to their bucket (default_bucket)
        return {"log_group": "/webstack/%s" % name, "default_bucket": bool(assets.get("enabled", True))}
    if module is load_balancer:
        return {"vpc_id": VPC, "subnets": SUBNETS, "security_groups": [GROUP], "certificate_arn": CERTIFICATE}
    if module is auto_scaling:
        return {
            "instance_profile": "%s-instance" % name,
            "security_group_ids": [GROUP],
            "subnet_ids": SUBNETS,
            "target_group_arns": [TARGET_GROUP] if web else [],
            "load_balancer_arn": LOAD_BALANCER if web else None,
            "health_check_type": "ELB" if web else "EC2",
        }
    if module is alarms:
        return {
            "load_balancer": LOAD_BALANCER if web else None,
            "target_group": TARGET_GROUP if web else None,
            "auto_scaling_group": name,
            "queue": None if web else "%s-worker" % name,
            "dead_letter_queue": None if web else "%s-worker-dead-letter" % name,
            "create_log_group": True,
        }
    if module in (database, cache):
        return {"subnets": SUBNETS, "security_groups": [GROUP]}
    if module is static_assets:
        return {"certificate_arn": CERTIFICATE if aliases else None}
    return {}


def top_level_layers(definition):
    """The certificate and DNS layers' options, which the role builds from the definition's top level."""
    name, domain = definition["name"], definition.get("domain") or ""
    api = definition.get("api_name") or "api"
    aliases = section_of(definition, "static_assets").get("aliases") or []
    records = [
        {"name": alias, "type": "A", "alias": {"dns_name": CDN_DOMAIN, "hosted_zone_id": CLOUDFRONT_ZONE}}
        for alias in aliases
    ]
    return [
        (
            certificate,
            certificate.CertificateLayer,
            {
                "domain_name": "%s.%s" % (api, domain),
                "subject_alternative_names": ["%s.%s" % (name, domain)] + list(aliases),
                "hosted_zone_id": ZONE,
            },
        ),
        (
            dns,
            dns.DnsLayer,
            {
                "domain": domain,
                "create_zone": definition.get("create_zone", True),
                "api_name": api,
                "load_balancer_dns_name": LOAD_BALANCER_DNS,
                "load_balancer_hosted_zone_id": LOAD_BALANCER_ZONE,
                "records": records or None,
            },
        ),
    ]


def check_layer(problems, definition, section, module, spec_class, options):
    """One layer: its module's argument spec, then its own validate (only if the types are right)."""
    params = {
        "environment": definition["name"],
        "state": "present",
        "tags": definition.get("tags") or {},
        "wait_timeout": definition.get("wait_timeout", 900),
    }
    argument_spec = common_argument_spec()
    argument_spec.update(module.argument_spec())
    if "allow_replacement" in argument_spec:
        params["allow_replacement"] = definition.get("allow_replacement", False)
    params.update((k, v) for k, v in computed(definition, module).items() if v is not None)
    params.update(options)
    result = ArgumentSpecValidator(argument_spec).validate(params)
    if result.error_messages:
        where = "%s.%s" % (ROOT, section) if section else ROOT
        for message in result.error_messages:
            named = ARGUMENT.search(message)
            if named and section and named.group(1) in options:
                problems.add("%s.%s" % (where, named.group(1)), message)
            else:
                problems.add(where, message)
        return
    try:
        spec_class().validate(result.validated_parameters, False)
    except ValidationError as error:
        problems.layer_error(section, error, options)


def check_required(problems, definition):
    if not section_of(definition, "instances").get("image_id"):
        problems.add("%s.instances.image_id" % ROOT, "is required: the AMI the instances boot")
    if definition.get("tier", "web") == "web" and not (definition.get("domain") or "").strip():
        problems.add("%s.domain" % ROOT, "a web tier needs a domain (<api_name>.<domain> points at its load balancer)")


def check_tier_sections(problems, definition):
    tier = definition.get("tier", "web")
    for other_tier, sections in (("worker", WEB_ONLY), ("web", WORKER_ONLY)):
        for section in sections:
            if tier == other_tier and section_of(definition, section):
                problems.add(
                    "%s.%s" % (ROOT, section),
                    "a %s tier has no %s; remove the section or set tier to %s"
                    % (tier, section.replace("_", " "), "web" if other_tier == "worker" else "worker"),
                )


def check_aliases(problems, definition):
    domain = (definition.get("domain") or "").rstrip(".").lower()
    aliases = section_of(definition, "static_assets").get("aliases") or []
    if aliases and definition.get("tier", "web") != "web":
        problems.add(
            "%s.static_assets.aliases" % ROOT,
            "CDN aliases need a web tier's domain and certificate; a worker tier's assets are served from the "
            "distribution's own name",
        )
        return
    for index, alias in enumerate(aliases if domain else []):
        if not isinstance(alias, str) or not alias.rstrip(".").lower().endswith("." + domain):
            problems.add(
                "%s.static_assets.aliases[%d]" % (ROOT, index),
                "%r is not inside the domain %s: its alias record and certificate name live in that zone"
                % (alias, domain),
            )


def check_process_ports(problems, definition):
    if definition.get("tier", "web") != "web":
        return
    port = section_of(definition, "firewall").get("instance_port", 80)
    for index, process in enumerate(section_of(definition, "load_balancer").get("processes") or []):
        if isinstance(process, dict) and process.get("port", 80) != port:
            problems.add(
                "%s.load_balancer.processes[%d].port" % (ROOT, index),
                "is %s, but the firewall lets the load balancer reach the instances on port %s only "
                "(firewall.instance_port)" % (process.get("port", 80), port),
            )


def check_cross_layer(problems, definition):
    """Rules that span several options or layers (the role's own)."""
    for check in (check_required, check_tier_sections, check_aliases, check_process_ports):
        check(problems, definition)


def check_definition(definition):
    """Every problem of an environment definition (defaults filled in), as "path: message" strings, without
    any AWS call. An empty list means every layer will accept its options."""
    problems = Problems()
    if not isinstance(definition, dict):
        return ["%s: must be a dict" % ROOT]
    try:
        environment_name(definition.get("name"), "name")
    except ValidationError as error:
        problems.add("%s.name" % ROOT, error.message)
        return ["%s: %s" % pair for pair in problems.found]  # every layer is named after it
    if definition.get("state", "present") == "absent":
        return []
    tier = definition.get("tier", "web")
    check_cross_layer(problems, definition)
    for section, (module, spec_class) in SECTIONS.items():
        if (tier == "worker" and section in WEB_ONLY) or (tier == "web" and section in WORKER_ONLY):
            continue
        options = {k: v for k, v in section_of(definition, section).items() if k not in ROLE_ONLY}
        if "enabled" in section_of(definition, section) and not section_of(definition, section)["enabled"]:
            continue
        if section == "instances" and not options.get("image_id"):
            options["image_id"] = "ami-00000000"  # reported above; the rest of the section is still checked
        check_layer(problems, definition, section, module, spec_class, options)
    if tier == "web" and definition.get("domain"):
        for module, spec_class, options in top_level_layers(definition):
            check_layer(problems, definition, None, module, spec_class, options)
    seen = []
    for pair in problems.found:
        if pair not in seen:
            seen.append(pair)
    return ["%s: %s" % pair for pair in seen]


def secrets(definition):
    """The secret values a definition holds (the layers' no_log options), to be masked in any output."""
    found = []
    for section, (module, _spec) in SECTIONS.items():
        values = section_of(definition, section)
        for option, spec in module.argument_spec().items():
            if spec.get("no_log") and isinstance(values.get(option), str):
                found.append(values[option])
    subscriptions = section_of(definition, "alarms").get("subscriptions") or []
    found += [s["endpoint"] for s in subscriptions if isinstance(s, dict) and isinstance(s.get("endpoint"), str)]
    return found
