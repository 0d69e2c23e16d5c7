"""The static_assets layer (``_layers/static_assets.py``): validation of the bucket name and the other options
(no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds import s3
from ansible_collections.webstack.aws.plugins.module_utils._layers.static_assets import StaticAssetsLayer, validate

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "Bad_Name",
        "192.168.1.1",
        "a..b",
        "-abc",
        "abc-",
        "xn--abc",
        "sthree-abc",
        "abc-s3alias",
        "abc--ol-s3",
        "a" * 64,
    ],
)
def test_bad_bucket_names(name):
    assert s3.bucket_name_problem(name)
    with pytest.raises(ValidationError) as exc:
        validate(params(bucket=name))
    assert exc.value.option == "bucket"


def params(**more):
    base = {
        "environment": "sat",
        "state": "present",
        "bucket": None,
        "noncurrent_version_expiration_days": 30,
        "aliases": [],
        "certificate_arn": None,
        "default_root_object": "index.html",
        "cache_control": "public, max-age=300",
        "source": None,
    }
    base.update(more)
    return base


def test_validation_of_the_other_options():
    with pytest.raises(ValidationError) as exc:
        validate(params(aliases=["cdn.example.com"]))
    assert exc.value.option == "certificate_arn"
    with pytest.raises(ValidationError) as exc:
        validate(params(aliases=["cdn.example.com"], certificate_arn=CERT.replace("us-east-1", "eu-west-1")))
    assert exc.value.option == "certificate_arn" and "us-east-1" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        validate(params(aliases=["CDN_example"], certificate_arn=CERT))
    assert exc.value.option == "aliases[0]"
    for days in (0, 3651):
        with pytest.raises(ValidationError) as exc:
            validate(params(noncurrent_version_expiration_days=days))
        assert exc.value.option == "noncurrent_version_expiration_days"
    with pytest.raises(ValidationError) as exc:
        validate(params(default_root_object="/index.html"))
    assert exc.value.option == "default_root_object"
    validate(params(aliases=["cdn.example.com", "*.example.com"], certificate_arn=CERT))


def test_stubber_access_denied_on_head_object_fails_instead_of_a_silent_reupload():
    import botocore.exceptions
    import botocore.session
    from botocore.stub import Stubber

    from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current

    client = botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    )
    ctx = Context("shop", "static_assets", clients={"s3": client})
    ctx.state(s3.AssetsState).bucket = "shop-assets"
    found = Current("a.css", "a.css", {"etag": "x", "size": 3})
    spec = StaticAssetsLayer()
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
        assert spec.stored_md5(ctx, "a.css", {"md5": "m"}, found) is None  # missing: uploaded again
        stub.add_client_error("head_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(botocore.exceptions.ClientError):
            spec.stored_md5(ctx, "a.css", {"md5": "m"}, found)
