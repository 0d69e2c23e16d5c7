"""Route 53 kinds (``_kinds/route53.py``): names, ownership records, normalisation, and with botocore's
Stubber a paginated zone read (no AWS)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import (
    ZoneRecords,
    dns_name,
    fqdn,
    normalise_values,
    owner_name,
    owner_value,
    parse_owner,
    read_records,
    record_fields,
    record_key,
    records_equal,
)


def client(service):
    session = botocore.session.get_session()
    return session.create_client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a dummy key; the Stubber answers every call
    )


def test_stubber_zone_read_follows_every_page_once():
    route53 = client("route53")
    ctx = Context("blue", "dns", clients={"route53": route53})
    stub = Stubber(route53)
    first = {"Name": "a.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}
    second = {"Name": "b.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.2"}]}
    stub.add_response(
        "list_resource_record_sets",
        {
            "ResourceRecordSets": [first],
            "IsTruncated": True,
            "NextRecordName": "b.example.com.",
            "NextRecordType": "A",
            "MaxItems": "1",
        },
        {"HostedZoneId": "Z1"},
    )
    stub.add_response(
        "list_resource_record_sets",
        {"ResourceRecordSets": [second], "IsTruncated": False, "MaxItems": "1"},
        {"HostedZoneId": "Z1", "StartRecordName": "b.example.com.", "StartRecordType": "A"},
    )
    with stub:
        zone = read_records(ctx, "Z1")
        assert read_records(ctx, "Z1") is zone  # cached: one read per run
        stub.assert_no_pending_responses()
    assert sorted(zone.rrsets) == [("a.example.com.", "A"), ("b.example.com.", "A")]


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


def test_swap_state_records_are_self_describing():
    from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import parse_swap, swap_name, swap_value

    assert swap_name("blue", "Example.com.") == "_webstack-swap.blue.example.com."
    value = swap_value("blue", "dns", "green")
    assert value == '"webstack:environment=blue;webstack:layer=dns;swapped-with=green"'
    assert parse_swap(value) == ("blue", "dns", "green")
    assert parse_swap('"webstack:environment=blue;webstack:layer=dns;types=CNAME"') is None
    assert parse_swap('"by hand"') is None


def swap_zone(*extra):
    def txt(name, value):
        return {"Name": name, "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": value}]}

    return ZoneRecords(
        "Z1",
        [
            {"Name": "example.com.", "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": "ns. admin. 1 2 3 4 5"}]},
            {"Name": "green.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "blue-lb"}]},
            txt("_webstack-owner.green.example.com.", owner_value("green", "dns", ["CNAME"])),
            txt(
                "_webstack-swap.blue.example.com.", '"webstack:environment=blue;webstack:layer=dns;swapped-with=green"'
            ),
            txt(
                "_webstack-swap.green.example.com.", '"webstack:environment=green;webstack:layer=dns;swapped-with=blue"'
            ),
        ]
        + [txt(name, value) for name, value in extra],
    )


def test_swap_state_read_ownership_and_zone_accounting():
    zone = swap_zone(("_webstack-swap.red.example.com.", '"by hand"'))
    layer, peer, _rrset = zone.swap_state("blue", "example.com")
    assert (layer, peer) == ("dns", "green")
    assert zone.swap_state("red", "example.com") is False  # a record that is not one: never ours
    assert zone.swap_state("violet", "example.com") is None
    # blue's own state is blue's (its zone may go); green's state and CNAME, and the hand-made record, are not
    assert zone.foreign("blue") == [
        "_webstack-owner.green.example.com/TXT",
        "_webstack-swap.green.example.com/TXT",
        "_webstack-swap.red.example.com/TXT",
        "green.example.com/CNAME",
    ]


def test_swap_state_delete_is_refused_while_the_peer_is_there():
    from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import SwapState, ZoneState

    ctx = Context("blue", "dns")
    zone = ctx.state(ZoneState)
    zone.zone_id, zone.records = "Z1", {"Z1": swap_zone()}
    kind = SwapState("example.com", ("blue",), refuse_delete=True)
    (found,) = kind.read(ctx)
    assert (found.key, found.fields) == ("blue", {"swapped_with": "green"})
    with pytest.raises(EngineError, match="blue is swapped with green.*Swap them back first"):
        kind.check_delete(ctx, found)
    # once green's CNAME is gone (green deleted), blue's state may go with blue
    del zone.records["Z1"].rrsets[("green.example.com.", "CNAME")]
    kind.check_delete(ctx, found)
    # a swap back deletes both states: not refused
    SwapState("example.com", ("blue", "green")).check_delete(ctx, found)
