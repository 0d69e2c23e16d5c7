# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACM resource kind: a DNS-validated certificate, with its validation records in Route 53.

Read cost: ListCertificates (every key type, one page per 1000 certificates), one ListTagsForCertificate
per certificate whose domain lies in the hosted zone (ACM has no tag filter and no batch tag read), one
DescribeCertificate per certificate of this environment, and the zone's record sets (route53.read_records).
"""

from __future__ import annotations

import dataclasses
import uuid

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = None


from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_RESOURCE,
    Current,
    EngineError,
    Kind,
    contains_unknown,
    not_found,
    owned,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import (
    bare,
    fqdn,
    in_zone,
    longest_zone,
    read_records,
    zone_id_of,
)

KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
USABLE = ("ISSUED", "PENDING_VALIDATION")
KEY = "certificate"


def sans_of(certificate):
    """The subject alternative names besides the domain itself (ACM lists the domain among them)."""
    domain = certificate.get("DomainName", "").lower()
    return sorted(set(n.lower() for n in certificate.get("SubjectAlternativeNames", []) if n.lower() != domain))


def validation_records(certificate):
    """The DNS validation records ACM asks for, deduplicated (a.com and *.a.com share one), sorted."""
    found = {}
    for option in certificate.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord")
        if record:
            found[fqdn(record["Name"])] = {
                "name": bare(record["Name"]),
                "type": record["Type"],
                "value": record["Value"].lower().rstrip("."),
            }
    return [found[name] for name in sorted(found)]


def records_missing(certificate):
    """Domains whose validation record ACM has not published yet."""
    return [o["DomainName"] for o in certificate.get("DomainValidationOptions", []) if not o.get("ResourceRecord")]


def pending_domains(certificate):
    return [
        "%s %s" % (o["DomainName"], o.get("ValidationStatus", "PENDING_VALIDATION"))
        for o in certificate.get("DomainValidationOptions", [])
        if o.get("ValidationStatus") != "SUCCESS"
    ]


def live_users(ctx, certificate):
    """The certificate's InUseBy ARNs that still exist.  ACM updates InUseBy some time after a listener
    or distribution is deleted (and the emulator never does), so a user that is gone is not a reason to keep
    the certificate.  One call per user, and only for certificates that list users."""
    users = []
    for arn in (certificate or {}).get("InUseBy") or []:
        try:
            if ":listener/" in arn and "elbv2" in ctx.clients:
                ctx.call("elbv2", "describe_listeners", ListenerArns=[arn])
            elif ":distribution/" in arn and "cloudfront" in ctx.clients:
                ctx.call("cloudfront", "get_distribution", Id=arn.rsplit("/", 1)[-1])
        except ClientError as exc:
            if not not_found(exc, "ListenerNotFound", "ListenerNotFoundException", "NoSuchDistribution"):
                raise
            continue
        users.append(arn)
    return users


@dataclasses.dataclass
class CertificateState:
    """What the certificate kind learns during a run."""

    summaries: list = dataclasses.field(default_factory=list)  # ListCertificates (what other certificates validate)
    kept: list = dataclasses.field(default_factory=list)  # [{arn, in_use_by}] of retired certificates left in place
    # replaced certificates, deleted in finish once the new one is issued
    retiring: list = dataclasses.field(default_factory=list)


class Certificate(Kind):
    """The environment's certificate.  A certificate matching the wanted domain and names (tagged for this
    environment, ISSUED or PENDING_VALIDATION) is reused; others of this environment are retired.  A
    replacement keeps the old certificate until the new one is issued, and keeps it (reported) while a
    load balancer still uses it."""

    name = "certificate"
    create_only = ("domain_name", "subject_alternative_names", "key_algorithm", "status")
    updatable = ("hosted_zone_id", "validation_records")

    def __init__(self, domain_name=None, sans=(), key_algorithm="RSA_2048", hosted_zone_id=None, absent=False):
        self.domain_name = domain_name.lower() if domain_name else None
        self.sans = sorted(set(s.lower() for s in sans) - {self.domain_name})
        self.key_algorithm = key_algorithm
        self.hosted_zone_id = hosted_zone_id
        self.zone = None  # {"id", "name"}: where the validation records go; None for an environment-wide read
        self.absent = absent

    def find_zone(self, ctx):
        """The given zone, or the longest public zone the domain lies in."""
        if self.hosted_zone_id:
            # The zone's records are read anyway (validation records; cached for the run): its name is the
            # name of its SOA record, so no GetHostedZone is needed.
            records = read_records(ctx, zone_id_of(self.hosted_zone_id))
            apex = sorted(name for name, record_type in records.rrsets if record_type == "SOA")
            if not apex:
                raise EngineError("Hosted zone %s has no SOA record; is it a hosted zone id?" % self.hosted_zone_id)
            return {"id": zone_id_of(self.hosted_zone_id), "name": fqdn(apex[0])}
        if self.domain_name:
            zone = longest_zone(ctx, self.domain_name)
        else:
            return None
        if zone is None:
            if self.absent:
                return None
            if ctx.check_mode:  # a fresh environment planned in check mode: the dns layer has not made the zone yet
                return {"id": None, "name": None}
            raise EngineError(
                "There is no public hosted zone for %s; create it first (webstack.aws.dns with the domain) or pass "
                "hosted_zone_id" % self.domain_name
            )
        return {"id": zone_id_of(zone["Id"]), "name": fqdn(zone["Name"])}

    # -- read ---------------------------------------------------------------------------------
    def read(self, ctx):
        self.zone = self.find_zone(ctx)
        summaries = ctx.paginate(
            "acm", "list_certificates", "CertificateSummaryList", Includes={"keyTypes": list(KEY_TYPES)}
        )
        ctx.state(CertificateState).summaries = summaries
        ours = []
        for summary in summaries:
            if self.zone and self.zone["name"] and not in_zone(summary["DomainName"], self.zone["name"]):
                continue
            tags = ctx.call("acm", "list_tags_for_certificate", CertificateArn=summary["CertificateArn"]).get(
                "Tags", []
            )
            tags = dict((t["Key"], t.get("Value", "")) for t in tags)
            if not owned(ctx, tags):
                continue
            described = ctx.call("acm", "describe_certificate", CertificateArn=summary["CertificateArn"])["Certificate"]
            ours.append((described, tags))
        records = read_records(ctx, self.zone["id"]) if self.zone and self.zone.get("id") else None
        chosen = self._choose(ours)
        found, kept = [], []
        for certificate, tags in ours:
            arn = certificate["CertificateArn"]
            key = KEY if certificate is chosen else "retired-%s" % arn.split("/")[-1][:8]
            if key != KEY and live_users(ctx, certificate) and not self.absent:
                kept.append({"arn": arn, "in_use_by": live_users(ctx, certificate)})
                continue  # a retired certificate still in use: left alone (reported) until it is free
            found.append(Current(key, arn, self.fields(certificate, records), tags, certificate))
        ctx.state(CertificateState).kept = kept
        return found

    def _choose(self, ours):
        """The certificate to converge: one matching the wanted names and usable, else the newest."""
        if not ours:
            return None
        for certificate, _tags in sorted(ours, key=lambda c: str(c[0].get("CreatedAt")), reverse=True):
            if (
                certificate["DomainName"].lower() == self.domain_name
                and sans_of(certificate) == self.sans
                and certificate.get("KeyAlgorithm", "RSA_2048") == self.key_algorithm
                and certificate.get("Status") in USABLE
            ):
                return certificate
        with_key = [c for c, tags in ours if tags.get(TAG_RESOURCE) == KEY]
        return sorted(with_key or [c for c, _t in ours], key=lambda c: str(c.get("CreatedAt")))[-1]

    def fields(self, certificate, records):
        present = []
        for record in validation_records(certificate):
            have = records.rrsets.get((fqdn(record["name"]), record["type"])) if records else None
            values = [r["Value"].lower().rstrip(".") for r in (have or {}).get("ResourceRecords", [])]
            if values == [record["value"]]:
                present.append(record)
        return {
            "domain_name": certificate["DomainName"].lower(),
            "subject_alternative_names": sans_of(certificate),
            "key_algorithm": certificate.get("KeyAlgorithm", "RSA_2048"),
            "status": certificate.get("Status"),
            "hosted_zone_id": self.zone.get("id") if self.zone else None,
            "validation_records": present,
        }

    def equal(self, field, before, after):
        if contains_unknown(after):
            return False
        if field == "status":  # ISSUED is wanted; one still being validated is on its way there
            return before in USABLE and after == "ISSUED"
        return before == after

    # -- apply --------------------------------------------------------------------------------
    def create(self, ctx, key, fields, tags):
        params = {
            "DomainName": fields["domain_name"],
            "ValidationMethod": "DNS",
            "IdempotencyToken": uuid.uuid4().hex[:32],
            "KeyAlgorithm": fields["key_algorithm"],
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        }
        if fields["subject_alternative_names"]:
            params["SubjectAlternativeNames"] = list(fields["subject_alternative_names"])
        arn = ctx.call("acm", "request_certificate", **params)["CertificateArn"]
        described = {}

        def pending():  # ACM publishes the validation records a moment after the request
            described.update(ctx.call("acm", "describe_certificate", CertificateArn=arn)["Certificate"])
            missing = records_missing(described)
            return ["%s (no validation record yet)" % d for d in missing] if missing else []

        ctx.poll("the validation records of %s" % arn, pending, interval=1.0, max_interval=5.0)
        self.put_records(ctx, validation_records(described), fields["hosted_zone_id"])
        ctx.remember(self.name, key, described)
        return arn

    def put_records(self, ctx, wanted, zone_id):
        """Write the validation records that are missing or wrong, in one batch; own the ones we create."""
        records = read_records(ctx, zone_id)
        for record in wanted:
            key = (fqdn(record["name"]), record["type"])
            rrset = {
                "Name": fqdn(record["name"]),
                "Type": record["type"],
                "TTL": 300,
                "ResourceRecords": [{"Value": record["value"]}],
            }
            have = records.rrsets.get(key)
            if have is None:
                records.create(rrset, ctx.environment, ctx.layer)
            elif [r["Value"].lower().rstrip(".") for r in have.get("ResourceRecords", [])] != [record["value"]]:
                owner = records.owner(record["name"], record["type"])
                records.upsert(rrset, *(owner or (None, None)))
        records.flush(ctx, "webstack %s: certificate validation records" % ctx.environment)

    def wait_created(self, ctx, ids):
        def pending():
            still = []
            for arn in ids:
                certificate = ctx.call("acm", "describe_certificate", CertificateArn=arn)["Certificate"]
                if certificate.get("Status") == "ISSUED":
                    ctx.remember(self.name, KEY, certificate)
                    continue
                if certificate.get("Status") not in USABLE:
                    raise EngineError(
                        "Certificate %s is %s (%s); check the validation records in the zone"
                        % (arn, certificate.get("Status"), ", ".join(pending_domains(certificate)) or "no details")
                    )
                still.append("%s: %s" % (arn, ", ".join(pending_domains(certificate)) or certificate.get("Status")))
            return still

        ctx.poll("the certificate to be issued (DNS validation)", pending, interval=1.0, max_interval=10.0)

    def update(self, ctx, current, fields, changed):
        self.put_records(ctx, validation_records(current.raw), fields["hosted_zone_id"])

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call(
                "acm",
                "add_tags_to_certificate",
                CertificateArn=current.id,
                Tags=[{"Key": k, "Value": v} for k, v in sorted(add.items())],
            )
        if remove:
            ctx.call(
                "acm",
                "remove_tags_from_certificate",
                CertificateArn=current.id,
                Tags=[{"Key": k} for k in remove],
            )

    def delete(self, ctx, current):
        if current.key == KEY and not self.absent:
            # a replacement: the old certificate goes once the new one is issued (see finish)
            ctx.state(CertificateState).retiring.append(current)
            return
        users = live_users(ctx, current.raw)
        if users:
            raise EngineError(
                "Certificate %s is in use by %s; delete or change those first (the load balancer layer)"
                % (current.id, ", ".join(users))
            )
        self.retire(ctx, current, keep=set())
        ctx.call("acm", "delete_certificate", CertificateArn=current.id)

    def retire(self, ctx, current, keep):
        """Delete the validation records of ``current`` that this environment created, unless ``keep`` (the
        new certificate's) or another certificate in the account validates the same domain."""
        if not (self.zone and self.zone.get("id")):
            return
        records = read_records(ctx, self.zone["id"])
        others = set()
        for summary in ctx.state(CertificateState).summaries:
            if summary["CertificateArn"] == current.id:
                continue
            others.add(summary["DomainName"].lower())
            others.update(n.lower() for n in summary.get("SubjectAlternativeNameSummaries", []))
        shared = set()
        for option in current.raw.get("DomainValidationOptions", []):
            if option["DomainName"].lower() in others and option.get("ResourceRecord"):
                shared.add(fqdn(option["ResourceRecord"]["Name"]))
        for record in validation_records(current.raw):
            key = (fqdn(record["name"]), record["type"])
            if key[0] in keep or key[0] in shared or key not in records.rrsets:
                continue
            if records.owner(record["name"], record["type"]) == (ctx.environment, ctx.layer):
                records.delete(records.rrsets[key], ctx.environment, ctx.layer)
        records.flush(ctx, "webstack %s: retire certificate validation records" % ctx.environment)

    def finish(self, ctx):
        state = ctx.state(CertificateState)
        retiring, state.retiring = state.retiring, []
        if not retiring:
            return
        if not ctx.wait:  # not known to be issued: the old one stays until a later run finds the new one issued
            for current in retiring:
                state.kept.append({"arn": current.id, "in_use_by": []})
            return
        keep = set(fqdn(r["name"]) for r in validation_records(ctx.description(self.name, KEY) or {}))
        for current in retiring:
            users = live_users(ctx, current.raw)
            if users:
                state.kept.append({"arn": current.id, "in_use_by": users})
                continue
            self.retire(ctx, current, keep)
            ctx.call("acm", "delete_certificate", CertificateArn=current.id)
