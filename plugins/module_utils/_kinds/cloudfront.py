# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFront resource kinds of the static assets layer: the Origin Access Control and the distribution.

The distribution is found by its comment (``webstack <environment> static assets``) in one ListDistributions
(per 100), confirmed by its tag ``webstack:environment`` (one ListTagsForResource), and read with one
GetDistributionConfig (the summary has no default root object, and the update needs the ETag).  Its id in
the layer is its ARN (what the bucket policy names).  The Origin Access Control has no tags: it is found by
its name, ``<environment>-assets``, in one ListOriginAccessControls (per 100).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from urllib.parse import quote

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = None

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    Current,
    EngineError,
    Kind,
    contains_unknown,
    error_code,
    owned,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.s3 import AssetsState

OAC_KEY = "origin_access_control"
MAX_INVALIDATION_PATHS = 15  # past these, one "/*" (paths beyond the first 1000 a month are charged)
DISTRIBUTION_KEY = "distribution"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # the AWS managed cache policy
ALLOWED_METHODS = ["GET", "HEAD", "OPTIONS"]
CACHED_METHODS = ["GET", "HEAD"]
MINIMUM_TLS = "TLSv1.2_2021"
DEPLOYED = "Deployed"


def distribution_comment(environment):
    return "webstack %s static assets" % environment


def oac_name(environment):
    return "%s-assets" % environment


def distribution_id(arn):
    return arn.rsplit("/", 1)[1] if arn else None


def tag_items(tags):
    return {"Items": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


def items(container):
    return list((container or {}).get("Items") or [])


def quantity(values):
    values = list(values)
    result = {"Quantity": len(values)}
    if values:
        result["Items"] = values
    return result


@dataclasses.dataclass
class DistributionState:
    """What the distribution kind learns during a run."""

    found: dict = dataclasses.field(default_factory=dict)  # ARN -> raw, of the distributions the read found
    status: dict = dataclasses.field(default_factory=dict)  # ARN -> last status seen while waiting
    invalidation: str | None = None  # the id of the invalidation this run made


class OriginAccessControl(Kind):
    """The Origin Access Control the distribution signs its requests to the bucket with (SigV4, always)."""

    name = "origin_access_control"
    create_only = ("name",)
    updatable = ("description", "signing_protocol", "signing_behavior", "origin_type")

    def read(self, ctx):
        wanted = oac_name(ctx.environment)
        found = []
        for item in ctx.paginate(
            "cloudfront", "list_origin_access_controls", "OriginAccessControlList.Items", MaxItems="100"
        ):
            if item.get("Name") != wanted:
                continue
            fields = {
                "name": item["Name"],
                "description": item.get("Description") or "",
                "signing_protocol": item.get("SigningProtocol"),
                "signing_behavior": item.get("SigningBehavior"),
                "origin_type": item.get("OriginAccessControlOriginType"),
            }
            found.append(Current(OAC_KEY, item["Id"], fields, {}, item))
        return found

    def config(self, fields):
        return {
            "Name": fields["name"],
            "Description": fields["description"],
            "SigningProtocol": fields["signing_protocol"],
            "SigningBehavior": fields["signing_behavior"],
            "OriginAccessControlOriginType": fields["origin_type"],
        }

    def create(self, ctx, key, fields, tags):
        answer = ctx.call("cloudfront", "create_origin_access_control", OriginAccessControlConfig=self.config(fields))
        control = answer["OriginAccessControl"]
        ctx.remember(self.name, key, control)
        return control["Id"]

    def update(self, ctx, current, fields, changed):
        etag = ctx.call("cloudfront", "get_origin_access_control", Id=current.id)["ETag"]
        ctx.call(
            "cloudfront",
            "update_origin_access_control",
            Id=current.id,
            IfMatch=etag,
            OriginAccessControlConfig=self.config(fields),
        )

    def set_tags(self, ctx, current, add, remove):
        """Origin Access Controls cannot be tagged; the layer knows its own by name."""

    def delete(self, ctx, current):
        etag = ctx.call("cloudfront", "get_origin_access_control", Id=current.id)["ETag"]
        ctx.call("cloudfront", "delete_origin_access_control", Id=current.id, IfMatch=etag)


# -- the distribution: what AWS answers -> what the layer compares ----------------------------------------
def read_origin(config):
    """The S3 origin, normalised.  ``origin_access_control_id`` is there only when AWS returns the field:
    moto 5.2.5 drops it when it stores a distribution, and comparing its absence would make every run a
    change.  AWS always returns it (an empty string when there is none), so on AWS a lost OAC is converged."""
    origins = items(config.get("Origins"))
    if len(origins) != 1:
        return {"count": len(origins), "ids": sorted(o.get("Id") for o in origins)}
    origin = origins[0]
    found = {"id": origin.get("Id"), "domain_name": origin.get("DomainName"), "origin_path": origin.get("OriginPath")}
    if "OriginAccessControlId" in origin:
        found["origin_access_control_id"] = origin["OriginAccessControlId"]
    return found


def origin_equal(before, after):
    """Whether the origin matches, comparing the OAC id only when AWS returned it (see read_origin)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return before == after
    if "origin_access_control_id" not in before:
        after = dict((k, v) for k, v in after.items() if k != "origin_access_control_id")
    if contains_unknown(after):
        return False
    return before == after


def read_viewer_certificate(config):
    cert = config.get("ViewerCertificate") or {}
    if cert.get("ACMCertificateArn"):
        return {
            "acm_certificate_arn": cert["ACMCertificateArn"],
            "ssl_support_method": cert.get("SSLSupportMethod"),
            "minimum_protocol_version": cert.get("MinimumProtocolVersion"),
        }
    if cert.get("IAMCertificateId"):
        return {"iam_certificate_id": cert["IAMCertificateId"]}
    return {"cloudfront_default_certificate": True}


def viewer_certificate_params(cert):
    if cert.get("acm_certificate_arn"):
        return {
            "ACMCertificateArn": cert["acm_certificate_arn"],
            "SSLSupportMethod": cert["ssl_support_method"],
            "MinimumProtocolVersion": cert["minimum_protocol_version"],
            "CloudFrontDefaultCertificate": False,
        }
    return {"CloudFrontDefaultCertificate": True}


def read_cache_behavior(config):
    behavior = config.get("DefaultCacheBehavior") or {}
    allowed = behavior.get("AllowedMethods") or {}
    return {
        "target_origin_id": behavior.get("TargetOriginId"),
        "viewer_protocol_policy": behavior.get("ViewerProtocolPolicy"),
        "allowed_methods": sorted(items(allowed)),
        "cached_methods": sorted(items(allowed.get("CachedMethods"))),
        "compress": bool(behavior.get("Compress")),
        "cache_policy_id": behavior.get("CachePolicyId") or None,
    }


def distribution_fields(config):
    return {
        "comment": config.get("Comment"),
        "enabled": bool(config.get("Enabled")),
        "aliases": sorted(items(config.get("Aliases"))),
        "viewer_certificate": read_viewer_certificate(config),
        "default_root_object": config.get("DefaultRootObject") or "",
        "price_class": config.get("PriceClass"),
        "http_version": config.get("HttpVersion"),
        "ipv6": bool(config.get("IsIPV6Enabled")),
        "origin": read_origin(config),
        "cache_behavior": read_cache_behavior(config),
    }


def apply_fields(config, fields):
    """The full DistributionConfig with the layer's fields put into ``config`` (what a read returned, or {}):
    everything the layer does not manage (logging, restrictions, custom error pages...) is kept as it is."""
    config = copy.deepcopy(config)
    origin = fields["origin"]
    config["Comment"] = fields["comment"]
    config["Enabled"] = fields["enabled"]
    config["Aliases"] = quantity(fields["aliases"])
    config["ViewerCertificate"] = viewer_certificate_params(fields["viewer_certificate"])
    config["DefaultRootObject"] = fields["default_root_object"]
    config["PriceClass"] = fields["price_class"]
    config["HttpVersion"] = fields["http_version"]
    config["IsIPV6Enabled"] = fields["ipv6"]
    config["Origins"] = quantity(
        [
            {
                "Id": origin["id"],
                "DomainName": origin["domain_name"],
                "OriginPath": origin["origin_path"],
                "S3OriginConfig": {"OriginAccessIdentity": ""},
                "OriginAccessControlId": origin["origin_access_control_id"],
            }
        ]
    )
    behavior = fields["cache_behavior"]
    config["DefaultCacheBehavior"] = {
        "TargetOriginId": behavior["target_origin_id"],
        "ViewerProtocolPolicy": behavior["viewer_protocol_policy"],
        "AllowedMethods": dict(
            quantity(behavior["allowed_methods"]), CachedMethods=quantity(behavior["cached_methods"])
        ),
        "Compress": behavior["compress"],
        "CachePolicyId": behavior["cache_policy_id"],
    }
    return config


def distribution_summary(distribution):
    """What the layer's outputs need from a Distribution or DistributionSummary."""
    return {
        "Id": distribution.get("Id"),
        "ARN": distribution.get("ARN"),
        "DomainName": distribution.get("DomainName"),
        "Status": distribution.get("Status"),
    }


def invalidation_paths(keys, root_object=None):
    """CloudFront paths for changed keys (``/`` too when the root object changed), or ``/*`` past 15."""
    paths = sorted(set("/" + quote(key, safe="/-_.~") for key in keys))
    if root_object and root_object in keys:
        paths = sorted(set(paths) | {"/"})
    if len(paths) > MAX_INVALIDATION_PATHS:
        return ["/*"]
    return paths


class Distribution(Kind):
    """The distribution in front of the bucket.  Updates are GetDistributionConfig + UpdateDistribution with the
    ETag; deletes disable it first, wait until it is deployed, then delete it with the new ETag."""

    name = "distribution"
    updatable = (
        "comment",
        "enabled",
        "aliases",
        "viewer_certificate",
        "default_root_object",
        "price_class",
        "http_version",
        "ipv6",
        "origin",
        "cache_behavior",
    )

    def __init__(self, invalidate=False, root_object=None):
        self.invalidate = invalidate  # invalidate the paths of the objects uploaded or deleted in this run
        self.root_object = root_object
        self.deleted = set()

    def read(self, ctx):
        comment = distribution_comment(ctx.environment)
        found = []
        for item in ctx.paginate("cloudfront", "list_distributions", "DistributionList.Items", MaxItems="100"):
            if item.get("Comment") != comment:
                continue
            answer = ctx.call("cloudfront", "list_tags_for_resource", Resource=item["ARN"])
            tags = dict((t["Key"], t.get("Value", "")) for t in items(answer.get("Tags")))
            if not owned(ctx, tags):
                continue
            got = ctx.call("cloudfront", "get_distribution_config", Id=item["Id"])
            raw = distribution_summary(item)
            raw["ETag"] = got.get("ETag")
            raw["DistributionConfig"] = got["DistributionConfig"]
            found.append(
                Current(DISTRIBUTION_KEY, item["ARN"], distribution_fields(got["DistributionConfig"]), tags, raw)
            )
        ctx.state(DistributionState).found = dict((c.id, c.raw) for c in found)
        return found

    def equal(self, field, before, after):
        if field == "origin":
            return origin_equal(before, after)
        if contains_unknown(after):
            return False
        return before == after

    def create(self, ctx, key, fields, tags):
        config = apply_fields({}, fields)
        config["CallerReference"] = "webstack-%s-%d" % (ctx.environment, int(time.time() * 1000))
        config.setdefault("Logging", {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""})
        answer = ctx.call(
            "cloudfront",
            "create_distribution_with_tags",
            DistributionConfigWithTags={"DistributionConfig": config, "Tags": tag_items(tags)},
        )
        distribution = answer["Distribution"]
        ctx.remember(self.name, key, distribution_summary(distribution))
        return distribution["ARN"]

    def update(self, ctx, current, fields, changed):
        got = ctx.call("cloudfront", "get_distribution_config", Id=distribution_id(current.id))
        config = apply_fields(got["DistributionConfig"], fields)
        answer = ctx.call(
            "cloudfront",
            "update_distribution",
            Id=distribution_id(current.id),
            IfMatch=got["ETag"],
            DistributionConfig=config,
        )
        ctx.remember(self.name, current.key, distribution_summary(answer["Distribution"]))
        if ctx.wait:
            self.wait_deployed(ctx, [current.id])

    def wait_created(self, ctx, ids):
        self.wait_deployed(ctx, ids)

    def wait_deployed(self, ctx, arns):
        """Poll GetDistribution until every distribution is Deployed (CloudFront takes minutes)."""
        status = ctx.state(DistributionState).status

        def pending():
            still = []
            for arn in arns:
                answer = ctx.call("cloudfront", "get_distribution", Id=distribution_id(arn))
                status[arn] = answer["Distribution"]["Status"]
                if status[arn] != DEPLOYED:
                    still.append("distribution %s (%s)" % (distribution_id(arn), status[arn]))
            return still

        ctx.poll("the distribution to be deployed", pending, interval=5.0, max_interval=30.0)

    def finish(self, ctx):
        """Once the objects are uploaded (or deleted): one CreateInvalidation of their paths, on the distribution
        that was there before the run and still is (a new one has nothing cached).  Not an entry of the plan: the
        result's ``invalidation_id`` reports it."""
        assets = ctx.state(AssetsState)
        done = list(assets.uploaded) + list(assets.deleted)
        serving = [arn for arn in ctx.state(DistributionState).found if arn not in self.deleted]
        if not (self.invalidate and done and len(serving) == 1):
            return
        paths = invalidation_paths(done, self.root_object)
        answer = ctx.call(
            "cloudfront",
            "create_invalidation",
            DistributionId=distribution_id(serving[0]),
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": "webstack-%s-%d" % (ctx.environment, int(time.time() * 1000)),
            },
        )
        ctx.state(DistributionState).invalidation = answer["Invalidation"]["Id"]

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call("cloudfront", "tag_resource", Resource=current.id, Tags=tag_items(add))
        if remove:
            ctx.call("cloudfront", "untag_resource", Resource=current.id, TagKeys={"Items": list(remove)})

    def delete(self, ctx, current):
        """Disable, wait until deployed (always: CloudFront refuses to delete it before), delete with the ETag."""
        self.deleted.add(current.id)
        ident = distribution_id(current.id)
        got = ctx.call("cloudfront", "get_distribution_config", Id=ident)
        etag = got["ETag"]
        if got["DistributionConfig"].get("Enabled"):
            config = copy.deepcopy(got["DistributionConfig"])
            config["Enabled"] = False
            etag = ctx.call("cloudfront", "update_distribution", Id=ident, IfMatch=etag, DistributionConfig=config)[
                "ETag"
            ]
        self.wait_deployed(ctx, [current.id])
        try:
            ctx.call("cloudfront", "delete_distribution", Id=ident, IfMatch=etag)
        except ClientError as exc:
            if error_code(exc) == "DistributionNotDisabled":
                raise EngineError(
                    "distribution %s is still enabled after it was disabled and deployed; run again" % ident
                ) from None
            raise
