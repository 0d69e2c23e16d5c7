# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dns layer: the public hosted zone of a domain and the records one environment owns in it.

- ``api.<domain>``: alias A (and AAAA) to the load balancer, and ``<environment>.<domain>``: a CNAME to
  the load balancer's DNS name (TTL 60) - managed when ``load_balancer_dns_name`` is given.
- ``records``: any other records (``cdn.<domain>`` alias to CloudFront...) - managed when given.
- ``swap``: the blue/green swap of two environments' CNAMEs, in one atomic change batch.  The swap is state,
  kept in the zone (``_kinds/route53.SwapState``): a later run with ``load_balancer_dns_name`` (a provision of
  either environment) keeps it - it points the PEER's CNAME at this environment's load balancer and leaves its
  own CNAME to the peer's run - and only a run with ``swap`` changes it.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, EngineError, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import (
    RECORD_TYPES,
    RESERVED_PREFIX,
    HostedZone,
    RecordSet,
    SwapState,
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
    swap_name,
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
        if name.startswith(RESERVED_PREFIX):
            raise ValidationError(option + ".name", "names starting with %s are the module's own" % RESERVED_PREFIX)
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
        self.swapped_with = None

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

    def _peers(self, ctx):
        """{peer: scope} of the peer records this run may update: with swap, the peer's CNAME; on a run with
        load_balancer_dns_name while this environment is swapped (its swap state, read just before), the
        peer's CNAME too, which then points at this environment's load balancer."""
        params = self.params
        if params["state"] == "absent":
            return {}
        if params.get("swap"):
            peer = params["swap"]["peer"]
        elif params.get("load_balancer_dns_name") is not None:
            peer = ctx.state(ZoneState).swapped_with.get(ctx.environment)
        else:
            peer = None
        if not peer:
            return {}
        key = (absolute(peer, params["domain"]), "CNAME")
        return {peer: lambda name, record_type: (name, record_type) == key}

    def kinds(self):
        params = self.params
        env, domain = params["environment"], params["domain"]
        absent = params["state"] == "absent"
        if params.get("swap"):  # both sides' state
            swap = SwapState(domain, (env, params["swap"]["peer"]))
        elif absent:  # this environment's own, refused while it is swapped
            swap = SwapState(domain, (env,), refuse_delete=True)
        elif params.get("load_balancer_dns_name") is not None:  # kept as it is; the peer's read too
            swap = SwapState(domain, (env,), follow=True)
        else:  # neither CNAME is managed: the swap state is not read
            swap = SwapState(domain)
        return [
            HostedZone(domain, absent=absent),
            swap,
            RecordSet(self._scope(), self._peers),
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
        self._refuse_foreign_swap_state(ctx, params)
        records, swaps = {}, {}
        if params.get("swap"):
            swaps = self._swap_state(ctx, params, current)
            records.update(self._swap(ctx, params, current))
        else:
            if params.get("load_balancer_dns_name") is not None:
                records.update(self._load_balancer(ctx, params, current))
                # a run that manages the CNAMEs keeps the swap state exactly as it is (only swap changes it)
                swaps = dict((key, found.fields["swapped_with"]) for key, found in current.get("swap", {}).items())
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
        want["swap"] = dict((k, Desired({"swapped_with": peer})) for k, peer in swaps.items())
        self.records = records
        self.swapped_with = swaps.get(ctx.environment)
        return want

    def _load_balancer(self, ctx, params, current):
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
        peer = ctx.state(ZoneState).swapped_with.get(ctx.environment)
        if peer is None:
            self._refuse_unrecorded_swap(ctx, params, current)
            found[record_key(cname, "CNAME")] = self._cname(cname, params["load_balancer_dns_name"])
            return found
        # Swapped: this environment's load balancer serves the peer's name, and its own name is served by the
        # peer's load balancer, which the peer's run keeps. Nothing flips unless a swap run says so.
        own_key, peer_key = record_key(cname, "CNAME"), record_key(absolute(peer, domain), "CNAME")
        have = current.get("record", {})
        problem = None
        if ctx.state(ZoneState).swapped_with.get(peer) != ctx.environment:
            problem = "%s's swap state does not name %s back" % (peer, ctx.environment)
        elif own_key not in have or peer_key not in have:
            problem = "%s is missing" % (own_key if own_key not in have else peer_key).split("/")[0]
        if problem:
            raise EngineError(
                "%s is recorded as swapped with %s, but %s; run the swap again (webstack.aws.dns with swap, or "
                "playbooks/swap.yml) to set both sides" % (ctx.environment, peer, problem)
            )
        found[own_key] = dict(have[own_key].fields)
        found[peer_key] = self._cname(absolute(peer, domain), params["load_balancer_dns_name"])
        return found

    def _refuse_unrecorded_swap(self, ctx, params, current):
        """This environment's CNAME points elsewhere and another environment's CNAME points at this one's load
        balancer, with no swap state: a swap made by a release that kept none. Refused rather than undone."""
        zone_id = ctx.state(ZoneState).zone_id
        own = current.get("record", {}).get(record_key(absolute(ctx.environment, params["domain"]), "CNAME"))
        target = params["load_balancer_dns_name"].lower().rstrip(".")
        if not zone_id or own is None or own.fields["values"] in ([], [target]):
            return
        zone = read_records(ctx, zone_id)
        for name, (env, layer, types) in sorted(zone.owners.items()):
            if env == ctx.environment or layer != ctx.layer or "CNAME" not in types:
                continue
            if name != absolute(env, params["domain"]) or (name, "CNAME") not in zone.rrsets:
                continue
            if record_fields(zone.rrsets[(name, "CNAME")])["values"] == [target]:
                raise EngineError(
                    "%s's CNAME points to %s and %s's to this environment's load balancer %s: they look swapped, "
                    "by a release that kept no swap state. Run the swap once to record it (playbooks/swap.yml "
                    "-e webstack_swap_with=%s; -e webstack_swapped=false swaps them back) before this"
                    % (ctx.environment, own.fields["values"][0], env, target, env)
                )

    def _refuse_foreign_swap_state(self, ctx, params):
        foreign = ctx.state(ZoneState).swap_foreign
        if foreign:
            raise EngineError(
                "%s exists in zone %s and is not a webstack swap state; delete it by hand"
                % (", ".join(bare(swap_name(env, params["domain"])) for env in foreign), bare(params["domain"]))
            )

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

    def _swap_state(self, ctx, params, current):
        """{environment: peer} wanted: both sides while swapped, none when not. A side swapped with a third
        environment is refused: swap those back first."""
        peer = params["swap"]["peer"]
        have = current.get("swap", {})
        for env, other in ((ctx.environment, peer), (peer, ctx.environment)):
            found = have.get(env)
            if found is not None and found.fields["swapped_with"] != other:
                raise EngineError(
                    "%s is swapped with %s; swap those two back first (swap.peer=%s, swap.swapped=false)"
                    % (env, found.fields["swapped_with"], found.fields["swapped_with"])
                )
        if not params["swap"]["swapped"]:
            return {}
        return {ctx.environment: peer, peer: ctx.environment}

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
            "swapped_with": self.swapped_with,
            "records": records,
        }


def params_domain(zone_id, ctx):
    zone = ctx.state(ZoneState).records.get(zone_id)
    for name, record_type in zone.rrsets if zone else {}:
        if record_type == "SOA":
            return name
    return zone_id
