# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route 53 resource kinds: the public hosted zone, and the record sets an environment owns.

Record sets have no tags, so ownership is kept in the zone itself: every name that an environment
owns has a TXT record ``_webstack-owner.<name>`` whose value reads
``"webstack:environment=<env>;webstack:layer=<layer>;types=<A,AAAA,...>"`` (the way external-dns keeps
its registry).  A record set is ours only if that TXT names our environment, our layer and its type;
anything else in the zone is never touched.

The blue/green swap of two environments' CNAMEs is state, kept in the zone the same way: while
``<env>.<domain>`` and ``<peer>.<domain>`` are swapped, each of the two has a TXT record
``_webstack-swap.<env>.<domain>`` reading ``"webstack:environment=<env>;webstack:layer=dns;swapped-with=<peer>"``
(self-describing, like the ownership records: one whose value does not parse so is not ours).

A zone is read with one paginated ListResourceRecordSets, and every change of a run goes to AWS in
one ChangeResourceRecordSets batch (atomic), sent by the record kind's ``finish`` (or just before the
zone is deleted).  Ownership and swap-state records are added, updated and removed in that same batch.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import uuid

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    Current,
    EngineError,
    Kind,
    contains_unknown,
    owned,
)
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError

RESERVED_PREFIX = "_webstack-"  # names the module keeps its own records under
OWNER_PREFIX = "_webstack-owner."
OWNER_TTL = 300
SWAP_PREFIX = "_webstack-swap."
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT")
HOSTNAME_VALUED = ("CNAME", "NS", "PTR", "MX", "SRV")
LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
OWNER_VALUE = re.compile(r'^"webstack:environment=([^;]*);webstack:layer=([^;]*);types=([A-Z0-9,]*)"$')
SWAP_VALUE = re.compile(r'^"webstack:environment=([^;]*);webstack:layer=([^;]*);swapped-with=([^;"]+)"$')


# -- names ------------------------------------------------------------------------------------
def fqdn(name):
    """Lowercase, with the trailing dot, and Route 53's ``\\052`` spelled ``*``."""
    name = (name or "").strip().lower().replace("\\052", "*")
    return name if name.endswith(".") else name + "."


def bare(name):
    return fqdn(name)[:-1]


def dns_name(value, option, wildcard=False, min_labels=1, max_length=253):
    """A DNS name (letters, digits, hyphens, underscores); ``*`` only as the whole leftmost label."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(option, "is empty; give a DNS name like api.example.com")
    name = value.strip().lower().rstrip(".")
    if len(name) > max_length:
        raise ValidationError(option, "%r is %d characters long; the limit is %d" % (value, len(name), max_length))
    labels = name.split(".")
    for index, label in enumerate(labels):
        if label == "*" and index == 0 and wildcard:
            continue
        if label == "*" or "*" in label:
            if wildcard:
                raise ValidationError(
                    option, "%r: a wildcard must be the whole leftmost label, like *.example.com" % (value,)
                )
            raise ValidationError(option, "%r: wildcards are not allowed here" % (value,))
        if not LABEL.match(label):
            raise ValidationError(
                option,
                "%r is not a valid DNS name: label %r must be 1 to 63 letters, digits, hyphens or underscores, "
                "not starting or ending with a hyphen" % (value, label),
            )
    if len(labels) < min_labels or (labels[0] == "*" and len(labels) - 1 < min_labels):
        raise ValidationError(option, "%r needs at least %d labels, like example.com" % (value, min_labels))
    return name


def in_zone(name, zone):
    name, zone = fqdn(name), fqdn(zone)
    return name == zone or name.endswith("." + zone)


def owner_name(name):
    name = fqdn(name)
    if name.startswith("*."):
        name = "_wildcard." + name[2:]
    return OWNER_PREFIX + name


def owner_value(environment, layer, types):
    return '"webstack:environment=%s;webstack:layer=%s;types=%s"' % (environment, layer, ",".join(sorted(types)))


def parse_owner(value):
    """(environment, layer, set of types) from an ownership TXT value, or None."""
    match = OWNER_VALUE.match(value or "")
    if not match:
        return None
    return match.group(1), match.group(2), set(t for t in match.group(3).split(",") if t)


def record_key(name, record_type):
    return "%s/%s" % (bare(name), record_type)


def swap_name(environment, domain):
    """The name of an environment's swap-state TXT record: ``_webstack-swap.<environment>.<domain>.``"""
    return fqdn("%s%s.%s" % (SWAP_PREFIX, environment, bare(domain)))


def swap_value(environment, layer, peer):
    return '"webstack:environment=%s;webstack:layer=%s;swapped-with=%s"' % (environment, layer, peer)


def parse_swap(value):
    """(environment, layer, peer) from a swap-state TXT value, or None."""
    match = SWAP_VALUE.match(value or "")
    return (match.group(1), match.group(2), match.group(3)) if match else None


# -- values -----------------------------------------------------------------------------------
def normalise_value(record_type, value):
    value = str(value).strip()
    if record_type == "TXT":
        if not (len(value) >= 2 and value.startswith('"') and value.endswith('"')):
            value = '"%s"' % value.replace('"', '\\"')
        return value
    if record_type == "AAAA":
        try:
            return ipaddress.ip_address(value).compressed
        except ValueError:
            return value
    if record_type in HOSTNAME_VALUED:
        return value.lower().rstrip(".")
    return value


def normalise_values(record_type, values):
    return sorted(set(normalise_value(record_type, v) for v in values or []))


def normalise_alias(alias):
    if not alias:
        return None
    return {
        "dns_name": str(alias.get("dns_name") or "").lower().rstrip("."),
        "hosted_zone_id": alias.get("hosted_zone_id"),
        "evaluate_target_health": bool(alias.get("evaluate_target_health")),
    }


def record_fields(rrset):
    """The comparable fields of a record set as ListResourceRecordSets returns it."""
    record_type = rrset["Type"]
    alias = rrset.get("AliasTarget")
    return {
        "name": fqdn(rrset["Name"]),
        "type": record_type,
        "ttl": None if alias else rrset.get("TTL"),
        "values": []
        if alias
        else normalise_values(record_type, [r["Value"] for r in rrset.get("ResourceRecords", [])]),
        "alias": normalise_alias(
            {
                "dns_name": alias["DNSName"],
                "hosted_zone_id": alias["HostedZoneId"],
                "evaluate_target_health": alias.get("EvaluateTargetHealth", False),
            }
        )
        if alias
        else None,
    }


def record_set(fields):
    """The ResourceRecordSet to send for these fields."""
    rrset = {"Name": fqdn(fields["name"]), "Type": fields["type"]}
    alias = fields.get("alias")
    if alias:
        rrset["AliasTarget"] = {
            "HostedZoneId": alias["hosted_zone_id"],
            "DNSName": alias["dns_name"],
            "EvaluateTargetHealth": bool(alias.get("evaluate_target_health")),
        }
    else:
        rrset["TTL"] = fields["ttl"]
        rrset["ResourceRecords"] = [{"Value": v} for v in normalise_values(fields["type"], fields["values"])]
    return rrset


def records_equal(field, before, after):
    if contains_unknown(after):
        return False
    if field == "values":
        return before == after or normalise_values("", before) == normalise_values("", after)
    if field == "alias":
        return normalise_alias(before) == normalise_alias(after)
    if field == "name":
        return fqdn(before or "") == fqdn(after or "")
    return before == after


# -- zones ------------------------------------------------------------------------------------
def zone_id_of(raw_id):
    return (raw_id or "").split("/")[-1]


def tags_of_zone(ctx, zone_id):
    answer = ctx.call("route53", "list_tags_for_resource", ResourceType="hostedzone", ResourceId=zone_id)
    return dict((t["Key"], t["Value"]) for t in answer.get("ResourceTagSet", {}).get("Tags", []))


def zones_named(ctx, domain):
    """Public zones named exactly ``domain``: one ListHostedZonesByName."""
    answer = ctx.call("route53", "list_hosted_zones_by_name", DNSName=bare(domain), MaxItems="10")
    return [
        z
        for z in answer.get("HostedZones", [])
        if fqdn(z["Name"]) == fqdn(domain) and not z.get("Config", {}).get("PrivateZone")
    ]


def all_zones(ctx):
    return ctx.paginate("route53", "list_hosted_zones", "HostedZones")


def longest_zone(ctx, name):
    """The public zone with the longest name that ``name`` lies in (one paginated ListHostedZones), or None."""
    best = None
    for zone in all_zones(ctx):
        if zone.get("Config", {}).get("PrivateZone") or not in_zone(name, zone["Name"]):
            continue
        if best is None or len(fqdn(zone["Name"])) > len(fqdn(best["Name"])):
            best = zone
    return best


class ZoneRecords:
    """The record sets of one zone (one paginated read), who owns which names, and one pending batch."""

    def __init__(self, zone_id, rrsets):
        self.zone_id = zone_id
        self.rrsets = {}
        for rrset in rrsets:
            if rrset.get("SetIdentifier"):
                continue  # routing policies (weighted, latency...) are never ours
            self.rrsets[(fqdn(rrset["Name"]), rrset["Type"])] = rrset
        self.owners = {}  # name -> (environment, layer, types)
        for (name, record_type), rrset in self.rrsets.items():
            if record_type == "TXT" and name.startswith(OWNER_PREFIX):
                values = [r["Value"] for r in rrset.get("ResourceRecords", [])]
                parsed = parse_owner(values[0]) if len(values) == 1 else None
                if parsed:
                    self.owners[self._owned_name(name)] = parsed
        self.owners_before = dict((n, (e, ly, set(t))) for n, (e, ly, t) in self.owners.items())
        self.changes = []

    @staticmethod
    def _owned_name(owner):
        name = owner[len(OWNER_PREFIX) :]
        return "*." + name[len("_wildcard.") :] if name.startswith("_wildcard.") else name

    def owner(self, name, record_type=None):
        """(environment, layer) owning this name (and type, when given), or None."""
        found = self.owners.get(fqdn(name))
        if not found or (record_type and record_type not in found[2]):
            return None
        return found[0], found[1]

    def owned(self, environment, layer=None):
        """Keys (name, type) of the record sets owned by this environment (and layer), that exist."""
        keys = []
        for name, (env, owner_layer, types) in sorted(self.owners.items()):
            if env != environment or (layer and owner_layer != layer):
                continue
            keys.extend((name, t) for t in sorted(types) if (name, t) in self.rrsets)
        return keys

    def swap_state(self, environment, domain):
        """(layer, peer, rrset) of the environment's swap-state record, None when it has none, or False when
        that name holds a record that is not one (never ours to change)."""
        rrset = self.rrsets.get((swap_name(environment, domain), "TXT"))
        if rrset is None:
            return None
        values = [r["Value"] for r in rrset.get("ResourceRecords", [])]
        parsed = parse_swap(values[0]) if len(values) == 1 else None
        if not parsed or parsed[0] != environment:
            return False
        return parsed[1], parsed[2], rrset

    def foreign(self, environment):
        """Record sets that neither sit at the apex as SOA/NS nor belong to this environment."""
        mine = set(self.owned(environment))
        mine.update((owner_name(n), "TXT") for n, (env, _ly, _t) in self.owners.items() if env == environment)
        for name, record_type in self.rrsets:
            if record_type == "TXT" and name.startswith(SWAP_PREFIX):
                values = [r["Value"] for r in self.rrsets[(name, record_type)].get("ResourceRecords", [])]
                parsed = parse_swap(values[0]) if len(values) == 1 else None
                if parsed and parsed[0] == environment and name.startswith("%s%s." % (SWAP_PREFIX, environment)):
                    mine.add((name, record_type))
        found = []
        for name, record_type in sorted(self.rrsets):
            if record_type in ("SOA", "NS") and not self._below_apex(name):
                continue
            if (name, record_type) not in mine:
                found.append(record_key(name, record_type))
        return found

    def _below_apex(self, name):
        apex = min((n for (n, t) in self.rrsets if t == "SOA"), key=len, default=None)
        return apex is not None and name != apex

    # -- changes ----------------------------------------------------------------------------------
    def create(self, rrset, environment, layer):
        # UPSERT, not CREATE: the zone was read just now and holds no such record set; and moto (5.2.5) wrongly
        # refuses a CREATE identical to one it journaled before, even after that record set was deleted.
        self.changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
        self._own(rrset, environment, layer, True)

    def upsert(self, rrset, environment=None, layer=None):
        self.changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
        if environment:
            self._own(rrset, environment, layer, True)

    def delete(self, rrset, environment=None, layer=None):
        self.changes.append({"Action": "DELETE", "ResourceRecordSet": rrset})
        if environment:
            self._own(rrset, environment, layer, False)

    def _own(self, rrset, environment, layer, add):
        name = fqdn(rrset["Name"])
        env, owner_layer, types = self.owners.get(name, (environment, layer, set()))
        if (env, owner_layer) != (environment, layer):
            raise EngineError(
                "%s belongs to environment %s (layer %s), not to %s; leave it alone or delete it there first"
                % (bare(name), env, owner_layer, environment)
            )
        types = set(types)
        if add:
            types.add(rrset["Type"])
        else:
            types.discard(rrset["Type"])
        self.owners[name] = (env, owner_layer, types)

    def ownership_changes(self):
        changes = []
        for name in sorted(set(self.owners) | set(self.owners_before)):
            before = self.owners_before.get(name)
            after = self.owners.get(name)
            if after and not after[2]:
                after = None
            if before and not before[2]:
                before = None
            if before == after:
                continue
            old = self.rrsets.get((owner_name(name), "TXT"))
            if after is None:
                if old:
                    changes.append({"Action": "DELETE", "ResourceRecordSet": old})
                continue
            rrset = {
                "Name": owner_name(name),
                "Type": "TXT",
                "TTL": OWNER_TTL,
                "ResourceRecords": [{"Value": owner_value(*after)}],
            }
            changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
        return changes

    def flush(self, ctx, comment):
        """Send every pending change (and the ownership records they imply) in one batch."""
        changes = self.changes + self.ownership_changes()
        if not changes:
            return None
        answer = ctx.call(
            "route53",
            "change_resource_record_sets",
            HostedZoneId=self.zone_id,
            ChangeBatch={"Comment": comment, "Changes": changes},
        )
        # what the zone holds now, so a later batch in the same run starts from it
        for change in changes:
            rrset = change["ResourceRecordSet"]
            key = (fqdn(rrset["Name"]), rrset["Type"])
            if change["Action"] == "DELETE":
                self.rrsets.pop(key, None)
            else:
                self.rrsets[key] = rrset
        self.owners = dict((n, o) for n, o in self.owners.items() if o[2])
        self.owners_before = dict((n, (e, ly, set(t))) for n, (e, ly, t) in self.owners.items())
        self.changes = []
        change_id = answer["ChangeInfo"]["Id"]
        if ctx.wait:
            wait_insync(ctx, change_id, "the record changes in zone %s" % self.zone_id)
        return change_id


def wait_insync(ctx, change_id, what):
    def pending():
        status = ctx.call("route53", "get_change", Id=change_id)["ChangeInfo"]["Status"]
        return [] if status == "INSYNC" else ["change %s (%s)" % (zone_id_of(change_id), status)]

    ctx.poll(what + " to reach every Route 53 server", pending)


@dataclasses.dataclass
class ZoneState:
    """The zone the dns layer works in, and every zone's record sets read in this run (one listing each)."""

    records: dict = dataclasses.field(default_factory=dict)  # zone id -> ZoneRecords
    zone_id: str | None = None
    zone_owned: bool = False  # made by (tagged for) this environment
    name_servers: list = dataclasses.field(default_factory=list)
    zone_changes: list = dataclasses.field(default_factory=list)  # change ids of zones created now (waited INSYNC)
    swapped_with: dict = dataclasses.field(default_factory=dict)  # environment -> the peer its swap record names
    swap_foreign: list = dataclasses.field(default_factory=list)  # environments whose swap record is not ours


def read_records(ctx, zone_id):
    """The zone's record sets: one paginated ListResourceRecordSets per run (kept in ZoneState.records)."""
    cache = ctx.state(ZoneState).records
    if zone_id in cache:
        return cache[zone_id]
    rrsets = ctx.paginate("route53", "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone_id)
    cache[zone_id] = ZoneRecords(zone_id, rrsets)
    return cache[zone_id]


# -- kinds ------------------------------------------------------------------------------------
class HostedZone(Kind):
    """The public hosted zone of a domain: found by name, created when asked to (CallerReference),
    tagged when created.  A zone this environment did not create is never changed or deleted, and one it
    did create is deleted only when nothing but this environment's records is left in it."""

    name = "hosted_zone"
    create_only = ("name",)

    def __init__(self, domain=None, absent=False):
        self.domain = domain
        self.absent = absent

    def read(self, ctx):
        if not self.domain:  # environment-wide (inventory): every zone, then its tags
            found = []
            for zone in all_zones(ctx):
                zone_id = zone_id_of(zone["Id"])
                tags = tags_of_zone(ctx, zone_id)
                if owned(ctx, tags):
                    found.append(Current("zone", zone_id, {"name": fqdn(zone["Name"])}, tags, zone))
            return found
        zones = zones_named(ctx, self.domain)
        if not zones:
            return []
        tagged = [(z, tags_of_zone(ctx, zone_id_of(z["Id"]))) for z in zones]
        ours = [(z, t) for z, t in tagged if owned(ctx, t)]
        zone, tags = (ours or tagged)[0]
        zone_id = zone_id_of(zone["Id"])
        state = ctx.state(ZoneState)
        state.zone_id = zone_id
        state.zone_owned = bool(ours)
        records = read_records(ctx, zone_id)
        ns = records.rrsets.get((fqdn(zone["Name"]), "NS"))
        state.name_servers = [r["Value"].rstrip(".") for r in (ns or {}).get("ResourceRecords", [])]
        if self.absent:
            foreign = records.foreign(ctx.environment)
            if not ours or foreign:
                return []
        return [Current("zone", zone_id, {"name": fqdn(zone["Name"])}, tags, zone)]

    def create(self, ctx, key, fields, tags):
        answer = ctx.call(
            "route53",
            "create_hosted_zone",
            Name=bare(fields["name"]),
            CallerReference="webstack-%s-%s" % (ctx.environment, uuid.uuid4().hex),
            HostedZoneConfig={"Comment": "webstack %s" % ctx.environment, "PrivateZone": False},
        )
        zone_id = zone_id_of(answer["HostedZone"]["Id"])
        if tags:
            self.set_tags(ctx, Current(key, zone_id, fields), tags, [])
        ctx.remember(self.name, key, answer)
        state = ctx.state(ZoneState)
        state.zone_id = zone_id
        state.zone_owned = True
        state.name_servers = [n.rstrip(".") for n in answer.get("DelegationSet", {}).get("NameServers", [])]
        state.records[zone_id] = ZoneRecords(zone_id, [])
        state.zone_changes.append(answer["ChangeInfo"]["Id"])
        return zone_id

    def wait_created(self, ctx, ids):
        for change_id in ctx.state(ZoneState).zone_changes:
            wait_insync(ctx, change_id, "the new hosted zone")

    def update(self, ctx, current, fields, changed):
        raise EngineError("internal: a hosted zone has nothing to update in place")

    def set_tags(self, ctx, current, add, remove):
        params = {}
        if add:
            params["AddTags"] = [{"Key": k, "Value": v} for k, v in sorted(add.items())]
        if remove:
            params["RemoveTagKeys"] = list(remove)
        if params:
            ctx.call("route53", "change_tags_for_resource", ResourceType="hostedzone", ResourceId=current.id, **params)

    def delete(self, ctx, current):
        # Everything else this environment keeps in the zone (certificate validation records) goes with it.
        records = read_records(ctx, current.id)
        pending = set((fqdn(c["ResourceRecordSet"]["Name"]), c["ResourceRecordSet"]["Type"]) for c in records.changes)
        for name, record_type in records.owned(ctx.environment):
            if (name, record_type) not in pending:
                owner = records.owner(name, record_type)
                records.delete(records.rrsets[(name, record_type)], owner[0], owner[1])
        records.flush(ctx, "webstack %s: delete the zone's records" % ctx.environment)
        ctx.call("route53", "delete_hosted_zone", Id=current.id)


class RecordSet(Kind):
    """Record sets of the zone that this environment's layer owns (see the module docstring).

    ``scope(name, type)`` says which owned record sets this run manages (options left out leave theirs
    alone); ``peers`` are other environments whose owned record sets this run may update in place (the
    blue/green swap), never create or delete: ``{environment: scope}``, or a function of the context that
    returns it (called when reading, so an earlier kind's read can tell who the peer is)."""

    name = "record"
    create_only = ("name", "type")
    updatable = ("ttl", "values", "alias")

    def __init__(self, scope=None, peers=None):
        self.scope = scope or (lambda name, record_type: True)
        self.peers = peers or {}

    def read(self, ctx):
        zone_id = ctx.state(ZoneState).zone_id
        if not zone_id:
            return []
        records = read_records(ctx, zone_id)
        peers = self.peers(ctx) if callable(self.peers) else self.peers
        found = []
        for environment, scope in [(ctx.environment, self.scope)] + sorted(peers.items()):
            for name, record_type in records.owned(environment, ctx.layer):
                if not scope(name, record_type):
                    continue
                rrset = records.rrsets[(name, record_type)]
                key = record_key(name, record_type)
                found.append(Current(key, key, record_fields(rrset), {}, rrset))
        return found

    def equal(self, field, before, after):
        return records_equal(field, before, after)

    def _records(self, ctx):
        return read_records(ctx, ctx.state(ZoneState).zone_id)

    def create(self, ctx, key, fields, tags):
        records = self._records(ctx)
        rrset = record_set(fields)
        if (fqdn(rrset["Name"]), rrset["Type"]) in records.rrsets:
            records.upsert(rrset, ctx.environment, ctx.layer)  # only when the zone was read without it
        else:
            records.create(rrset, ctx.environment, ctx.layer)
        return key

    def update(self, ctx, current, fields, changed):
        self._records(ctx).upsert(record_set(fields))

    def delete(self, ctx, current):
        self._records(ctx).delete(current.raw, ctx.environment, ctx.layer)

    def set_tags(self, ctx, current, add, remove):
        """Record sets have no tags."""

    def sort_keys(self, keys):
        return sorted(keys)

    def finish(self, ctx):
        if ctx.state(ZoneState).zone_id:
            self._records(ctx).flush(ctx, "webstack %s: %s records" % (ctx.environment, ctx.layer))


class SwapState(Kind):
    """The blue/green swap state of environment CNAMEs (see the module docstring): key the environment, field
    ``swapped_with`` the peer.  Present for both of two swapped environments, absent for one that is not.

    ``environments`` are read (this one first); with ``follow``, so is the peer this one's state names.
    ``refuse_delete``: deleting this environment's own state (a teardown) is refused while the peer's CNAME
    still exists, since each name then carries the other's traffic."""

    name = "swap"
    updatable = ("swapped_with",)

    def __init__(self, domain, environments=(), follow=False, refuse_delete=False):
        self.domain = domain
        self.environments = tuple(environments)
        self.follow = follow
        self.refuse_delete = refuse_delete

    def read(self, ctx):
        zone_id = ctx.state(ZoneState).zone_id
        if not zone_id or not self.environments:
            return []
        records = read_records(ctx, zone_id)
        wanted, found, foreign = list(self.environments), [], []
        position = 0
        while position < len(wanted):  # a worklist: the peer this environment's state names joins it
            environment = wanted[position]
            position += 1
            state = records.swap_state(environment, self.domain)
            if state is False:
                foreign.append(environment)
                continue
            if state is None or state[0] != ctx.layer:
                continue
            _layer, peer, rrset = state
            found.append(Current(environment, record_key(rrset["Name"], "TXT"), {"swapped_with": peer}, {}, rrset))
            if self.follow and environment == ctx.environment and peer not in wanted:
                wanted.append(peer)
        ctx.state(ZoneState).swap_foreign = foreign
        ctx.state(ZoneState).swapped_with = dict((c.key, c.fields["swapped_with"]) for c in found)
        return found

    def _record(self, environment, peer, layer):
        return {
            "Name": swap_name(environment, self.domain),
            "Type": "TXT",
            "TTL": OWNER_TTL,
            "ResourceRecords": [{"Value": swap_value(environment, layer, peer)}],
        }

    def _records(self, ctx):
        return read_records(ctx, ctx.state(ZoneState).zone_id)

    def create(self, ctx, key, fields, tags):
        self._records(ctx).upsert(self._record(key, fields["swapped_with"], ctx.layer))
        return record_key(swap_name(key, self.domain), "TXT")

    def update(self, ctx, current, fields, changed):
        self._records(ctx).upsert(self._record(current.key, fields["swapped_with"], ctx.layer))

    def delete(self, ctx, current):
        self._records(ctx).delete(current.raw)

    def set_tags(self, ctx, current, add, remove):
        """Record sets have no tags."""

    def check_delete(self, ctx, current):
        if not self.refuse_delete or current.key != ctx.environment:
            return
        peer = current.fields["swapped_with"]
        records = self._records(ctx)
        peer_cname = (fqdn("%s.%s" % (peer, bare(self.domain))), "CNAME")
        if peer_cname in records.owned(peer, ctx.layer):
            raise EngineError(
                "%s is swapped with %s: %s.%s and %s.%s each point at the other's load balancer, so deleting %s would "
                "break both names. Swap them back first (playbooks/swap.yml -e webstack_swap_with=%s "
                "-e webstack_swapped=false, or webstack.aws.dns with swap.swapped=false), then delete it"
                % (
                    ctx.environment,
                    peer,
                    ctx.environment,
                    bare(self.domain),
                    peer,
                    bare(self.domain),
                    ctx.environment,
                    peer,
                )
            )
