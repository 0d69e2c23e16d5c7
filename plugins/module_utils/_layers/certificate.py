# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate layer: one ACM certificate (domain + SANs), validated by DNS records in Route 53."""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Unknown, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.acm import (
    KEY,
    KEY_TYPES,
    Certificate,
    CertificateState,
    pending_domains,
    validation_records,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import dns_name, in_zone

# ACM: the first name goes in the certificate's CN, at most 64 characters; 10 names per certificate by default.
DOMAIN_NAME_MAX = 64
DEFAULT_NAME_QUOTA = 10


def argument_spec():
    return dict(
        domain_name=dict(type="str"),
        subject_alternative_names=dict(type="list", elements="str", default=[], aliases=["sans"]),
        hosted_zone_id=dict(type="str"),
        key_algorithm=dict(type="str", default="RSA_2048", choices=list(KEY_TYPES)),
        domain_name_quota=dict(type="int", default=DEFAULT_NAME_QUOTA),
        allow_replacement=dict(type="bool", default=False),
    )


def validate(params, check_mode=False):
    present = params["state"] == "present"
    if present and not params.get("domain_name"):
        raise ValidationError("domain_name", "is required when state=present, for example api.example.com")
    validation.in_range(params["domain_name_quota"], "domain_name_quota", 1, 100)
    if params.get("domain_name"):
        dns_name(params["domain_name"], "domain_name", wildcard=True, min_labels=2, max_length=DOMAIN_NAME_MAX)
    names = [str(params.get("domain_name") or "").lower().rstrip(".")]
    for index, san in enumerate(params["subject_alternative_names"]):
        option = "subject_alternative_names[%d]" % index
        name = dns_name(san, option, wildcard=True, min_labels=2)
        if name in names:
            if name == names[0]:
                continue  # the domain itself: ACM lists it among the names anyway
            raise ValidationError(option, "%s is listed twice; give each name once" % name)
        names.append(name)
    if len(names) > params["domain_name_quota"]:
        raise ValidationError(
            "subject_alternative_names",
            "%d names (domain_name and %d alternative names) exceed ACM's quota of %d names per certificate; "
            "use fewer names or a wildcard, or raise domain_name_quota after raising the quota in Service Quotas"
            % (len(names), len(names) - 1, params["domain_name_quota"]),
        )
    if params.get("hosted_zone_id") is not None and not str(params["hosted_zone_id"]).strip():
        raise ValidationError("hosted_zone_id", "is empty; give the zone id or leave it out")


def wanted_names(params):
    domain = params["domain_name"].lower().rstrip(".")
    sans = sorted(set(s.lower().rstrip(".") for s in params["subject_alternative_names"]) - {domain})
    return domain, sans


class CertificateLayer(LayerSpec):
    layer = "certificate"
    result_key = "certificate"
    services = ("acm", "route53", "elbv2")
    retry_codes = ("PriorRequestNotComplete",)

    def __init__(self):
        self.params = None
        self.kind = None

    def validate(self, params, check_mode):
        validate(params, check_mode)
        self.params = params

    def kinds(self):
        params = self.params
        domain, sans = wanted_names(params) if params.get("domain_name") else (None, [])
        self.kind = Certificate(
            domain,
            sans,
            params["key_algorithm"],
            hosted_zone_id=params.get("hosted_zone_id"),
            absent=params["state"] == "absent",
        )
        return [self.kind]

    def desired(self, ctx, params, current):
        domain, sans = wanted_names(params)
        zone = self.kind.zone
        for name in [domain] + sans:
            if zone["name"] and not in_zone(name.lstrip("*."), zone["name"]):
                raise ValidationError(
                    "subject_alternative_names",
                    "%s is not in the hosted zone %s, where the validation records go; use names of that zone"
                    % (name, zone["name"].rstrip(".")),
                )
        have = current.get("certificate", {}).get(KEY)
        fields = {
            "domain_name": domain,
            "subject_alternative_names": sans,
            "key_algorithm": params["key_algorithm"],
            "status": "ISSUED",
            "hosted_zone_id": zone["id"] or Unknown("the hosted zone, once the dns layer has made it"),
        }
        keeps = have is not None and all(
            self.kind.equal(f, have.fields.get(f), fields[f]) for f in self.kind.create_only
        )
        fields["validation_records"] = (
            validation_records(have.raw) if keeps else Unknown("validation records of the new certificate")
        )
        return {"certificate": {KEY: Desired(fields, ctx.tags_for(KEY))}}

    def outputs(self, ctx, params, ids, current):
        arn = ids.get("certificate", {}).get(KEY)
        described = ctx.description("certificate", KEY, current) if arn else None
        if described and described.get("CertificateArn") != arn:
            described = None
        if arn and described is None:
            described = ctx.call("acm", "describe_certificate", CertificateArn=arn)["Certificate"]
        if described and described.get("Status") == "PENDING_VALIDATION" and ctx.wait and not ctx.check_mode:
            self.kind.wait_created(ctx, [arn])  # an earlier run did not wait: wait now (reads only)
            described = ctx.description("certificate", KEY, current)
        domain, sans = wanted_names(params)
        zone = self.kind.zone or {}
        return {
            "environment": ctx.environment,
            "arn": arn,
            "status": described.get("Status") if described else None,
            "domain_name": domain,
            "subject_alternative_names": sans,
            "hosted_zone_id": zone.get("id"),
            "validation_records": validation_records(described) if described else [],
            "pending": pending_domains(described) if described else [],
            "retained": list(ctx.state(CertificateState).kept),
        }
