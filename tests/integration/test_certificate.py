"""webstack.aws.certificate through ansible-playbook on the emulator: request, validate, reuse, replace, delete."""

from __future__ import annotations

import pytest
from helpers import failing_case, quartet, run_task

DOMAIN = "cert-test.example"


@pytest.fixture(scope="module")
def zone_id(emulator):
    zone = run_task(emulator, "dns", {"environment": "cert-zone", "domain": DOMAIN})
    yield zone.result["dns"]["hosted_zone_id"]
    run_task(emulator, "certificate", {"environment": "cert", "domain_name": "api." + DOMAIN, "state": "absent"})
    run_task(emulator, "dns", {"environment": "cert-zone", "domain": DOMAIN, "state": "absent"})


def ours(aws, env="cert"):
    found = []
    for summary in aws.acm.list_certificates(Includes={"keyTypes": ["RSA_2048", "EC_prime256v1"]})[
        "CertificateSummaryList"
    ]:
        tags = {
            t["Key"]: t["Value"]
            for t in aws.acm.list_tags_for_certificate(CertificateArn=summary["CertificateArn"])["Tags"]
        }
        if tags.get("webstack:environment") == env:
            found.append(aws.acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"])
    return found


def records(aws, zone_id):
    found = aws.route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["Type"]): r for r in found}


def test_request_validate_reuse_replace_delete(emulator, aws, zone_id):
    args = {"environment": "cert", "domain_name": "api." + DOMAIN, "sans": ["*.api." + DOMAIN], "tags": {"team": "web"}}
    runs = quartet(emulator, "certificate", args)
    assert runs.first_check.actions() == [("create", "certificate", "certificate")]
    fields = runs.first_check.plan[0]["fields"]
    assert fields["validation_records"]["after"].startswith("(known after apply")
    assert runs.first_check.result["certificate"]["arn"] is None
    out = runs.apply.result["certificate"]
    assert out["status"] == "ISSUED" and out["hosted_zone_id"] == zone_id
    assert out["subject_alternative_names"] == ["*.api." + DOMAIN]
    # api.x and *.api.x share one validation record
    assert len(out["validation_records"]) == 1
    assert runs.again.result["certificate"] == out
    [cert] = ours(aws)
    assert cert["CertificateArn"] == out["arn"] and cert["Status"] == "ISSUED"
    tags = {t["Key"]: t["Value"] for t in aws.acm.list_tags_for_certificate(CertificateArn=out["arn"])["Tags"]}
    assert (
        tags["webstack:layer"] == "certificate" and tags["team"] == "web" and tags["webstack:resource"] == "certificate"
    )
    record = out["validation_records"][0]
    held = records(aws, zone_id)
    assert held[(record["name"], "CNAME")]["ResourceRecords"][0]["Value"].rstrip(".") == record["value"]
    owner = held[("_webstack-owner." + record["name"], "TXT")]["ResourceRecords"][0]["Value"]
    assert owner == '"webstack:environment=cert;webstack:layer=certificate;types=CNAME"'
    # reads: no per-item describe of certificates that are not ours
    assert runs.again.calls["by_action"].get("acm:DescribeCertificate") == 1

    # update in place: a validation record deleted by hand is put back; tags follow
    aws.route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": held[(record["name"], "CNAME")]}]},
    )
    runs = quartet(emulator, "certificate", dict(args, tags={"team": "platform"}))
    assert runs.first_check.actions() == [("update", "certificate", "certificate")]
    assert sorted(runs.first_check.plan[0]["fields"]) == ["tags", "validation_records"]
    assert (record["name"], "CNAME") in records(aws, zone_id)
    assert [c["CertificateArn"] for c in ours(aws)] == [out["arn"]]

    # other names: a replacement, refused without allow_replacement, before any change
    other = dict(args, sans=["www." + DOMAIN], tags={"team": "platform"})
    refused = run_task(emulator, "certificate", other, expect_failure=True)
    assert "allow_replacement" in refused.result["msg"] and "subject_alternative_names" in refused.result["msg"]
    assert refused.calls["mutating"] == 0
    runs = quartet(emulator, "certificate", dict(other, allow_replacement=True))
    assert runs.first_check.actions() == [("replace", "certificate", "certificate")]
    new = runs.apply.result["certificate"]
    assert new["arn"] != out["arn"] and new["status"] == "ISSUED"
    assert [c["CertificateArn"] for c in ours(aws)] == [new["arn"]]  # the old one went after the new one was issued

    # delete: the certificate and the validation records it created
    runs = quartet(emulator, "certificate", {"environment": "cert", "domain_name": "api." + DOMAIN, "state": "absent"})
    assert runs.first_check.actions() == [("delete", "certificate", "certificate")]
    assert ours(aws) == []
    left = [k for k in records(aws, zone_id) if k[1] not in ("SOA", "NS")]
    assert left == []


def test_wait_timeout_names_the_pending_domains(emulator, aws, zone_id):
    out = run_task(
        emulator,
        "certificate",
        {"environment": "cert-slow", "domain_name": "slow." + DOMAIN, "wait_timeout": 0},
        expect_failure=True,
    )
    assert "slow.%s PENDING_VALIDATION" % DOMAIN in out.result["msg"]
    assert "wait_timeout" in out.result["msg"]
    # the next run reuses that certificate instead of requesting another
    again = run_task(emulator, "certificate", {"environment": "cert-slow", "domain_name": "slow." + DOMAIN})
    assert again.calls["by_action"].get("acm:RequestCertificate") is None
    assert again.result["certificate"]["status"] == "ISSUED"
    run_task(emulator, "certificate", {"environment": "cert-slow", "domain_name": "slow." + DOMAIN, "state": "absent"})
    assert ours(aws, "cert-slow") == []


def test_check_mode_before_the_zone_exists_plans_against_an_unknown_zone(emulator):
    plan = run_task(
        emulator, "certificate", {"environment": "cert-new", "domain_name": "api.not-yet.example"}, check=True
    )
    assert plan.actions() == [("create", "certificate", "certificate")]
    assert plan.plan[0]["fields"]["hosted_zone_id"]["after"].startswith("(known after apply")
    assert plan.calls["mutating"] == 0
    # applied for real, the missing zone is an error that says what to do
    out = run_task(
        emulator, "certificate", {"environment": "cert-new", "domain_name": "api.not-yet.example"}, expect_failure=True
    )
    assert "no public hosted zone for api.not-yet.example" in out.result["msg"]
    assert out.calls["mutating"] == 0


BAD_INPUTS = [
    ({"domain_name": None}, "domain_name: is required when state=present"),
    ({"domain_name": "api..example.com"}, "is not a valid DNS name"),
    ({"domain_name": "api.*.example.com"}, "a wildcard must be the whole leftmost label"),
    ({"domain_name": "a" * 60 + ".example.com"}, "the limit is 64"),
    ({"sans": ["n%d.example.com" % i for i in range(10)]}, "exceed ACM's quota of 10 names"),
    ({"sans": ["www.example.com", "www.example.com"]}, "listed twice"),
    ({"key_algorithm": "RSA_9"}, "value of key_algorithm must be one of"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "cert-bad", "domain_name": "api.example.com"}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "certificate", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
