"""CloudFront kinds (``_kinds/cloudfront.py``): the OAC-tolerant origin compare, invalidation paths, and with
botocore's Stubber the paths moto cannot produce: a distribution whose answer carries OriginAccessControlId
(moto drops it), one that is InProgress before it is Deployed, and a delete that disables first."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._kinds.cloudfront import (
    Distribution,
    DistributionState,
    apply_fields,
    distribution_fields,
    invalidation_paths,
    origin_equal,
)

ARN = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"


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
    assert ctx.state(DistributionState).status[ARN] == "Deployed"


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
