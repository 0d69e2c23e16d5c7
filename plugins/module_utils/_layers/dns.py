# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dns layer: the public hosted zone of a domain and the records one environment owns in it.

- ``api.<domain>``: alias A (and AAAA) to the load balancer, and ``<environment>.<domain>``: a CNAME to
  the load balancer's DNS name (TTL 60) - managed when ``load_balancer_dns_name`` is given.
- ``records``: any other records (``cdn.<domain>`` alias to CloudFront...) - managed when given.
- ``swap``: the blue/green swap of two environments' CNAMEs, in one atomic change batch.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, EngineError, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import (
    OWNER_PREFIX,
    RECORD_TYPES,
    HostedZone,
    RecordSet,
    ZoneState,
    bare,
    dns_name,
    fqdn,
    in_zone,
    normalise_alias,
    normalise_values,
    read_records,
    record_fields,
    record_key,
)

CNAME_TTL = 60
LOAD_BALANCER_TYPES = ("A", "AAAA")


def argument_spec():
    return dict(
        domain=dict(type="str", required=True),
        create_zone=dict(type="bool", default=True),
        load_balancer_dns_name=dict(type="str"),
        load_balancer_hosted_zone_id=dict(type="str"),
        api_name=dict(type="str", default="api"),
        ipv6=dict(type="bool", default=False),
        evaluate_target_health=dict(type="bool", default=True),
        records=dict(
            type="list",
            elements="dict",
            options=dict(
                name=dict(type="str", required=True),
                type=dict(type="str", required=True, choices=list(RECORD_TYPES)),
                ttl=dict(type="int", default=300),
                values=dict(type="list", elements="str"),
                alias=dict(
                    type="dict",
                    options=dict(
                        dns_name=dict(type="str", required=True),
                        hosted_zone_id=dict(type="str", required=True),
                        evaluate_target_health=dict(type="bool", default=False),
                    ),
                ),
            ),
        ),
        swap=dict(
            type="dict",
            options=dict(
                peer=dict(type="str", required=True),
                swapped=dict(type="bool", required=True),
            ),
        ),
    )


def absolute(name, domain):
    """``cdn`` -> ``cdn.<domain>.``; ``@`` -> the apex; a name ending with the domain (or a dot) as is."""
    name = (name or "").strip().lower()
    if name in ("", "@"):
        return fqdn(domain)
    if name.endswith(".") or in_zone(name, domain):
        return fqdn(name)
    return fqdn("%s.%s" % (name, bare(domain)))


def load_balancer_keys(params, environment):
    """(name, type) of the record sets that load_balancer_dns_name manages."""
    domain = params["domain"]
    api = absolute(params["api_name"], domain)
    return [(api, t) for t in LOAD_BALANCER_TYPES] + [(absolute(environment, domain), "CNAME")]


def _check_values(record_type, values, option):
    for index, value in enumerate(values):
        where = "%s[%d]" % (option, index)
        if record_type in ("A", "AAAA"):
            try:
                address = ipaddress.ip_address(str(value).strip())
            except ValueError:
                address = None
            if address is None or address.version != (4 if record_type == "A" else 6):
                raise ValidationError(where, "%r is not an IPv%d address" % (value, 4 if record_type == "A" else 6))
        elif record_type == "CNAME":
            dns_name(value, where)


def validate(params, check_mode=False):
    environment = params["environment"]
    dns_name(params["domain"], "domain", min_labels=2)
    domain = params["domain"]
    swap = params.get("swap")
    present = params["state"] == "present"
    if params.get("load_balancer_dns_name") is not None:
        dns_name(params["load_balancer_dns_name"], "load_balancer_dns_name", min_labels=2)
        if not params.get("load_balancer_hosted_zone_id") and not swap:
            raise ValidationError(
                "load_balancer_hosted_zone_id",
                "is required with load_balancer_dns_name; pass the load_balancer layer's canonical_hosted_zone_id",
            )
    dns_name(params["api_name"], "api_name", wildcard=False)
    if swap:
        if not present:
            raise ValidationError("swap", "is a mode of state=present; remove it to delete the records")
        validation.environment_name(swap["peer"], "swap.peer")
        if swap["peer"] == environment:
            raise ValidationError("swap.peer", "must be another environment than %r" % environment)
        if not params.get("load_balancer_dns_name"):
            raise ValidationError(
                "load_balancer_dns_name", "is required with swap: this environment's own load balancer DNS name"
            )
        if params.get("records") is not None:
            raise ValidationError("records", "swap is a mode of its own; run the records in another task")
    lb_keys = set(load_balancer_keys(params, environment))
    if absolute(params["api_name"], domain) == absolute(environment, domain):
        raise ValidationError("api_name", "must differ from the environment name %r (its CNAME)" % environment)
    seen = {}
    for index, record in enumerate(params.get("records") or []):
        option = "records[%d]" % index
        name = absolute(record["name"], domain)
        dns_name(name, option + ".name", wildcard=True)
        if not in_zone(name, domain):
            raise ValidationError(option + ".name", "%s is not in the zone %s" % (bare(name), bare(domain)))
        if name.startswith(OWNER_PREFIX):
            raise ValidationError(option + ".name", "names starting with %s are the module's own" % OWNER_PREFIX)
        record_type = record["type"]
        key = (name, record_type)
        if key in seen:
            raise ValidationError(
                option, "%s %s is also records[%d]; give each record once" % (bare(name), record_type, seen[key])
            )
        seen[key] = index
        if params.get("load_balancer_dns_name") is not None and key in lb_keys:
            raise ValidationError(
                option, "%s %s is managed by load_balancer_dns_name; remove it from records" % (bare(name), record_type)
            )
        if bool(record.get("alias")) == bool(record.get("values")):
            raise ValidationError(option, "give exactly one of 'values' or 'alias'")
        if record.get("alias"):
            if record_type not in ("A", "AAAA"):
                raise ValidationError(option + ".alias", "alias records are A or AAAA here, not %s" % record_type)
            dns_name(record["alias"]["dns_name"], option + ".alias.dns_name", min_labels=2)
        else:
            validation.in_range(record["ttl"], option + ".ttl", 0, 2147483647)
            _check_values(record_type, record["values"], option + ".values")
        if record_type == "CNAME":
            if name == fqdn(domain):
                raise ValidationError(option, "a CNAME cannot sit at the zone apex; use an alias A record")
            if record.get("values") and len(record["values"]) != 1:
                raise ValidationError(option + ".values", "a CNAME has exactly one value")
        if record_type in ("NS", "SOA") and name == fqdn(domain):
            raise ValidationError(option, "the apex %s records belong to Route 53" % record_type)
    names = {}
    for name, record_type in seen:
        names.setdefault(name, set()).add(record_type)
    for name, types in names.items():
        if "CNAME" in types and len(types) > 1:
            raise ValidationError("records", "%s has a CNAME and other records; a CNAME must be alone" % bare(name))


def swap_targets(own_target, own_current, peer_current, swapped, environment, peer):
    """The CNAME targets (own, peer) for the desired mapping, from this environment's own target and what
    both CNAMEs hold now.  Each environment's own target is known: this one's is given, the peer's is what
    its CNAME holds when not swapped, or what ours holds when swapped."""
    own_target = own_target.lower().rstrip(".")
    own_current = (own_current or "").lower().rstrip(".")
    peer_current = (peer_current or "").lower().rstrip(".")
    if own_current == own_target:
        peer_home = peer_current
    elif peer_current == own_target:
        peer_home = own_current
    else:
        raise EngineError(
            "Neither %s's nor %s's CNAME points to %s (this environment's load balancer), so the swap cannot tell "
            "the peer's own target; run webstack.aws.dns for both environments without swap first"
            % (environment, peer, own_target)
        )
    if swapped:
        return peer_home, own_target
    return own_target, peer_home


class DnsLayer(LayerSpec):
    layer = "dns"
    result_key = "dns"
    services = ("route53",)
    retry_codes = ("PriorRequestNotComplete",)

    def __init__(self):
        self.params = None
        self.records = {}

    def validate(self, params, check_mode):
        validate(params, check_mode)
        self.params = params

    def _scope(self):
        params = self.params
        env = params["environment"]
        lb_keys = set(load_balancer_keys(params, env))
        if params["state"] == "absent":
            return lambda name, record_type: True
        if params.get("swap"):
            keys = {
                (absolute(env, params["domain"]), "CNAME"),
                (absolute(params["swap"]["peer"], params["domain"]), "CNAME"),
            }
            return lambda name, record_type: (name, record_type) in keys
        lb_given = params.get("load_balancer_dns_name") is not None
        records_given = params.get("records") is not None

        def scope(name, record_type):
            if (name, record_type) in lb_keys:
                return lb_given
            return records_given

        return scope

    def kinds(self):
        params = self.params
        peers = (params["swap"]["peer"],) if params.get("swap") else ()
        return [
            HostedZone(params["domain"], absent=params["state"] == "absent"),
            RecordSet(self._scope(), peers),
        ]

    def desired(self, ctx, params, current):
        domain = params["domain"]
        zone = current.get("hosted_zone", {}).get("zone")
        want = {"hosted_zone": {}, "record": {}}
        if zone is not None:
            # ours: tags enforced; found (made elsewhere): left exactly as it is
            tags = ctx.tags_for("zone") if ctx.state(ZoneState).zone_owned else dict(zone.tags)
            want["hosted_zone"]["zone"] = Desired({"name": fqdn(domain)}, tags)
        elif params["create_zone"] and not params.get("swap"):
            want["hosted_zone"]["zone"] = Desired({"name": fqdn(domain)}, ctx.tags_for("zone"))
        else:
            raise ValidationError(
                "create_zone",
                "there is no public hosted zone named %s; create it, or set create_zone=true (and no swap)"
                % bare(domain),
            )
        records = {}
        if params.get("swap"):
            records.update(self._swap(ctx, params, current))
        else:
            if params.get("load_balancer_dns_name") is not None:
                records.update(self._load_balancer(ctx, params))
            for record in params.get("records") or []:
                name = absolute(record["name"], domain)
                alias = normalise_alias(record.get("alias"))
                records[record_key(name, record["type"])] = {
                    "name": name,
                    "type": record["type"],
                    "ttl": None if alias else record["ttl"],
                    "values": [] if alias else normalise_values(record["type"], record["values"]),
                    "alias": alias,
                }
        self._refuse_conflicts(ctx, records, current)
        want["record"] = dict((k, Desired(v)) for k, v in records.items())
        self.records = records
        return want

    def _load_balancer(self, ctx, params):
        domain = params["domain"]
        alias = normalise_alias(
            {
                "dns_name": params["load_balancer_dns_name"],
                "hosted_zone_id": params["load_balancer_hosted_zone_id"],
                "evaluate_target_health": params["evaluate_target_health"],
            }
        )
        api = absolute(params["api_name"], domain)
        found = {}
        for record_type in LOAD_BALANCER_TYPES[: 2 if params["ipv6"] else 1]:
            found[record_key(api, record_type)] = {
                "name": api,
                "type": record_type,
                "ttl": None,
                "values": [],
                "alias": alias,
            }
        cname = absolute(ctx.environment, domain)
        found[record_key(cname, "CNAME")] = self._cname(cname, params["load_balancer_dns_name"])
        return found

    @staticmethod
    def _cname(name, target):
        return {
            "name": name,
            "type": "CNAME",
            "ttl": CNAME_TTL,
            "values": normalise_values("CNAME", [target]),
            "alias": None,
        }

    def _swap(self, ctx, params, current):
        domain, peer = params["domain"], params["swap"]["peer"]
        own_key = record_key(absolute(ctx.environment, domain), "CNAME")
        peer_key = record_key(absolute(peer, domain), "CNAME")
        found = current.get("record", {})
        for key, env in ((own_key, ctx.environment), (peer_key, peer)):
            if key not in found:
                raise EngineError(
                    "The swap needs %s's CNAME (%s), which does not exist or is not owned by %s; run webstack.aws.dns "
                    "for %s with its load_balancer_dns_name first" % (env, key.split("/")[0], env, env)
                )
        own, other = swap_targets(
            params["load_balancer_dns_name"],
            (found[own_key].fields["values"] or [""])[0],
            (found[peer_key].fields["values"] or [""])[0],
            params["swap"]["swapped"],
            ctx.environment,
            peer,
        )
        return {
            own_key: self._cname(absolute(ctx.environment, domain), own),
            peer_key: self._cname(absolute(peer, domain), other),
        }

    def _refuse_conflicts(self, ctx, records, current):
        """A record set we would create that exists and is not ours, or a CNAME next to other records."""
        zone_id = ctx.state(ZoneState).zone_id
        if not zone_id:
            return
        zone = read_records(ctx, zone_id)
        mine = current.get("record", {})
        for key, fields in sorted(records.items()):
            if key in mine:
                continue
            name, record_type = fields["name"], fields["type"]
            clash = [
                record_key(n, t)
                for (n, t) in zone.rrsets
                if n == name and (t == record_type or "CNAME" in (t, record_type))
            ]
            if clash:
                owner = zone.owner(name)
                raise EngineError(
                    "%s already exists in zone %s and is %s; delete it by hand or leave it out"
                    % (
                        ", ".join(clash),
                        bare(params_domain(zone_id, ctx)),
                        "owned by environment %s (layer %s)" % owner if owner else "not managed by webstack",
                    )
                )

    def outputs(self, ctx, params, ids, current):
        zone_id = (ids.get("hosted_zone") or {}).get("zone")
        owned = {}
        zone_id_known = ctx.state(ZoneState).zone_id
        if zone_id_known:
            zone = read_records(ctx, zone_id_known)
            for name, record_type in zone.owned(ctx.environment, ctx.layer):
                owned[record_key(name, record_type)] = record_fields(zone.rrsets[(name, record_type)])
        for key, fields in (self.records or {}).items():
            if key not in owned or ctx.check_mode:
                owned[key] = fields
        if ctx.check_mode:  # what the plan deletes is gone after apply
            scope = self._scope()
            for key in list(owned):
                name, record_type = key.split("/")
                name = fqdn(name)
                if key not in self.records and scope(name, record_type) and key in current.get("record", {}):
                    owned.pop(key)
        records = [dict(v, name=bare(v["name"])) for _k, v in sorted(owned.items())]
        return {
            "environment": ctx.environment,
            "domain": bare(params["domain"]),
            "hosted_zone_id": zone_id,
            "zone_created_by_environment": bool(ctx.state(ZoneState).zone_owned) or zone_id is None,
            "name_servers": ctx.state(ZoneState).name_servers if zone_id else [],
            "cname": bare(absolute(ctx.environment, params["domain"])),
            "records": records,
        }


def params_domain(zone_id, ctx):
    zone = ctx.state(ZoneState).records.get(zone_id)
    for name, record_type in zone.rrsets if zone else {}:
        if record_type == "SOA":
            return name
    return zone_id
