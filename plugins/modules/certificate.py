#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate
short_description: The certificate layer of a webstack environment (ACM certificate validated by DNS)
version_added: 0.1.0
description:
  - Requests an ACM certificate for O(domain_name) and O(subject_alternative_names) with DNS validation (with an
    C(IdempotencyToken) and the environment's tags), puts the validation CNAME records into the Route 53 hosted
    zone in one change batch, and waits until the certificate is C(ISSUED).
  - The zone is O(hosted_zone_id), or else the public zone with the longest name that O(domain_name) lies in.
    Every name must lie in that zone. Create the zone first (M(webstack.aws.dns) with just the domain).
  - A certificate of this environment with the same domain, names and key algorithm that is C(ISSUED) or
    C(PENDING_VALIDATION) is reused, so a run never requests a second one. Missing validation records are put
    back.
  - Other names (or key algorithm) mean a new certificate - a replacement, refused unless
    O(allow_replacement=true). The old certificate is deleted only after the new one is issued, and is kept
    (and reported in RV(certificate.retained)) while a load balancer still uses it; a later run deletes it once
    it is free.
  - The validation records the module created are tracked with an ownership TXT record
    C(_webstack-owner.<record name>) (see M(webstack.aws.dns)). O(state=absent) deletes them (except one that
    another certificate in the account still validates with), then the certificate.
  - "Read cost: one ListCertificates (all key types), one ListTagsForCertificate per certificate whose domain lies
    in the hosted zone (ACM has no tag filter and no batch tag read), one DescribeCertificate per certificate of
    this environment, the zone lookup (one ListHostedZones, or one GetHostedZone with O(hosted_zone_id)) and one
    paginated ListResourceRecordSets."
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  domain_name:
    description:
      - The certificate's main name, for example C(api.example.com) or C(*.example.com). At most 64 characters
        (it goes in the certificate's subject). Required when O(state=present).
      - Create-only - changing it replaces the certificate.
    type: str
  subject_alternative_names:
    description:
      - More names on the certificate. A wildcard must be the whole leftmost label (C(*.example.com)).
      - Together with O(domain_name) at most O(domain_name_quota) names. Create-only.
    type: list
    elements: str
    default: []
    aliases: [sans]
  hosted_zone_id:
    description: The public hosted zone for the validation records. Found from O(domain_name) when omitted.
    type: str
  key_algorithm:
    description: The key algorithm. Create-only.
    type: str
    default: RSA_2048
    choices: [RSA_1024, RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1]
  domain_name_quota:
    description:
      - How many names (O(domain_name) and O(subject_alternative_names)) one certificate may hold - ACM's quota,
        10 unless raised for the account in Service Quotas. Checked before any AWS call.
    type: int
    default: 10
  allow_replacement:
    description:
      - Allow a new certificate when the names or the key algorithm change (or the current one is no longer
        usable - expired, revoked, failed). Without it such a change fails before anything is touched.
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
    description:
      - Returns the exact plan without changing anything.
      - The validation records of a certificate still to be requested read C((known after apply)).
notes:
  - For CloudFront the certificate must be in C(us-east-1).
"""

EXAMPLES = r"""
- name: A certificate for the api and the CDN names, validated in the example.com zone
  webstack.aws.certificate:
    environment: shop-prod
    domain_name: api.example.com
    subject_alternative_names: [cdn.example.com, shop-prod.example.com]
  register: cert

- name: A wildcard certificate, validation records in a given zone, without waiting
  webstack.aws.certificate:
    environment: shop-dev
    domain_name: "*.dev.example.com"
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    wait: false

- name: Delete the certificate and its validation records
  webstack.aws.certificate:
    environment: shop-prod
    domain_name: api.example.com
    state: absent
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) changed.
  returned: always
  type: bool
plan:
  description: The changes, in the order they are applied. Check mode returns the same plan without applying it.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: create
    kind:
      description: V(certificate).
      type: str
      sample: certificate
    key:
      description: V(certificate), or C(retired-<id>) for an older certificate of the environment being deleted.
      type: str
      sample: certificate
    id:
      description: The certificate's ARN; null for a create.
      type: str
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"subject_alternative_names": {"before": [], "after": ["www.example.com"]}}
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
  sample: ["create certificate certificate"]
certificate:
  description: The certificate, as converged (null ARN in check mode before it exists). Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    arn:
      description: The certificate's ARN (for the load balancer's HTTPS listener).
      type: str
      sample: arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000
    status:
      description: C(ISSUED), or C(PENDING_VALIDATION) when O(wait=false).
      type: str
      sample: ISSUED
    domain_name:
      description: The main name.
      type: str
      sample: api.example.com
    subject_alternative_names:
      description: The other names, sorted.
      type: list
      elements: str
      sample: [cdn.example.com]
    hosted_zone_id:
      description: The zone holding the validation records.
      type: str
      sample: Z0123456789ABCDEFGHIJ
    validation_records:
      description: The DNS validation records (C(name), C(type), C(value)), one per distinct record.
      type: list
      elements: dict
      sample: [{"name": "_3f2a.api.example.com", "type": "CNAME", "value": "_9c1b.acm-validations.aws"}]
    pending:
      description: The names not validated yet, with their validation status.
      type: list
      elements: str
      sample: []
    retained:
      description: Replaced certificates kept because something still uses them (C(arn), C(in_use_by)).
      type: list
      elements: dict
      sample: []
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.certificate import CertificateLayer, argument_spec


def main():
    run_layer(CertificateLayer(), argument_spec())


if __name__ == "__main__":
    main()
