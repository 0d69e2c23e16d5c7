# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 resource kinds of the static assets layer: the bucket, its policy, and the uploaded objects.

The bucket is found by name (the ``bucket`` option, or ``<environment>-assets-<account id>`` from one
STS GetCallerIdentity) and counts as the environment's only with the tag ``webstack:environment``.  Its
settings are not options: versioning, default encryption, the public access block, object ownership and
the lifecycle each have their own Get call and converge one by one (only what differs is put).
The objects (``asset``) are read with ListObjectsV2 (one call per 1000 keys); they are compared by ETag
(see ``expected_etag``) because a listing gives no headers.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import ipaddress
import json
import mimetypes
import os
import re

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = None

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_ENVIRONMENT,
    Current,
    EngineError,
    Kind,
    contains_unknown,
    error_code,
    not_found,
    owned,
    tag_dict,
    tag_list,
)

BUCKET_KEY = "bucket"
POLICY_KEY = "bucket_policy"
LIFECYCLE_RULE_ID = "webstack-assets"
ABORT_MULTIPART_DAYS = 7
DELETE_BATCH = 1000
MD5_METADATA = "md5"
BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OWNERSHIP = "BucketOwnerEnforced"
# Part sizes the usual tools use for multipart uploads (AWS CLI and boto3: 8 MiB; s3cmd: 15 MiB; others).
PART_SIZES = (8 * 1024 * 1024, 5 * 1024 * 1024, 15 * 1024 * 1024, 16 * 1024 * 1024, 64 * 1024 * 1024)
CHUNK = 1024 * 1024

# What mimetypes does not know everywhere (its table depends on the host's /etc/mime.types).
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
UTF8_TYPES = ("text/", "application/json", "application/manifest+json", "application/xml", "image/svg+xml")


def bucket_name_problem(name):
    """Why ``name`` is not a valid general purpose bucket name (None when it is)."""
    if not isinstance(name, str) or not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not BUCKET_CHARS.match(name):
        return "use only lowercase letters, digits, dots and hyphens, and start and end with a letter or digit"
    if ".." in name:
        return "must not contain two dots in a row"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "must not look like an IP address"
    for prefix in BUCKET_PREFIXES:
        if name.startswith(prefix):
            return "must not start with %r (reserved by AWS)" % prefix
    for suffix in BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return "must not end with %r (reserved by AWS)" % suffix
    return None


def default_bucket_name(environment, account_id):
    return "%s-assets-%s" % (environment, account_id)


def bucket_arn(name):
    return "arn:aws:s3:::%s" % name if name else None


def regional_domain(name, region):
    """The bucket's regional domain name, what a CloudFront S3 origin with OAC points at."""
    return "%s.s3.%s.amazonaws.com" % (name, region or "us-east-1")


def content_type(path):
    """The Content-Type of a file, from its extension (``application/octet-stream`` when unknown)."""
    extension = os.path.splitext(path)[1].lower()
    found = CONTENT_TYPES.get(extension)
    if found is None:
        found = mimetypes.guess_type("x" + extension, strict=False)[0] or DEFAULT_CONTENT_TYPE
    if found.startswith(UTF8_TYPES) or found == "text/javascript":
        return "%s; charset=utf-8" % found
    return found


def file_md5(path):
    digest = hashlib.md5()  # noqa: S324 - S3's ETag is an MD5; not used for security
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def multipart_etag(path, part_size):
    """The ETag S3 gives an object uploaded from ``path`` in parts of ``part_size``: the MD5 of the parts' MD5s."""
    digests = []
    with open(path, "rb") as handle:
        for part in iter(lambda: handle.read(part_size), b""):
            digests.append(hashlib.md5(part).digest())  # noqa: S324 - S3's ETag scheme
    return "%s-%d" % (hashlib.md5(b"".join(digests)).hexdigest(), len(digests))  # noqa: S324


def expected_etag(path, size, md5, current_etag):
    """The ETag the object should have, ``md5`` unless the stored object is a multipart upload of the same
    bytes: then its ``<md5 of part md5s>-<parts>`` ETag, recomputed for the part sizes the usual tools use.
    When no part size matches, the object is re-uploaded (once: this module uploads in one part)."""
    if not current_etag or "-" not in current_etag:
        return md5
    try:
        parts = int(current_etag.rsplit("-", 1)[1])
    except ValueError:
        return md5
    for part_size in PART_SIZES:
        if parts == max(1, -(-size // part_size)) and multipart_etag(path, part_size) == current_etag:
            return current_etag
    return md5


def scan_folder(root):
    """{key: {path, size}} for every file below ``root`` (keys are relative paths with ``/``)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            key = os.path.relpath(path, root).replace(os.sep, "/")
            found[key] = {"path": path, "size": os.path.getsize(path)}
    return found


# -- policies -------------------------------------------------------------------------------------------
def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def normalise_principal(principal):
    if principal == "*" or not isinstance(principal, dict):
        return principal
    return dict((k, sorted(as_list(v))) for k, v in sorted(principal.items()))


def normalise_condition(condition):
    result = {}
    for operator, pairs in (condition or {}).items():
        result[operator] = dict((k, sorted(str(x) for x in as_list(v))) for k, v in pairs.items())
    return result


def normalise_policy(policy):
    """A policy (JSON text or dict) as AWS compares it: parsed, one-item lists as lists, sorted, no Sid."""
    if policy is None:
        return None
    if isinstance(policy, str):
        policy = json.loads(policy)
    statements = []
    for statement in as_list(policy.get("Statement")):
        item = {"Effect": statement.get("Effect")}
        for field in ("Action", "NotAction", "Resource", "NotResource"):
            if field in statement:
                item[field] = sorted(as_list(statement[field]))
        for field in ("Principal", "NotPrincipal"):
            if field in statement:
                item[field] = normalise_principal(statement[field])
        if statement.get("Condition"):
            item["Condition"] = normalise_condition(statement["Condition"])
        statements.append(item)
    statements.sort(key=lambda s: json.dumps(s, sort_keys=True))
    return {"Version": policy.get("Version", "2008-10-17"), "Statement": statements}


def assets_policy(bucket, distribution_arn):
    """Admit only the distribution (through its Origin Access Control) to read the bucket's objects."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudFrontServicePrincipalReadOnly",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/*" % bucket,
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            }
        ],
    }


# -- bucket settings: what AWS answers -> what the layer compares ------------------------------------------
def encryption_setting(kms_key_id):
    if kms_key_id:
        return {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_id, "bucket_key_enabled": True}
    return {"sse_algorithm": "AES256"}


def read_encryption(answer):
    rules = (answer.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    if not rules:
        return None
    default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    found = {"sse_algorithm": default.get("SSEAlgorithm")}
    if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
        found["kms_master_key_id"] = default.get("KMSMasterKeyID")
        found["bucket_key_enabled"] = bool(rules[0].get("BucketKeyEnabled"))
    return found


def encryption_params(setting):
    default = {"SSEAlgorithm": setting["sse_algorithm"]}
    rule = {"ApplyServerSideEncryptionByDefault": default}
    if setting.get("kms_master_key_id"):
        default["KMSMasterKeyID"] = setting["kms_master_key_id"]
        rule["BucketKeyEnabled"] = bool(setting.get("bucket_key_enabled"))
    return {"Rules": [rule]}


def lifecycle_setting(noncurrent_days):
    return [
        {
            "id": LIFECYCLE_RULE_ID,
            "status": "Enabled",
            "prefix": "",
            "noncurrent_version_expiration_days": noncurrent_days,
            "abort_incomplete_multipart_upload_days": ABORT_MULTIPART_DAYS,
        }
    ]


def read_lifecycle(rules):
    """Every rule of the bucket, normalised (a rule added by hand shows up, and is converged away)."""
    found = []
    for rule in rules or []:
        flt = rule.get("Filter") or {}
        prefix = flt.get("Prefix", rule.get("Prefix", "")) or ""
        item = {
            "id": rule.get("ID"),
            "status": rule.get("Status"),
            "prefix": prefix,
            "noncurrent_version_expiration_days": (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
            "abort_incomplete_multipart_upload_days": (rule.get("AbortIncompleteMultipartUpload") or {}).get(
                "DaysAfterInitiation"
            ),
        }
        others = sorted(
            k
            for k in rule
            if k
            not in ("ID", "Status", "Filter", "Prefix", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload")
        )
        if others or set(flt) - {"Prefix"}:
            item["other"] = json.dumps(rule, sort_keys=True, default=str)
        found.append(item)
    return sorted(found, key=lambda r: r["id"] or "")


def lifecycle_params(rules):
    return {
        "Rules": [
            {
                "ID": rule["id"],
                "Status": rule["status"],
                "Filter": {"Prefix": rule["prefix"]},
                "NoncurrentVersionExpiration": {"NoncurrentDays": rule["noncurrent_version_expiration_days"]},
                "AbortIncompleteMultipartUpload": {
                    "DaysAfterInitiation": rule["abort_incomplete_multipart_upload_days"]
                },
            }
            for rule in rules
        ]
    }


def read_public_access_block(answer):
    config = answer.get("PublicAccessBlockConfiguration") or {}
    return dict((k, bool(config.get(k))) for k in PUBLIC_ACCESS_BLOCK)


def read_ownership(answer):
    rules = (answer.get("OwnershipControls") or {}).get("Rules") or []
    return rules[0].get("ObjectOwnership") if rules else None


@dataclasses.dataclass
class AssetsState:
    """What the static assets kinds pass each other during a run."""

    account_id: str | None = None  # the caller's account (STS, once)
    bucket: str | None = None  # the bucket's name
    bucket_state: str = "missing"  # "missing", "ours" or "foreign: <why>" (the bucket read)
    uploaded: list = dataclasses.field(default_factory=list)  # object keys put in this run
    deleted: list = dataclasses.field(default_factory=list)  # object keys deleted in this run


def account_id(ctx):
    """The caller's account (one STS GetCallerIdentity per run, only when needed)."""
    state = ctx.state(AssetsState)
    if state.account_id is None:
        state.account_id = ctx.call("sts", "get_caller_identity")["Account"]
    return state.account_id


def region_of(ctx):
    client = ctx.clients.get("s3")
    return getattr(getattr(client, "meta", None), "region_name", None) or "us-east-1"


def bucket_name(ctx, given=None):
    """The bucket's name: the one given, else ``<environment>-assets-<account id>``."""
    state = ctx.state(AssetsState)
    if state.bucket is None:
        state.bucket = given or default_bucket_name(ctx.environment, account_id(ctx))
    return state.bucket


class Bucket(Kind):
    """The private bucket.  Every setting is read and converged on its own; only what differs is put."""

    name = "bucket"
    create_only = ("name",)
    updatable = ("versioning", "encryption", "public_access_block", "ownership", "lifecycle")

    def __init__(self, bucket=None):
        self.bucket = bucket
        self.force = False

    def read(self, ctx):
        name = bucket_name(ctx, self.bucket)
        ctx.state(AssetsState).bucket_state = "missing"
        try:
            tags = tag_dict(ctx.call("s3", "get_bucket_tagging", Bucket=name).get("TagSet"))
        except ClientError as exc:
            code = error_code(exc)
            if not_found(exc, "NoSuchBucket", "404"):
                return []
            if not not_found(exc, "NoSuchTagSet"):
                # another account's bucket answers AccessDenied: the layer fails naming the code
                ctx.state(AssetsState).bucket_state = "foreign: %s" % code
                return []
            tags = {}
        if not owned(ctx, tags):
            ctx.state(AssetsState).bucket_state = "foreign: not tagged %s=%s" % (TAG_ENVIRONMENT, ctx.environment)
            return []
        ctx.state(AssetsState).bucket_state = "ours"
        versioning = ctx.call("s3", "get_bucket_versioning", Bucket=name).get("Status") or "Disabled"
        encryption = ctx.optional(
            "s3", "get_bucket_encryption", ("ServerSideEncryptionConfigurationNotFoundError",), Bucket=name
        )
        block = ctx.optional("s3", "get_public_access_block", ("NoSuchPublicAccessBlockConfiguration",), Bucket=name)
        ownership = ctx.optional(
            "s3", "get_bucket_ownership_controls", ("OwnershipControlsNotFoundError",), Bucket=name
        )
        lifecycle = ctx.optional(
            "s3", "get_bucket_lifecycle_configuration", ("NoSuchLifecycleConfiguration",), Bucket=name
        )
        fields = {
            "name": name,
            "versioning": versioning,
            "encryption": read_encryption(encryption or {}),
            "public_access_block": read_public_access_block(block or {}),
            "ownership": read_ownership(ownership or {}),
            "lifecycle": read_lifecycle((lifecycle or {}).get("Rules")),
        }
        return [Current(BUCKET_KEY, name, fields, tags, {"Name": name})]

    def create(self, ctx, key, fields, tags):
        name = fields["name"]
        params = {"Bucket": name, "ObjectOwnership": OWNERSHIP}
        config = {"Tags": tag_list(tags)}
        region = region_of(ctx)
        if region != "us-east-1":
            config["LocationConstraint"] = region
        params["CreateBucketConfiguration"] = config
        try:
            ctx.call("s3", "create_bucket", **params)
        except ClientError as exc:
            if error_code(exc) in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
                raise EngineError(
                    "bucket: %s is taken (%s); choose another name with the bucket option" % (name, error_code(exc))
                ) from None
            raise
        # Tags again: moto 5.2.5 ignores CreateBucketConfiguration.Tags (AWS puts the same set twice, harmlessly),
        # and the tags are how the next run finds the bucket.
        ctx.call("s3", "put_bucket_tagging", Bucket=name, Tagging={"TagSet": tag_list(tags)})
        # The public access block comes first: nothing may be public for a moment.
        ctx.call("s3", "put_public_access_block", Bucket=name, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK))
        self.put_settings(ctx, name, fields, ("versioning", "encryption", "lifecycle"))
        ctx.remember(self.name, key, {"Name": name})
        return name

    def update(self, ctx, current, fields, changed):
        self.put_settings(ctx, current.id, fields, changed)

    def put_settings(self, ctx, name, fields, changed):
        if "public_access_block" in changed:
            ctx.call(
                "s3", "put_public_access_block", Bucket=name, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK)
            )
        if "ownership" in changed:
            ctx.call(
                "s3",
                "put_bucket_ownership_controls",
                Bucket=name,
                OwnershipControls={"Rules": [{"ObjectOwnership": fields["ownership"]}]},
            )
        if "versioning" in changed:
            ctx.call("s3", "put_bucket_versioning", Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if "encryption" in changed:
            ctx.call(
                "s3",
                "put_bucket_encryption",
                Bucket=name,
                ServerSideEncryptionConfiguration=encryption_params(fields["encryption"]),
            )
        if "lifecycle" in changed:
            ctx.call(
                "s3",
                "put_bucket_lifecycle_configuration",
                Bucket=name,
                LifecycleConfiguration=lifecycle_params(fields["lifecycle"]),
            )

    def set_tags(self, ctx, current, add, remove):
        tags = dict((k, v) for k, v in current.tags.items() if k not in remove)
        tags.update(add)
        ctx.call("s3", "put_bucket_tagging", Bucket=current.id, Tagging={"TagSet": tag_list(tags)})

    def check_delete(self, ctx, current):
        """A bucket that still holds anything (a version or a delete marker) goes only with ``force``."""
        if self.force:
            return
        answer = ctx.call("s3", "list_object_versions", Bucket=current.id, MaxKeys=1)
        if answer.get("Versions") or answer.get("DeleteMarkers"):
            raise EngineError(
                "bucket %s still holds objects (or old versions of them); nothing was changed. Empty it first, or "
                "set force=true to delete every object version and delete marker with the bucket" % current.id
            )

    def delete(self, ctx, current):
        if self.force:
            empty_bucket(ctx, current.id)
        ctx.call("s3", "delete_bucket", Bucket=current.id)


def empty_bucket(ctx, name):
    """Delete every object version and delete marker, 1000 per DeleteObjects call."""
    params = {"Bucket": name, "MaxKeys": DELETE_BATCH}
    while True:
        page = ctx.call("s3", "list_object_versions", **params)
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
        ]
        for start in range(0, len(doomed), DELETE_BATCH):
            delete_objects(ctx, name, doomed[start : start + DELETE_BATCH])
        if not page.get("IsTruncated"):
            return
        # the listed versions are gone: list from the start again rather than from the markers
        params = {"Bucket": name, "MaxKeys": DELETE_BATCH}


def delete_objects(ctx, name, objects):
    answer = ctx.call("s3", "delete_objects", Bucket=name, Delete={"Objects": objects, "Quiet": True})
    errors = answer.get("Errors") or []
    if errors:
        raise EngineError(
            "bucket %s: %d objects could not be deleted (first: %s %s: %s)"
            % (name, len(errors), errors[0].get("Key"), errors[0].get("Code"), errors[0].get("Message"))
        )


class BucketPolicy(Kind):
    """The bucket policy that admits only the distribution; compared as parsed, normalised JSON."""

    name = "bucket_policy"
    create_only = ("bucket",)
    updatable = ("policy",)

    def read(self, ctx):
        if ctx.state(AssetsState).bucket_state != "ours":
            return []
        name = ctx.state(AssetsState).bucket
        answer = ctx.optional("s3", "get_bucket_policy", ("NoSuchBucketPolicy",), Bucket=name)
        if not answer or not answer.get("Policy"):
            return []
        return [Current(POLICY_KEY, name, {"bucket": name, "policy": json.loads(answer["Policy"])}, {}, answer)]

    def equal(self, field, before, after):
        if contains_unknown(after):
            return False
        if field == "policy":
            return normalise_policy(before) == normalise_policy(after)
        return before == after

    def create(self, ctx, key, fields, tags):
        self.put(ctx, fields)
        return fields["bucket"]

    def update(self, ctx, current, fields, changed):
        self.put(ctx, fields)

    def put(self, ctx, fields):
        ctx.call("s3", "put_bucket_policy", Bucket=fields["bucket"], Policy=json.dumps(fields["policy"]))

    def set_tags(self, ctx, current, add, remove):
        """A bucket policy has no tags of its own (the bucket has)."""

    def delete(self, ctx, current):
        ctx.call("s3", "delete_bucket_policy", Bucket=current.id)


class Asset(Kind):
    """One object uploaded from ``source``.  Only the files of the folder are read (every object with
    ``delete_stale``, so the others are deleted).  A listing gives ETag and size, not headers, so Content-Type
    and Cache-Control are compared only when an object is uploaded anyway (see the module's notes)."""

    name = "asset"
    updatable = ("etag", "size", "content_type", "cache_control")

    def __init__(self, files=None, delete_stale=False):
        self.files = files  # key -> {path, size, md5, content_type}; None: the layer manages no objects
        self.delete_stale = delete_stale
        self.doomed = []

    def read(self, ctx):
        if self.files is None or ctx.state(AssetsState).bucket_state != "ours":
            return []
        name = ctx.state(AssetsState).bucket
        found = []
        for item in ctx.paginate("s3", "list_objects_v2", "Contents", Bucket=name, MaxKeys=1000):
            if item["Key"] in self.files or self.delete_stale:
                fields = {"etag": (item.get("ETag") or "").strip('"'), "size": item.get("Size")}
                found.append(Current(item["Key"], item["Key"], fields, {}, item))
        return found

    def equal(self, field, before, after):
        if field in ("content_type", "cache_control") and before is None:
            return True  # not in a listing: set at every upload, see the class docstring
        return before == after

    def create(self, ctx, key, fields, tags):
        self.upload(ctx, key)
        return key

    def update(self, ctx, current, fields, changed):
        self.upload(ctx, current.key)

    def upload(self, ctx, key):
        item = self.files[key]
        with open(item["path"], "rb") as handle:
            ctx.call(
                "s3",
                "put_object",
                Bucket=ctx.state(AssetsState).bucket,
                Key=key,
                Body=handle,
                ContentType=item["content_type"],
                CacheControl=item["cache_control"],
                ContentMD5=base64.b64encode(bytes.fromhex(item["md5"])).decode("ascii"),
                Metadata={MD5_METADATA: item["md5"]},
            )
        ctx.state(AssetsState).uploaded.append(key)

    def set_tags(self, ctx, current, add, remove):
        """Objects are not tagged (their bucket is)."""

    def delete(self, ctx, current):
        self.doomed.append(current.key)  # deleted in batches by wait_deleted

    def wait_deleted(self, ctx, ids):
        name = ctx.state(AssetsState).bucket
        doomed, self.doomed = self.doomed, []
        for start in range(0, len(doomed), DELETE_BATCH):
            delete_objects(ctx, name, [{"Key": key} for key in doomed[start : start + DELETE_BATCH]])
        ctx.state(AssetsState).deleted.extend(doomed)
