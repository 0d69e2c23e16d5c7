"""Pure logic of the dns and certificate layers: names, ownership records, normalisation, swap, validation."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.acm import sans_of, validation_records
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import (
    ZoneRecords,
    dns_name,
    fqdn,
    normalise_values,
    owner_name,
    owner_value,
    parse_owner,
    record_fields,
    record_key,
    records_equal,
)
from ansible_collections.webstack.aws.plugins.module_utils._layers import certificate, dns


def test_names_are_lowercase_absolute_and_wildcards_unescaped():
    assert fqdn("API.Example.com") == "api.example.com."
    assert fqdn("\\052.example.com.") == "*.example.com."
    assert record_key("api.example.com.", "A") == "api.example.com/A"
    assert owner_name("*.example.com") == "_webstack-owner._wildcard.example.com."


@pytest.mark.parametrize(
    "value,kwargs,words",
    [
        ("a..b", {}, "is not a valid DNS name"),
        ("-a.com", {}, "is not a valid DNS name"),
        ("*.a.com", {}, "wildcards are not allowed"),
        ("a.*.com", {"wildcard": True}, "whole leftmost label"),
        ("com", {"min_labels": 2}, "at least 2 labels"),
        ("a" * 70 + ".com", {}, "is not a valid DNS name"),
        ("x" * 60 + ".example.com", {"max_length": 64}, "the limit is 64"),
    ],
)
def test_dns_name_rejects(value, kwargs, words):
    with pytest.raises(ValidationError, match=words.replace("*", r"\*")):
        dns_name(value, "opt", **kwargs)


def test_dns_name_accepts():
    assert dns_name("*.Example.com.", "opt", wildcard=True, min_labels=2) == "*.example.com"
    assert dns_name("_acme.example.com", "opt") == "_acme.example.com"


def test_owner_value_round_trips():
    value = owner_value("blue", "dns", {"AAAA", "A"})
    assert value == '"webstack:environment=blue;webstack:layer=dns;types=A,AAAA"'
    assert parse_owner(value) == ("blue", "dns", {"A", "AAAA"})
    assert parse_owner('"v=spf1 -all"') is None


def test_values_normalise_txt_quotes_aaaa_and_hostnames():
    assert normalise_values("TXT", ["v=spf1 -all", '"x"']) == ['"v=spf1 -all"', '"x"']
    assert normalise_values("AAAA", ["2001:db8:0::1"]) == ["2001:db8::1"]
    assert normalise_values("CNAME", ["Target.Example.com."]) == ["target.example.com"]
    alias = {"dns_name": "X.elb.amazonaws.com.", "hosted_zone_id": "Z1", "evaluate_target_health": True}
    assert records_equal(
        "alias", {"dns_name": "x.elb.amazonaws.com", "hosted_zone_id": "Z1", "evaluate_target_health": 1}, alias
    )
    assert not records_equal("values", ["a"], Unknown("x"))


def test_record_fields_of_alias_and_plain_records():
    alias = record_fields(
        {"Name": "API.example.com.", "Type": "A", "AliasTarget": {"DNSName": "LB.aws.", "HostedZoneId": "Z1"}}
    )
    assert alias == {
        "name": "api.example.com.",
        "type": "A",
        "ttl": None,
        "values": [],
        "alias": {"dns_name": "lb.aws", "hosted_zone_id": "Z1", "evaluate_target_health": False},
    }
    plain = record_fields(
        {"Name": "x.example.com.", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"b"'}, {"Value": '"a"'}]}
    )
    assert plain["values"] == ['"a"', '"b"'] and plain["ttl"] == 60


def zone(*rrsets):
    base = [
        {"Name": "example.com.", "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": "soa"}]},
        {"Name": "example.com.", "Type": "NS", "TTL": 900, "ResourceRecords": [{"Value": "ns1"}]},
    ]
    return ZoneRecords("Z1", base + list(rrsets))


def owner_rrset(name, env, layer, types):
    return {
        "Name": owner_name(name),
        "Type": "TXT",
        "TTL": 300,
        "ResourceRecords": [{"Value": owner_value(env, layer, types)}],
    }


def test_ownership_is_read_and_kept_in_the_same_batch():
    api = {"Name": "api.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}
    www = {"Name": "www.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.2"}]}
    found = zone(api, www, owner_rrset("api.example.com", "blue", "dns", {"A"}))
    assert found.owned("blue", "dns") == [("api.example.com.", "A")]
    assert found.owner("www.example.com") is None
    assert found.foreign("blue") == ["www.example.com/A"]
    # adding a type updates the ownership record; deleting the last type removes it
    found.create({"Name": "api.example.com.", "Type": "AAAA", "TTL": 60, "ResourceRecords": []}, "blue", "dns")
    [change] = found.ownership_changes()
    assert change["Action"] == "UPSERT" and "types=A,AAAA" in change["ResourceRecordSet"]["ResourceRecords"][0]["Value"]
    found = zone(api, owner_rrset("api.example.com", "blue", "dns", {"A"}))
    found.delete(api, "blue", "dns")
    [change] = found.ownership_changes()
    assert change["Action"] == "DELETE" and change["ResourceRecordSet"]["Name"] == owner_name("api.example.com")


def test_another_environments_name_is_refused():
    found = zone(owner_rrset("api.example.com", "green", "dns", {"A"}))
    with pytest.raises(EngineError, match="belongs to environment green"):
        found.create({"Name": "api.example.com.", "Type": "AAAA"}, "blue", "dns")


@pytest.mark.parametrize(
    "own_current,peer_current,swapped,expected",
    [
        ("blue-lb", "green-lb", True, ("green-lb", "blue-lb")),
        ("green-lb", "blue-lb", True, ("green-lb", "blue-lb")),  # already swapped: the same mapping, no change
        ("green-lb", "blue-lb", False, ("blue-lb", "green-lb")),
        ("blue-lb", "green-lb", False, ("blue-lb", "green-lb")),
    ],
)
def test_swap_targets_are_a_mapping_not_a_toggle(own_current, peer_current, swapped, expected):
    assert dns.swap_targets("Blue-LB.", own_current, peer_current, swapped, "blue", "green") == expected


def test_swap_refuses_when_no_side_points_to_this_environment():
    with pytest.raises(EngineError, match="without swap first"):
        dns.swap_targets("blue-lb", "x-lb", "y-lb", True, "blue", "green")


def dns_params(**kw):
    params = dict(
        environment="blue",
        state="present",
        domain="example.com",
        load_balancer_dns_name=None,
        load_balancer_hosted_zone_id=None,
        api_name="api",
        records=None,
        swap=None,
    )
    params.update(kw)
    return params


def test_dns_scope_leaves_omitted_groups_alone():
    layer = dns.DnsLayer()
    layer.validate(dns_params(records=[]), False)
    scope = layer._scope()
    assert scope("cdn.example.com.", "A") is True
    assert scope("api.example.com.", "A") is False  # no load_balancer_dns_name: left alone
    assert scope("blue.example.com.", "CNAME") is False


def test_dns_relative_and_absolute_names():
    assert dns.absolute("cdn", "example.com") == "cdn.example.com."
    assert dns.absolute("@", "example.com") == "example.com."
    assert dns.absolute("x.example.com", "example.com") == "x.example.com."


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
