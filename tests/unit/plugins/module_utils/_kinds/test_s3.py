"""S3 kinds (``_kinds/s3.py``): bucket names, content types, the bucket policy compare, ETags, lifecycle and
encryption, and with botocore's Stubber a bucket with versions refusing a delete (no AWS)."""

from __future__ import annotations

import hashlib

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._kinds import s3

ARN = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"


@pytest.mark.parametrize("name", ["abc", "shop-prod-assets-123456789012", "my.assets.bucket", "a" * 63, "1-2"])
def test_good_bucket_names(name):
    assert s3.bucket_name_problem(name) is None


def test_content_types():
    assert s3.content_type("a/b/site.css") == "text/css; charset=utf-8"
    assert s3.content_type("app.JS") == "text/javascript; charset=utf-8"
    assert s3.content_type("logo.svg") == "image/svg+xml; charset=utf-8"
    assert s3.content_type("font.woff2") == "font/woff2"
    assert s3.content_type("data.json") == "application/json; charset=utf-8"
    assert s3.content_type("mod.wasm") == "application/wasm"
    assert s3.content_type("logo.png") == "image/png"
    assert s3.content_type("blob.unknownext") == "application/octet-stream"
    assert s3.content_type("noextension") == "application/octet-stream"


def test_policy_compare_is_on_parsed_normalised_json():
    ours = s3.assets_policy("b", ARN)
    text = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["cloudfront.amazonaws.com"]},'
        '"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Sid":"other",'
        '"Condition":{"StringEquals":{"AWS:SourceArn":["%s"]}}}]}' % ARN
    )
    assert s3.normalise_policy(text) == s3.normalise_policy(ours)
    kind = s3.BucketPolicy()
    assert kind.equal("policy", text, ours)
    assert not kind.equal("policy", text, s3.assets_policy("b", ARN.replace("E2Q", "E3Q")))
    assert not kind.equal("policy", text, s3.assets_policy("b", Unknown("distribution")))


def test_etags(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * (4096 * 36)  # 36 MiB: 5 parts of 8 MiB
    path.write_bytes(data)
    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag scheme
    assert s3.file_md5(str(path)) == md5
    multipart = s3.multipart_etag(str(path), 8 * 1024 * 1024)
    assert multipart.endswith("-5")
    assert s3.expected_etag(str(path), len(data), md5, multipart) == multipart  # same bytes, uploaded in parts
    assert s3.expected_etag(str(path), len(data), md5, "0" * 32 + "-5") == md5  # different: upload again
    assert s3.expected_etag(str(path), len(data), md5, md5) == md5
    assert s3.expected_etag(str(path), len(data), md5, None) == md5


def test_lifecycle_and_encryption_round_trip():
    rules = s3.lifecycle_setting(45)
    assert s3.read_lifecycle(s3.lifecycle_params(rules)["Rules"]) == rules
    extra = s3.lifecycle_params(rules)["Rules"] + [{"ID": "by-hand", "Status": "Enabled", "Filter": {"Prefix": "x/"}}]
    assert s3.read_lifecycle(extra) != rules
    for key in (None, "alias/assets"):
        setting = s3.encryption_setting(key)
        answer = {"ServerSideEncryptionConfiguration": s3.encryption_params(setting)}
        assert s3.read_encryption(answer) == setting


# -- Stubber: what the emulator cannot do ---------------------------------------------------------------
def client(service):
    session = botocore.session.get_session()
    return session.create_client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy key; the Stubber answers every call
    )


def test_stubber_bucket_with_versions_refuses_delete_without_force():
    s3client = client("s3")
    stub = Stubber(s3client)
    stub.add_response(
        "list_object_versions",
        {"DeleteMarkers": [{"Key": "a", "VersionId": "v2", "IsLatest": True}], "IsTruncated": False},
        {"Bucket": "b", "MaxKeys": 1},
    )
    ctx = Context("sat", "static_assets", clients={"s3": s3client})
    current = type("C", (), {"id": "b", "key": "bucket"})()
    with stub, pytest.raises(EngineError) as exc:
        s3.Bucket("b").check_delete(ctx, current)
    assert "force=true" in str(exc.value)


def test_stubber_access_denied_on_a_bucket_setting_propagates_not_read_as_not_configured():
    """The one not-found idiom (``ctx.optional``): NoSuch... means "not configured", AccessDenied fails the run."""
    s3client = client("s3")
    ctx = Context("shop", "static_assets", clients={"s3": s3client})
    with Stubber(s3client) as stub:
        stub.add_response(
            "get_bucket_tagging",
            {
                "TagSet": [
                    {"Key": "webstack:environment", "Value": "shop"},
                    {"Key": "webstack:layer", "Value": "static_assets"},
                ]
            },
        )
        stub.add_response("get_bucket_versioning", {"Status": "Enabled"})
        stub.add_client_error("get_bucket_encryption", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(botocore.exceptions.ClientError) as err:
            s3.Bucket("shop-assets").read(ctx)
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_stubber_not_configured_setting_is_none():
    s3client = client("s3")
    ctx = Context("shop", "static_assets", clients={"s3": s3client})
    with Stubber(s3client) as stub:
        stub.add_client_error("get_bucket_policy", service_error_code="NoSuchBucketPolicy", http_status_code=404)
        assert ctx.optional("s3", "get_bucket_policy", ("NoSuchBucketPolicy",), Bucket="b") is None
        stub.add_client_error("get_bucket_policy", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(botocore.exceptions.ClientError):
            ctx.optional("s3", "get_bucket_policy", ("NoSuchBucketPolicy",), Bucket="b")
