"""The certificate layer (``_layers/certificate.py``): validation (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers import certificate


def cert_params(**kw):
    params = dict(
        environment="blue",
        state="present",
        domain_name="api.example.com",
        subject_alternative_names=[],
        hosted_zone_id=None,
        key_algorithm="RSA_2048",
        domain_name_quota=10,
    )
    params.update(kw)
    return params


def test_certificate_validation():
    certificate.validate(cert_params(subject_alternative_names=["api.example.com", "*.example.com"]))
    with pytest.raises(ValidationError, match="exceed ACM's quota of 10"):
        certificate.validate(cert_params(subject_alternative_names=["n%d.example.com" % i for i in range(10)]))
    certificate.validate(
        cert_params(subject_alternative_names=["n%d.example.com" % i for i in range(10)], domain_name_quota=11)
    )
    with pytest.raises(ValidationError, match="listed twice"):
        certificate.validate(cert_params(subject_alternative_names=["a.example.com", "A.example.com"]))
    with pytest.raises(ValidationError, match="domain_name: is required"):
        certificate.validate(cert_params(domain_name=None))
    certificate.validate(cert_params(domain_name=None, state="absent"))
