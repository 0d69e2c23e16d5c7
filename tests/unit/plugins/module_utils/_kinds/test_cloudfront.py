"""Pure parts of the static assets layer (bucket names, content types, policies, the OAC-tolerant compare,
invalidation paths, ETags), and with botocore's Stubber the paths moto cannot produce: a distribution whose
answer carries OriginAccessControlId (moto drops it), one that is InProgress before it is Deployed, and a
delete that disables first."""

from __future__ import annotations

import hashlib

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds import s3
from ansible_collections.webstack.aws.plugins.module_utils._kinds.cloudfront import (
    Distribution,
    apply_fields,
    distribution_fields,
    invalidation_paths,
    origin_equal,
)
from ansible_collections.webstack.aws.plugins.module_utils._layers.static_assets import validate

ARN = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"
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


@pytest.mark.parametrize("name", ["abc", "shop-prod-assets-123456789012", "my.assets.bucket", "a" * 63, "1-2"])
def test_good_bucket_names(name):
    assert s3.bucket_name_problem(name) is None


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


def origin(oac="OAC1", drop=False):
    item = {"Id": "s3-b", "DomainName": "b.s3.us-east-1.amazonaws.com", "OriginPath": ""}
    if not drop:
        item["OriginAccessControlId"] = oac
    return {"Origins": {"Quantity": 1, "Items": [item]}}


def test_origin_compare_tolerates_a_dropped_oac_id_only():
    want = {
        "id": "s3-b",
        "domain_name": "b.s3.us-east-1.amazonaws.com",
        "origin_path": "",
        "origin_access_control_id": "OAC1",
    }
    moto_like = distribution_fields(origin(drop=True))["origin"]
    assert "origin_access_control_id" not in moto_like
    assert origin_equal(moto_like, want)  # moto drops the field: compare the rest
    assert origin_equal(moto_like, dict(want, origin_access_control_id=Unknown("oac")))
    assert not origin_equal(moto_like, dict(want, domain_name="c.s3.us-east-1.amazonaws.com"))
    aws_like = distribution_fields(origin())["origin"]
    assert origin_equal(aws_like, want)
    assert not origin_equal(distribution_fields(origin(oac=""))["origin"], want)  # AWS: no OAC -> a change
    assert not origin_equal(distribution_fields(origin(oac="OAC2"))["origin"], want)
    assert not origin_equal(aws_like, dict(want, origin_access_control_id=Unknown("oac")))
    assert not origin_equal(None, want)


def test_invalidation_paths():
    assert invalidation_paths(["css/a b.css", "index.html"], "index.html") == ["/", "/css/a%20b.css", "/index.html"]
    assert invalidation_paths(["k%d" % i for i in range(16)]) == ["/*"]
    assert len(invalidation_paths(["k%d" % i for i in range(15)])) == 15


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


def fields(oac="OAC1"):
    return {
        "comment": "webstack sat static assets",
        "enabled": True,
        "aliases": ["cdn.example.com"],
        "viewer_certificate": {
            "acm_certificate_arn": CERT,
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": "TLSv1.2_2021",
        },
        "default_root_object": "index.html",
        "price_class": "PriceClass_100",
        "http_version": "http2and3",
        "ipv6": True,
        "origin": {
            "id": "s3-b",
            "domain_name": "b.s3.us-east-1.amazonaws.com",
            "origin_path": "",
            "origin_access_control_id": oac,
        },
        "cache_behavior": {
            "target_origin_id": "s3-b",
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD", "OPTIONS"],
            "cached_methods": ["GET", "HEAD"],
            "compress": True,
            "cache_policy_id": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }


def aws_config(enabled=True, oac="OAC1"):
    config = apply_fields({"CallerReference": "ref"}, fields(oac))
    config["Enabled"] = enabled
    return config


def summary(status):
    return {
        "Id": "E2QWRUHAPOMQZL",
        "ARN": ARN,
        "Status": status,
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        "InProgressInvalidationBatches": 0,
        "DomainName": "d111111abcdef8.cloudfront.net",
        "ActiveTrustedSigners": {"Enabled": False, "Quantity": 0},
        "DistributionConfig": aws_config(),
    }


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def context(cf, layer="static_assets"):
    clock = Clock()
    return Context("sat", layer, clients={"cloudfront": cf}, sleep=clock.sleep, clock=clock, wait_timeout=120)


def test_stubber_distribution_with_oac_id_is_read_and_compared():
    cf = client("cloudfront")
    stub = Stubber(cf)
    listed = dict(summary("Deployed"), **aws_config())
    for key in ("DistributionConfig", "CallerReference", "DefaultRootObject", "Logging"):
        listed.pop(key, None)
    for key in ("InProgressInvalidationBatches", "ActiveTrustedSigners"):
        listed.pop(key)
    listed.update(
        CacheBehaviors={"Quantity": 0},
        CustomErrorResponses={"Quantity": 0},
        Restrictions={"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        WebACLId="",
        Staging=False,
    )
    stub.add_response(
        "list_distributions",
        {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 1, "Items": [listed]}},
        {"MaxItems": "100"},
    )
    tags = [{"Key": "webstack:environment", "Value": "sat"}, {"Key": "webstack:layer", "Value": "static_assets"}]
    stub.add_response("list_tags_for_resource", {"Tags": {"Items": tags}}, {"Resource": ARN})
    stub.add_response(
        "get_distribution_config", {"DistributionConfig": aws_config(), "ETag": "E1"}, {"Id": "E2QWRUHAPOMQZL"}
    )
    with stub:
        (found,) = Distribution().read(context(cf))
    stub.assert_no_pending_responses()
    assert found.id == ARN and found.fields["origin"]["origin_access_control_id"] == "OAC1"
    kind = Distribution()
    assert all(kind.equal(f, found.fields[f], v) for f, v in fields().items())
    assert not kind.equal("origin", found.fields["origin"], fields("OAC2")["origin"])  # AWS returns it: compared


def test_stubber_update_waits_until_deployed():
    cf = client("cloudfront")
    stub = Stubber(cf)
    stub.add_response(
        "get_distribution_config", {"DistributionConfig": aws_config(), "ETag": "E1"}, {"Id": "E2QWRUHAPOMQZL"}
    )
    stub.add_response(
        "update_distribution",
        {"Distribution": summary("InProgress"), "ETag": "E2"},
        {"Id": "E2QWRUHAPOMQZL", "IfMatch": "E1", "DistributionConfig": ANY},
    )
    for status in ("InProgress", "InProgress", "Deployed"):
        stub.add_response("get_distribution", {"Distribution": summary(status), "ETag": "E2"}, {"Id": "E2QWRUHAPOMQZL"})
    ctx = context(cf)
    current = type("C", (), {"id": ARN, "key": "distribution"})()
    with stub:
        Distribution().update(ctx, current, fields(), ["price_class"])
    stub.assert_no_pending_responses()
    assert ctx.shared["distribution_status"][ARN] == "Deployed"


def test_stubber_wait_times_out_naming_the_distribution():
    cf = client("cloudfront")
    stub = Stubber(cf)
    for attempt in range(40):  # noqa: B007 - each attempt answers the same
        stub.add_response(
            "get_distribution", {"Distribution": summary("InProgress"), "ETag": "E2"}, {"Id": "E2QWRUHAPOMQZL"}
        )
    ctx = context(cf)
    with stub, pytest.raises(EngineError) as exc:
        Distribution().wait_created(ctx, [ARN])
    assert "E2QWRUHAPOMQZL (InProgress)" in str(exc.value) and "wait_timeout" in str(exc.value)


def test_stubber_delete_disables_waits_then_deletes_with_the_new_etag():
    cf = client("cloudfront")
    stub = Stubber(cf)
    stub.add_response(
        "get_distribution_config", {"DistributionConfig": aws_config(), "ETag": "E1"}, {"Id": "E2QWRUHAPOMQZL"}
    )
    stub.add_response(
        "update_distribution",
        {"Distribution": summary("InProgress"), "ETag": "E2"},
        {"Id": "E2QWRUHAPOMQZL", "IfMatch": "E1", "DistributionConfig": aws_config(enabled=False)},
    )
    stub.add_response(
        "get_distribution", {"Distribution": summary("InProgress"), "ETag": "E2"}, {"Id": "E2QWRUHAPOMQZL"}
    )
    stub.add_response("get_distribution", {"Distribution": summary("Deployed"), "ETag": "E2"}, {"Id": "E2QWRUHAPOMQZL"})
    stub.add_response("delete_distribution", {}, {"Id": "E2QWRUHAPOMQZL", "IfMatch": "E2"})
    current = type("C", (), {"id": ARN, "key": "distribution"})()
    with stub:
        Distribution().delete(context(cf), current)
    stub.assert_no_pending_responses()


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
