# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The static assets layer: a private S3 bucket behind a CloudFront distribution with Origin Access Control,
and (optionally) a local folder uploaded to it.

Kinds, in creation order: the bucket, the Origin Access Control, the distribution, the bucket policy (it names
the distribution's ARN, known only once it exists), the uploaded objects.  Deletion runs the other way, and a
bucket that still holds anything stops it before any change unless ``force``.
"""

from __future__ import annotations

import os
import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Ref, Unknown, not_found
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, in_range
from ansible_collections.webstack.aws.plugins.module_utils._kinds import s3
from ansible_collections.webstack.aws.plugins.module_utils._kinds.cloudfront import (
    ALLOWED_METHODS,
    CACHED_METHODS,
    CACHING_OPTIMIZED,
    DISTRIBUTION_KEY,
    MINIMUM_TLS,
    OAC_KEY,
    Distribution,
    DistributionState,
    OriginAccessControl,
    distribution_comment,
    distribution_id,
    oac_name,
)

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = None

CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
ALIAS = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
DEFAULT_CACHE_CONTROL = "public, max-age=300"


def argument_spec():
    return dict(
        bucket=dict(type="str"),
        kms_key_id=dict(type="str"),
        noncurrent_version_expiration_days=dict(type="int", default=30),
        aliases=dict(type="list", elements="str", default=[]),
        certificate_arn=dict(type="str"),
        default_root_object=dict(type="str", default="index.html"),
        price_class=dict(type="str", default="PriceClass_100", choices=list(PRICE_CLASSES)),
        source=dict(type="path"),
        cache_control=dict(type="str", default=DEFAULT_CACHE_CONTROL),
        delete_stale=dict(type="bool", default=False),
        invalidate=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
        allow_replacement=dict(type="bool", default=False),
    )


def validate(params, check_mode=False):
    bucket = params.get("bucket")
    if bucket is not None:
        problem = s3.bucket_name_problem(bucket)
        if problem:
            raise ValidationError("bucket", "%r is not a valid S3 bucket name: %s" % (bucket, problem))
    in_range(params["noncurrent_version_expiration_days"], "noncurrent_version_expiration_days", 1, 3650)
    aliases = params.get("aliases") or []
    seen = set()
    for index, alias in enumerate(aliases):
        if not isinstance(alias, str) or len(alias) > 253 or not ALIAS.match(alias):
            raise ValidationError(
                "aliases[%d]" % index,
                "%r is not a lowercase domain name (like cdn.example.com or *.example.com)" % (alias,),
            )
        if alias in seen:
            raise ValidationError("aliases[%d]" % index, "%r is given twice" % alias)
        seen.add(alias)
    certificate = params.get("certificate_arn")
    if aliases and not certificate and not check_mode:
        raise ValidationError(
            "certificate_arn",
            "is required with aliases: CloudFront serves an alias only with an ACM certificate (in us-east-1) that "
            "covers it",
        )
    if certificate and not CERTIFICATE_ARN.match(certificate):
        raise ValidationError(
            "certificate_arn",
            "%r is not an ACM certificate ARN in us-east-1 (CloudFront takes certificates from us-east-1 only), "
            "like arn:aws:acm:us-east-1:123456789012:certificate/<id>" % (certificate,),
        )
    root = params.get("default_root_object") or ""
    if root.startswith("/") or len(root) > 255:
        raise ValidationError(
            "default_root_object", "%r: give an object key without a leading '/', at most 255 characters" % root
        )
    if params.get("cache_control") is not None and not params["cache_control"].strip():
        raise ValidationError("cache_control", "must not be empty (the default is %r)" % DEFAULT_CACHE_CONTROL)
    source = params.get("source")
    if source is not None and params.get("state", "present") == "present" and not os.path.isdir(source):
        raise ValidationError("source", "%r is not a folder on the host the module runs on" % source)


def local_files(params):
    """{key: {path, size, md5, content_type, cache_control}} of ``source`` (None without one)."""
    source = params.get("source")
    if source is None or params.get("state", "present") != "present":
        return None
    files = s3.scan_folder(source)
    for item in files.values():
        item["md5"] = s3.file_md5(item["path"])
        item["content_type"] = s3.content_type(item["path"])
        item["cache_control"] = params["cache_control"]
    return files


class StaticAssetsLayer(LayerSpec):
    layer = "static_assets"
    result_key = "static_assets"
    services = ("s3", "cloudfront", "sts")

    def __init__(self):
        self.files = None
        self.bucket_kind = None
        self.asset_kind = None
        self.distribution_kind = None
        self.uploads = []
        self.stale = []

    def validate(self, params, check_mode):
        validate(params, check_mode)
        self.configure(params)

    def configure(self, params):
        """The kinds need the bucket name, ``force`` and the local files before the read."""
        self.bucket_kind = s3.Bucket(params.get("bucket"))
        self.bucket_kind.force = bool(params.get("force"))
        self.files = local_files(params)
        self.asset_kind = s3.Asset(self.files, bool(params.get("delete_stale")))
        self.distribution_kind = Distribution(bool(params.get("invalidate")), params.get("default_root_object"))

    def kinds(self):
        if self.bucket_kind is None:
            self.configure({})
        return [self.bucket_kind, OriginAccessControl(), self.distribution_kind, s3.BucketPolicy(), self.asset_kind]

    def desired(self, ctx, params, current):
        env = ctx.environment
        state = ctx.state(s3.AssetsState).bucket_state
        name = ctx.state(s3.AssetsState).bucket
        if state.startswith("foreign"):
            raise ValidationError(
                "bucket",
                "%s exists but is not this environment's (%s); choose another name, or tag it %s=%s to adopt it"
                % (name, state.split(": ", 1)[1], s3.TAG_ENVIRONMENT, env),
            )
        region = s3.region_of(ctx)
        want = {}
        want["bucket"] = {
            s3.BUCKET_KEY: Desired(
                {
                    "name": name,
                    "versioning": "Enabled",
                    "encryption": s3.encryption_setting(params.get("kms_key_id")),
                    "public_access_block": dict(s3.PUBLIC_ACCESS_BLOCK),
                    "ownership": s3.OWNERSHIP,
                    "lifecycle": s3.lifecycle_setting(params["noncurrent_version_expiration_days"]),
                },
                ctx.tags_for(s3.BUCKET_KEY),
            )
        }
        want["origin_access_control"] = {
            OAC_KEY: Desired(
                {
                    "name": oac_name(env),
                    "description": "webstack %s: CloudFront reads the static assets bucket" % env,
                    "signing_protocol": "sigv4",
                    "signing_behavior": "always",
                    "origin_type": "s3",
                },
                {},
            )
        }
        certificate = params.get("certificate_arn")
        if not certificate and params.get("aliases"):
            # check mode, the certificate being planned in the same run: known only after it is issued
            certificate = Unknown("certificate")
        if certificate:
            viewer = {
                "acm_certificate_arn": certificate,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": MINIMUM_TLS,
            }
        else:
            viewer = {"cloudfront_default_certificate": True}
        origin_id = "s3-%s" % name
        want["distribution"] = {
            DISTRIBUTION_KEY: Desired(
                {
                    "comment": distribution_comment(env),
                    "enabled": True,
                    "aliases": sorted(params.get("aliases") or []),
                    "viewer_certificate": viewer,
                    "default_root_object": params.get("default_root_object") or "",
                    "price_class": params["price_class"],
                    "http_version": "http2and3",
                    "ipv6": True,
                    "origin": {
                        "id": origin_id,
                        "domain_name": s3.regional_domain(name, region),
                        "origin_path": "",
                        "origin_access_control_id": Ref("origin_access_control", OAC_KEY),
                    },
                    "cache_behavior": {
                        "target_origin_id": origin_id,
                        "viewer_protocol_policy": "redirect-to-https",
                        "allowed_methods": sorted(ALLOWED_METHODS),
                        "cached_methods": sorted(CACHED_METHODS),
                        "compress": True,
                        "cache_policy_id": CACHING_OPTIMIZED,
                    },
                },
                ctx.tags_for(DISTRIBUTION_KEY),
            )
        }
        want["bucket_policy"] = {
            s3.POLICY_KEY: Desired(
                {"bucket": name, "policy": s3.assets_policy(name, Ref("distribution", DISTRIBUTION_KEY))}, {}
            )
        }
        want["asset"] = self.desired_assets(ctx, params, current)
        return want

    def desired_assets(self, ctx, params, current):
        """Desired objects, and which of them differ (what is uploaded: the plan says the same)."""
        self.uploads, self.stale = [], []
        if self.files is None:
            return {}
        have = current.get("asset", {})
        want = {}
        for key, item in sorted(self.files.items()):
            found = have.get(key)
            etag = item["md5"]
            if found is not None:
                etag = s3.expected_etag(item["path"], item["size"], item["md5"], found.fields.get("etag"))
                if etag != found.fields.get("etag") and found.fields.get("size") == item["size"]:
                    etag = self.stored_md5(ctx, key, item, found) or etag
            want[key] = Desired(
                {
                    "etag": etag,
                    "size": item["size"],
                    "content_type": item["content_type"],
                    "cache_control": item["cache_control"],
                },
                {},
            )
            if found is None or found.fields.get("etag") != etag or found.fields.get("size") != item["size"]:
                self.uploads.append(key)
        if params.get("delete_stale"):
            self.stale = sorted(key for key in have if key not in self.files)
        return want

    def stored_md5(self, ctx, key, item, found):
        """With SSE-KMS (or an unknown multipart part size) the ETag is not the MD5: a same-size object is then
        compared by the MD5 this module stores in its metadata (one HeadObject), and kept when it matches."""
        try:
            head = ctx.call("s3", "head_object", Bucket=ctx.state(s3.AssetsState).bucket, Key=key)
        except ClientError as exc:
            if not not_found(exc, "404", "NoSuchKey", "NotFound"):
                raise  # AccessDenied and the like fail the run: never a silent re-upload
            return None
        if (head.get("Metadata") or {}).get(s3.MD5_METADATA) == item["md5"]:
            return found.fields.get("etag")
        return None

    def outputs(self, ctx, params, ids, current):
        name = ctx.state(s3.AssetsState).bucket
        arn = ids.get("distribution", {}).get(DISTRIBUTION_KEY)
        described = (ctx.description("distribution", DISTRIBUTION_KEY, current) or {}) if arn else {}
        status = ctx.state(DistributionState).status.get(arn) or described.get("Status")
        domain = described.get("DomainName")
        aliases = params.get("aliases") or []
        url = None
        if aliases:
            url = "https://%s" % aliases[0]
        elif domain:
            url = "https://%s" % domain
        return {
            "environment": ctx.environment,
            "bucket": name,
            "bucket_arn": s3.bucket_arn(name),
            "bucket_domain": s3.regional_domain(name, s3.region_of(ctx)) if name else None,
            "distribution_id": distribution_id(arn),
            "distribution_arn": arn,
            "distribution_domain": domain,
            "url": url,
            "origin_access_control_id": ids.get("origin_access_control", {}).get(OAC_KEY),
            "status": status,
            "uploaded": list(self.uploads),
            "deleted": list(self.stale),
            "invalidation_id": ctx.state(DistributionState).invalidation,
        }
