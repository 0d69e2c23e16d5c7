#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: static_assets
short_description: The static assets of a webstack environment - a private S3 bucket behind CloudFront
version_added: 0.2.0
description:
  - Converges the static assets layer of one environment in one task - a private S3 bucket, an Origin Access
    Control, a CloudFront distribution that reads the bucket through it, and the bucket policy that admits only
    that distribution. Optionally uploads a local folder to the bucket and invalidates what changed.
  - The bucket settings are not options, they are always enforced, each read and put back on its own when it
    differs - versioning enabled, default encryption (SSE-S3, or SSE-KMS with O(kms_key_id)), all four public access
    blocks on, object ownership C(BucketOwnerEnforced) (no ACLs), and one lifecycle rule that expires old versions
    after O(noncurrent_version_expiration_days) and aborts incomplete multipart uploads after 7 days.
  - The distribution - one S3 origin (the bucket's regional domain, signed with the Origin Access Control - SigV4,
    always), viewers redirected to HTTPS, methods GET, HEAD and OPTIONS (GET and HEAD cached), compression on,
    HTTP/2 and HTTP/3, IPv6, and the AWS managed cache policy C(CachingOptimized). With O(certificate_arn) it serves
    O(aliases) with that certificate (SNI, minimum TLS C(TLSv1.2_2021)); without it, the C(*.cloudfront.net) name
    with CloudFront's certificate. Its comment is C(webstack <environment> static assets), which is how it is found
    (with its tag C(webstack:environment)). Settings the module does not manage (logging, geo restrictions, error
    pages) are kept as they are.
  - Updates are GetDistributionConfig and UpdateDistribution with the ETag. With O(wait) the module waits until
    the distribution is C(Deployed) after a create or an update (it takes minutes on AWS; run it with C(async)).
  - O(state=absent) deletes the bucket policy, then disables the distribution, waits until it is deployed and
    deletes it, then the Origin Access Control, then the bucket. A bucket that still holds anything (any object
    version or delete marker) stops this before any change (in check mode too) unless O(force=true).
  - Reads - one STS GetCallerIdentity (only without O(bucket)), GetBucketTagging, GetBucketVersioning,
    GetBucketEncryption, GetPublicAccessBlock, GetBucketOwnershipControls, GetBucketLifecycleConfiguration,
    GetBucketPolicy, ListOriginAccessControls, ListDistributions, ListTagsForResource and GetDistributionConfig for
    the environment's distribution, and with O(source) one ListObjectsV2 per 1000 objects.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  bucket:
    description:
      - The bucket's name. Defaults to C(<environment>-assets-<account id>).
      - Checked against the S3 naming rules before any AWS call - 3 to 63 lowercase letters, digits, dots and
        hyphens, starting and ending with a letter or digit, no C(..), not an IP address, not starting with
        C(xn--) or C(sthree-), not ending with C(-s3alias) or C(--ol-s3).
      - A bucket of that name that exists but is not tagged C(webstack:environment=<environment>) is not adopted -
        the module fails and says so.
      - Give the same name with O(state=absent). Changing it makes a new bucket and points the distribution at it;
        the old bucket is left as it is.
    type: str
  kms_key_id:
    description:
      - A KMS key (id, ARN or alias) for default encryption (SSE-KMS with an S3 bucket key). Left out, SSE-S3
        (AES256).
      - The distribution's Origin Access Control must be allowed to decrypt with the key (the key policy is not
        managed here).
    type: str
  noncurrent_version_expiration_days:
    description: Days after which an overwritten or deleted object version is expired (1 to 3650).
    type: int
    default: 30
  aliases:
    description:
      - Domain names the distribution serves (like C(cdn.example.com)); needs O(certificate_arn) covering them.
      - The first one is the result's C(url).
    type: list
    elements: str
    default: []
  certificate_arn:
    description:
      - An ACM certificate in C(us-east-1) (the certificate module's C(arn)) for O(aliases). Required with
        O(aliases), except in check mode, where it may be null (a certificate planned in the same run); the plan
        then shows it as known after apply.
    type: str
  default_root_object:
    description: The object served for C(/) (no leading C(/)); an empty string for none.
    type: str
    default: index.html
  price_class:
    description: Which edge locations serve the distribution.
    type: str
    choices: [PriceClass_100, PriceClass_200, PriceClass_All]
    default: PriceClass_100
  source:
    description:
      - A folder on the host the module runs on (normally the controller, with a local connection) to upload to
        the bucket. Each file's key is its path relative to the folder (with C(/)).
      - Only files whose content differs from the object are uploaded - the MD5 of the file is compared with the
        object's ETag from ListObjectsV2 (one call per 1000 keys). An object uploaded in parts by another tool has
        an ETag of the form C(<md5 of part md5s>-<parts>); it is recomputed for the usual part sizes (5, 8, 15, 16
        and 64 MiB) and the file is uploaded again only when none matches. With SSE-KMS the ETag is not an MD5;
        a same-size object is then compared by the MD5 this module stores in its metadata (one HeadObject each).
      - Content-Type comes from the file extension (with fixed values for C(.js), C(.css), C(.svg), C(.woff2),
        C(.json), C(.wasm) and other web types; C(; charset=utf-8) for text), C(application/octet-stream) when
        unknown.
      - Left out, the objects in the bucket are left alone.
    type: path
  cache_control:
    description:
      - The C(Cache-Control) header of uploaded objects. A short default, since file names are not assumed to
        carry a content hash; for fingerprinted assets use C(public, max-age=31536000, immutable).
      - A listing does not return headers, so changing this re-uploads nothing by itself - only files uploaded
        for another reason get the new value.
    type: str
    default: public, max-age=300
  delete_stale:
    description: With O(source), delete objects whose key is not a file of the folder (1000 per DeleteObjects).
    type: bool
    default: false
  invalidate:
    description:
      - When objects were uploaded or deleted and the distribution existed before the run, create one
        invalidation for their paths (C(/*) when there are more than 15; C(/) too when the root object changed).
    type: bool
    default: true
  force:
    description:
      - With O(state=absent), delete every object version and delete marker (1000 per DeleteObjects call) before
        deleting the bucket. Without it, a bucket that holds anything is not deleted and nothing is changed.
    type: bool
    default: false
  allow_replacement:
    description:
      - Allow changes that delete a resource and create it again. No setting of this layer needs it today; kept
        for the same interface as the other layer modules.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Returns the exact plan (and the keys that would be uploaded) without changing or uploading anything.
  idempotent:
    description:
      - A second run with the same options (and the same folder) reports no change and makes no mutating AWS call.
notes:
  - The Origin Access Control cannot be tagged; it is known by its name C(<environment>-assets). The bucket policy and
    objects are not tagged either (the bucket is).
  - The bucket policy names the distribution's ARN, so it is put after the distribution is made; on the first run
    the distribution may read nothing for a moment.
"""

EXAMPLES = r"""
- name: The static assets of an environment on the cloudfront.net name
  webstack.aws.static_assets:
    environment: shop-prod

- name: On cdn.example.com, with the site's build uploaded and stale files deleted
  webstack.aws.static_assets:
    environment: shop-prod
    aliases: [cdn.example.com]
    certificate_arn: "{{ cdn_certificate.certificate.arn }}"
    source: "{{ playbook_dir }}/../frontend/dist"
    cache_control: public, max-age=31536000, immutable
    delete_stale: true
    noncurrent_version_expiration_days: 14
  async: 1800
  poll: 15

- name: Delete everything, objects included
  webstack.aws.static_assets:
    environment: shop-prod
    state: absent
    force: true
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) changed, uploads included.
  returned: always
  type: bool
plan:
  description:
    - The changes, in the order they are applied. Check mode returns the same plan without applying it.
    - Values known only after apply (the id of a distribution still to be created) read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: V(bucket), V(origin_access_control), V(distribution), V(bucket_policy) or V(asset) (an object).
      type: str
      sample: distribution
    key:
      description: V(bucket), V(origin_access_control), V(distribution), V(bucket_policy), or the object key.
      type: str
      sample: css/site.css
    id:
      description: The bucket name, the OAC id, the distribution ARN, or the object key; null for a create.
      type: str
    fields:
      description: Field name to C(before) and C(after).
      type: dict
    replace_reasons:
      description: For a V(replace), the create-only fields whose change forces it.
      type: list
      elements: str
      returned: when action is replace
applied:
  description: What was done, in order; empty in check mode and when nothing had to change.
  returned: always
  type: list
  elements: str
  sample: ["create bucket bucket", "create origin_access_control origin_access_control"]
static_assets:
  description:
    - The static assets, as converged (ids are null in check mode for resources not created yet).
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    bucket:
      description: The bucket's name.
      type: str
      sample: shop-prod-assets-123456789012
    bucket_arn:
      description: The bucket's ARN.
      type: str
      sample: arn:aws:s3:::shop-prod-assets-123456789012
    bucket_domain:
      description: The bucket's regional domain name (the distribution's origin).
      type: str
      sample: shop-prod-assets-123456789012.s3.us-east-1.amazonaws.com
    distribution_id:
      description: The distribution's id.
      type: str
      sample: E2QWRUHAPOMQZL
    distribution_arn:
      description: The distribution's ARN.
      type: str
      sample: arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL
    distribution_domain:
      description: The distribution's domain name (for a DNS alias or CNAME).
      type: str
      sample: d111111abcdef8.cloudfront.net
    url:
      description: C(https://) and the first alias, or the distribution's domain name without aliases.
      type: str
      sample: https://cdn.example.com
    origin_access_control_id:
      description: The Origin Access Control's id.
      type: str
      sample: E1ABCDEFGHIJKL
    status:
      description: The distribution's status, V(Deployed) or V(InProgress) (after a change with O(wait=false)).
      type: str
      sample: Deployed
    uploaded:
      description: The keys uploaded (in check mode, that would be uploaded), sorted.
      type: list
      elements: str
      sample: ["css/site.css", "index.html"]
    deleted:
      description: The keys deleted (would be, in check mode) by O(delete_stale), sorted.
      type: list
      elements: str
      sample: ["js/old.js"]
    invalidation_id:
      description: The invalidation made for the uploaded and deleted keys; null when none was made.
      type: str
      sample: I2J0I21PCUYOIK
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.static_assets import StaticAssetsLayer, argument_spec


def main():
    run_layer(StaticAssetsLayer(), argument_spec())


if __name__ == "__main__":
    main()
