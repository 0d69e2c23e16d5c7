"""ACM kinds (``_kinds/acm.py``): certificate names and validation records, and with botocore's Stubber the
paths the emulator cannot produce: a replaced certificate still in use by a load balancer (moto never fills
InUseBy), and a retired certificate still in use left alone."""

from __future__ import annotations

import datetime

import botocore.session
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import REPLACE, Context, Engine
from ansible_collections.webstack.aws.plugins.module_utils._kinds.acm import (
    KEY_TYPES,
    CertificateState,
    sans_of,
    validation_records,
)
from ansible_collections.webstack.aws.plugins.module_utils._layers.certificate import CertificateLayer

OLD = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"
NEW = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000002"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/blue/0123456789abcdef"
WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)  # noqa: UP017 - older Pythons too
TAGS = [
    {"Key": "webstack:environment", "Value": "blue"},
    {"Key": "webstack:layer", "Value": "certificate"},
    {"Key": "webstack:resource", "Value": "certificate"},
    {"Key": "Name", "Value": "blue-certificate"},
]


def client(service):
    session = botocore.session.get_session()
    return session.create_client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy key; the Stubber answers every call
    )


def record(name):
    return {"Name": "_%s.%s." % ("a" * 8, name), "Type": "CNAME", "Value": "_v.%s.acm-validations.aws." % name}


def certificate(arn, sans, status="ISSUED", in_use_by=()):
    names = ["api.example.com"] + sans
    return {
        "Certificate": {
            "CertificateArn": arn,
            "DomainName": "api.example.com",
            "SubjectAlternativeNames": names,
            "DomainValidationOptions": [
                {
                    "DomainName": n,
                    "ValidationStatus": "SUCCESS" if status == "ISSUED" else "PENDING_VALIDATION",
                    "ResourceRecord": record(n),
                    "ValidationMethod": "DNS",
                }
                for n in names
            ],
            "Status": status,
            "KeyAlgorithm": "RSA_2048",
            "InUseBy": list(in_use_by),
            "CreatedAt": WHEN,
        }
    }


def zone_stub(r53, rrsets):
    # the zone's name comes from its SOA record: no GetHostedZone
    apex = [
        {"Name": "example.com.", "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": "ns-1.awsdns-01.org. x 1"}]}
    ]
    r53.add_response(
        "list_resource_record_sets",
        {"ResourceRecordSets": apex + list(rrsets), "IsTruncated": False, "MaxItems": "300"},
        {"HostedZoneId": "Z1"},
    )


def validation_rrset(name):
    found = record(name)
    return {"Name": found["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": found["Value"]}]}


def setup(sans):
    acm, route53 = client("acm"), client("route53")
    ctx = Context("blue", "certificate", clients={"acm": acm, "route53": route53}, sleep=lambda s: None)
    params = {
        "environment": "blue",
        "state": "present",
        "domain_name": "api.example.com",
        "subject_alternative_names": sans,
        "hosted_zone_id": "Z1",
        "key_algorithm": "RSA_2048",
        "domain_name_quota": 10,
    }
    layer = CertificateLayer()
    layer.validate(params, False)
    return ctx, layer, params, Stubber(acm), Stubber(route53)


def test_stubber_replaced_certificate_in_use_is_kept_and_reported_not_deleted():
    ctx, layer, params, acm, r53 = setup(["www.example.com"])
    acm.add_response(
        "list_certificates",
        {"CertificateSummaryList": [{"CertificateArn": OLD, "DomainName": "api.example.com"}]},
        {"Includes": {"keyTypes": KEY_TYPES}},
    )
    acm.add_response("list_tags_for_certificate", {"Tags": TAGS}, {"CertificateArn": OLD})
    acm.add_response("describe_certificate", certificate(OLD, [], in_use_by=[LB]), {"CertificateArn": OLD})
    zone_stub(r53, [validation_rrset("api.example.com")])
    # the replacement: request, validation records, one batch, wait; and no DeleteCertificate of the old one
    acm.add_response(
        "request_certificate",
        {"CertificateArn": NEW},
        {
            "DomainName": "api.example.com",
            "SubjectAlternativeNames": ["www.example.com"],
            "ValidationMethod": "DNS",
            "IdempotencyToken": ANY,
            "KeyAlgorithm": "RSA_2048",
            "Tags": ANY,
        },
    )
    acm.add_response(
        "describe_certificate", certificate(NEW, ["www.example.com"], "PENDING_VALIDATION"), {"CertificateArn": NEW}
    )
    r53.add_response(
        "change_resource_record_sets",
        {"ChangeInfo": {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": WHEN}},
        {"HostedZoneId": "Z1", "ChangeBatch": ANY},
    )
    for status in ("PENDING", "INSYNC"):  # polled until the change reached every Route 53 server
        r53.add_response(
            "get_change",
            {"ChangeInfo": {"Id": "/change/C1", "Status": status, "SubmittedAt": WHEN}},
            {"Id": "/change/C1"},
        )
    acm.add_response("describe_certificate", certificate(NEW, ["www.example.com"]), {"CertificateArn": NEW})
    with acm, r53:
        engine = Engine(ctx, layer.kinds())
        current = engine.read()
        desired = layer.desired(ctx, params, current)
        plan = engine.plan(desired)
        assert [(c.action, c.kind) for c in plan.changes] == [(REPLACE, "certificate")]
        assert plan.changes[0].replace_reasons == ["subject_alternative_names"]
        ids = engine.apply(plan, desired)
        out = layer.outputs(ctx, params, ids, current)
        acm.assert_no_pending_responses()
        r53.assert_no_pending_responses()
    assert out["arn"] == NEW and out["status"] == "ISSUED"
    assert out["retained"] == [{"arn": OLD, "in_use_by": [LB]}]


def test_stubber_retired_certificate_still_in_use_is_left_alone_and_the_plan_is_empty():
    ctx, layer, params, acm, r53 = setup(["www.example.com"])
    acm.add_response(
        "list_certificates",
        {
            "CertificateSummaryList": [
                {"CertificateArn": OLD, "DomainName": "api.example.com"},
                {"CertificateArn": NEW, "DomainName": "api.example.com"},
                {
                    "CertificateArn": NEW.replace("0002", "0003"),
                    "DomainName": "other.org",
                },  # outside the zone: not read
            ]
        },
        {"Includes": {"keyTypes": KEY_TYPES}},
    )
    acm.add_response("list_tags_for_certificate", {"Tags": TAGS}, {"CertificateArn": OLD})
    acm.add_response("describe_certificate", certificate(OLD, [], in_use_by=[LB]), {"CertificateArn": OLD})
    acm.add_response("list_tags_for_certificate", {"Tags": TAGS}, {"CertificateArn": NEW})
    acm.add_response("describe_certificate", certificate(NEW, ["www.example.com"]), {"CertificateArn": NEW})
    zone_stub(r53, [validation_rrset("api.example.com"), validation_rrset("www.example.com")])
    with acm, r53:
        engine = Engine(ctx, layer.kinds())
        current = engine.read()
        plan = engine.plan(layer.desired(ctx, params, current))
        acm.assert_no_pending_responses()
        r53.assert_no_pending_responses()
    assert plan.changes == []
    assert ctx.state(CertificateState).kept == [{"arn": OLD, "in_use_by": [LB]}]


def test_certificate_names_and_validation_records_are_deduplicated():
    described = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["example.com", "*.example.com"],
        "DomainValidationOptions": [
            {
                "DomainName": "example.com",
                "ResourceRecord": {"Name": "_x.example.com.", "Type": "CNAME", "Value": "_v.acm."},
            },
            {
                "DomainName": "*.example.com",
                "ResourceRecord": {"Name": "_x.example.com.", "Type": "CNAME", "Value": "_v.acm."},
            },
        ],
    }
    assert sans_of(described) == ["*.example.com"]
    assert validation_records(described) == [{"name": "_x.example.com", "type": "CNAME", "value": "_v.acm"}]
