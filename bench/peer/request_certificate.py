"""What an amazon.aws user must write themselves: amazon.aws / community.aws cannot request a
DNS-validated ACM certificate, so the peer playbook runs this (boto3) to request one, put its
validation records in the zone and wait until it is issued. Prints JSON: {"arn": ..., "changed": ...}."""

from __future__ import annotations

import json
import sys
import time

import boto3


def main(domain, zone_id):
    acm = boto3.client("acm")
    route53 = boto3.client("route53")
    changed = False
    arn = None
    for summary in acm.list_certificates()["CertificateSummaryList"]:
        if summary["DomainName"] == domain:
            arn = summary["CertificateArn"]
    if arn is None:
        arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS", IdempotencyToken="peer")[
            "CertificateArn"
        ]
        changed = True
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    if cert["Status"] != "ISSUED":
        records = [o["ResourceRecord"] for o in cert["DomainValidationOptions"] if "ResourceRecord" in o]
        route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": r["Name"],
                            "Type": r["Type"],
                            "TTL": 300,
                            "ResourceRecords": [{"Value": r["Value"]}],
                        },
                    }
                    for r in records
                ]
            },
        )
        changed = True
        while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
            time.sleep(1)
    print(json.dumps({"arn": arn, "changed": changed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
