"""webstack.aws.static_assets through ansible-playbook on the emulator."""

from __future__ import annotations

import json

import boto3
import pytest
from helpers import failing_case, quartet, run_task

ENV = "sat"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def client(emulator, service):
    return boto3.client(
        service,
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )


@pytest.fixture(scope="module")
def certificate(emulator):
    acm = client(emulator, "acm")
    yield acm.request_certificate(DomainName="cdn.sat.example.com")["CertificateArn"]
    run_task(emulator, "static_assets", {"environment": ENV, "state": "absent", "force": True})


def mutating(run):
    return dict(
        (k, v) for k, v in run.calls["by_action"].items() if not k.split(":", 1)[-1].startswith(("Get", "List", "Head"))
    )


def site(root, version="1"):
    (root / "css").mkdir(parents=True, exist_ok=True)
    (root / "js" / "lib").mkdir(parents=True, exist_ok=True)
    (root / "img").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text("<html><body>v%s</body></html>" % version)
    (root / "css" / "site.css").write_text("body { color: red; }")
    (root / "js" / "app.js").write_text("console.log('app');")
    (root / "js" / "lib" / "util.js").write_text("export const x = 1;")
    (root / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "img" / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / "data.bin").write_bytes(b"\x00\x01\x02")
    return root


def test_create_update_upload_drift_and_delete(emulator, certificate, tmp_path):
    s3 = client(emulator, "s3")
    cf = client(emulator, "cloudfront")
    account = client(emulator, "sts").get_caller_identity()["Account"]
    bucket = "sat-assets-%s" % account
    args = {
        "environment": ENV,
        "aliases": ["cdn.sat.example.com"],
        "certificate_arn": certificate,
        "tags": {"team": "web"},
    }

    # -- create ----------------------------------------------------------------------------------------
    runs = quartet(emulator, "static_assets", args)
    assert runs.first_check.actions() == [
        ("create", "bucket", "bucket"),
        ("create", "origin_access_control", "origin_access_control"),
        ("create", "distribution", "distribution"),
        ("create", "bucket_policy", "bucket_policy"),
    ]
    assert runs.first_check.result["diff"]["after"]["distribution distribution"]["price_class"] == "PriceClass_100"
    out = runs.apply.result["static_assets"]
    assert out["bucket"] == bucket and out["bucket_arn"] == "arn:aws:s3:::%s" % bucket
    assert out["bucket_domain"] == "%s.s3.us-east-1.amazonaws.com" % bucket
    assert out["url"] == "https://cdn.sat.example.com" and out["status"] == "Deployed"
    assert out["uploaded"] == [] and out["deleted"] == [] and out["invalidation_id"] is None
    dist = cf.get_distribution(Id=out["distribution_id"])["Distribution"]
    assert dist["ARN"] == out["distribution_arn"] and dist["DomainName"] == out["distribution_domain"]
    config = dist["DistributionConfig"]
    assert config["Comment"] == "webstack sat static assets" and config["Enabled"] is True
    assert config["Aliases"]["Items"] == ["cdn.sat.example.com"]
    assert config["ViewerCertificate"]["ACMCertificateArn"] == certificate
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["DefaultRootObject"] == "index.html" and config["HttpVersion"] == "http2and3"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == CACHING_OPTIMIZED and behavior["Compress"] is True
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Origins"]["Items"][0]["DomainName"] == out["bucket_domain"]
    tags = dict((t["Key"], t["Value"]) for t in cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"])
    assert tags["webstack:environment"] == ENV and tags["webstack:layer"] == "static_assets" and tags["team"] == "web"
    (oac,) = [
        o for o in cf.list_origin_access_controls()["OriginAccessControlList"]["Items"] if o["Name"] == "sat-assets"
    ]
    assert oac["Id"] == out["origin_access_control_id"]
    assert (oac["SigningProtocol"], oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == (
        "sigv4",
        "always",
        "s3",
    )
    # the bucket: private, versioned, encrypted, owner-enforced, lifecycle
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]
    assert ownership["ObjectOwnership"] == "BucketOwnerEnforced"
    (life,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert life["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert life["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    bucket_tags = dict((t["Key"], t["Value"]) for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
    assert bucket_tags["webstack:environment"] == ENV and bucket_tags["team"] == "web"
    # the policy admits only the distribution
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] in ("s3:GetObject", ["s3:GetObject"])
    assert statement["Resource"] in ("arn:aws:s3:::%s/*" % bucket, ["arn:aws:s3:::%s/*" % bucket])
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": out["distribution_arn"]}}
    print(
        "no-op apply without source: %s calls, %s mutating" % (runs.again.calls["total"], runs.again.calls["mutating"])
    )

    # -- update -----------------------------------------------------------------------------------------
    changed = dict(
        args,
        price_class="PriceClass_All",
        default_root_object="home.html",
        noncurrent_version_expiration_days=60,
        tags={"team": "frontend"},
    )
    runs = quartet(emulator, "static_assets", changed)
    assert runs.first_check.actions() == [("update", "bucket", "bucket"), ("update", "distribution", "distribution")]
    dist_change = runs.first_check.plan[1]["fields"]
    assert sorted(dist_change) == ["default_root_object", "price_class", "tags"]
    assert sorted(runs.first_check.plan[0]["fields"]) == ["lifecycle", "tags"]
    config = cf.get_distribution_config(Id=out["distribution_id"])["DistributionConfig"]
    assert (config["PriceClass"], config["DefaultRootObject"]) == ("PriceClass_All", "home.html")
    (life,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert life["NoncurrentVersionExpiration"]["NoncurrentDays"] == 60
    assert runs.apply.calls["by_action"].get("cloudfront:UpdateDistribution") == 1
    bucket_tags = dict((t["Key"], t["Value"]) for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
    assert bucket_tags["team"] == "frontend"
    args = changed

    # -- upload a folder --------------------------------------------------------------------------------
    root = site(tmp_path / "site")
    upload = dict(args, source=str(root))
    check = run_task(emulator, "static_assets", upload, check=True, diff=True)
    keys = ["css/site.css", "data.bin", "img/icon.svg", "img/logo.png", "index.html", "js/app.js", "js/lib/util.js"]
    assert check.changed and check.result["static_assets"]["uploaded"] == keys
    assert check.calls["mutating"] == 0 and s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert sorted(k.split(" ", 1)[1] for k in check.result["diff"]["after"]) == keys
    first = run_task(emulator, "static_assets", upload)
    assert first.result["static_assets"]["uploaded"] == keys
    assert first.calls["by_action"]["s3:PutObject"] == len(keys)
    assert first.result["static_assets"]["invalidation_id"]
    invalidation = cf.get_invalidation(
        DistributionId=out["distribution_id"], Id=first.result["static_assets"]["invalidation_id"]
    )
    assert sorted(invalidation["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]) == sorted("/" + k for k in keys)
    types = dict((k, s3.head_object(Bucket=bucket, Key=k)["ContentType"]) for k in keys)
    assert types == {
        "css/site.css": "text/css; charset=utf-8",
        "data.bin": "application/octet-stream",
        "img/icon.svg": "image/svg+xml; charset=utf-8",
        "img/logo.png": "image/png",
        "index.html": "text/html; charset=utf-8",
        "js/app.js": "text/javascript; charset=utf-8",
        "js/lib/util.js": "text/javascript; charset=utf-8",
    }
    assert s3.head_object(Bucket=bucket, Key="index.html")["CacheControl"] == "public, max-age=300"
    # the same folder again: nothing uploaded, no mutating call
    again = run_task(emulator, "static_assets", upload)
    assert again.changed is False and again.result["static_assets"]["uploaded"] == []
    assert again.calls["mutating"] == 0, mutating(again)
    assert again.result["static_assets"]["invalidation_id"] is None
    print("no-op apply with source: %s calls, %s mutating" % (again.calls["total"], again.calls["mutating"]))
    # one file changed: only it is uploaded, and only its path invalidated
    (root / "css" / "site.css").write_text("body { color: blue; }")
    check = run_task(emulator, "static_assets", upload, check=True, diff=True)
    assert check.actions() == [("update", "asset", "css/site.css")] and check.calls["mutating"] == 0
    one = run_task(emulator, "static_assets", upload)
    assert one.result["static_assets"]["uploaded"] == ["css/site.css"]
    assert one.calls["by_action"]["s3:PutObject"] == 1
    invalidation = cf.get_invalidation(
        DistributionId=out["distribution_id"], Id=one.result["static_assets"]["invalidation_id"]
    )
    assert invalidation["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/css/site.css"]
    # delete_stale removes what is no longer in the folder
    (root / "data.bin").unlink()
    stale = run_task(emulator, "static_assets", dict(upload, delete_stale=True))
    assert stale.actions() == [("delete", "asset", "data.bin")]
    assert stale.result["static_assets"]["deleted"] == ["data.bin"] and stale.result["static_assets"]["uploaded"] == []
    assert stale.calls["by_action"]["s3:DeleteObjects"] == 1

    # -- drift: settings changed by hand are put back ---------------------------------------------------------
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::%s/*" % bucket,
                    }
                ],
            }
        ),
    )
    runs = quartet(emulator, "static_assets", args)
    assert runs.first_check.actions() == [("update", "bucket", "bucket"), ("update", "bucket_policy", "bucket_policy")]
    assert sorted(runs.first_check.plan[0]["fields"]) == ["public_access_block", "versioning"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    statement = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": out["distribution_arn"]}}
    assert runs.apply.calls["by_action"].get("s3:PutBucketEncryption") is None  # only what differs is put

    # -- delete: refused while the bucket holds objects, in check mode too ---------------------------------------
    absent = {"environment": ENV, "state": "absent"}
    for check in (True, False):
        refused = run_task(emulator, "static_assets", absent, check=check, expect_failure=True)
        assert "still holds objects" in refused.result["msg"] and "force=true" in refused.result["msg"]
        assert refused.calls["mutating"] == 0, mutating(refused)
    assert cf.get_distribution(Id=out["distribution_id"])["Distribution"]["DistributionConfig"]["Enabled"] is True
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 6
    runs = quartet(emulator, "static_assets", dict(absent, force=True))
    assert runs.first_check.actions() == [
        ("delete", "bucket_policy", "bucket_policy"),
        ("delete", "distribution", "distribution"),
        ("delete", "origin_access_control", "origin_access_control"),
        ("delete", "bucket", "bucket"),
    ]
    assert runs.apply.calls["by_action"]["cloudfront:UpdateDistribution"] == 1  # disabled before the delete
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not (cf.list_distributions()["DistributionList"].get("Items") or [])
    names = [o["Name"] for o in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []]
    assert "sat-assets" not in names


BAD_INPUTS = [
    ({"bucket": "Bad_Name"}, "bucket"),
    ({"bucket": "ab"}, "bucket"),
    ({"bucket": "192.168.1.1"}, "bucket"),
    ({"bucket": "xn--assets"}, "bucket"),
    ({"aliases": ["cdn.example.com"]}, "certificate_arn"),
    ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days"),
    ({"source": "/nonexistent/folder"}, "source"),
]


def bad_case(more, option):
    """The module arguments of one bad-input case."""
    return dict({"environment": ENV}, **more)


@pytest.mark.parametrize("more, option", BAD_INPUTS)
def test_bad_inputs_fail_before_any_call(emulator, more, option):
    run = failing_case(emulator, "static_assets", [bad_case(*case) for case in BAD_INPUTS], bad_case(more, option))
    assert run.result["option"] == option, run.result["msg"]
    assert option in run.result["msg"]
    assert run.calls["total"] == 0
