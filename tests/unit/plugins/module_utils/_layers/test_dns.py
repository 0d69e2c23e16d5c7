"""The dns layer (``_layers/dns.py``): swap targets, the records scope, relative and absolute names (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import EngineError
from ansible_collections.webstack.aws.plugins.module_utils._layers import dns


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


# -- the swap is state: what a run with the load balancer plans while swapped (a zone held in memory, no AWS) --
DOMAIN = "example.com"


def rrset(name, record_type, *values, ttl=60):
    return {"Name": name, "Type": record_type, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}


def cname_and_owner(env, target):
    return [
        rrset("%s.%s." % (env, DOMAIN), "CNAME", target),
        rrset(
            "_webstack-owner.%s.%s." % (env, DOMAIN),
            "TXT",
            '"webstack:environment=%s;webstack:layer=dns;types=CNAME"' % env,
            ttl=300,
        ),
    ]


def swap_record(env, peer):
    value = '"webstack:environment=%s;webstack:layer=dns;swapped-with=%s"' % (env, peer)
    return rrset("_webstack-swap.%s.%s." % (env, DOMAIN), "TXT", value, ttl=300)


def plan_for(env, rrsets, **params):
    """The layer's desired state for ``env`` against a zone holding ``rrsets``: (desired, outputs' swapped_with)."""
    from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current
    from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import ZoneRecords, ZoneState

    ctx = Context(env, "dns")
    zone = ctx.state(ZoneState)
    zone.zone_id, zone.zone_owned, zone.records = "Z1", True, {"Z1": ZoneRecords("Z1", rrsets)}
    layer = dns.DnsLayer()
    defaults = dict(ipv6=False, evaluate_target_health=True, create_zone=True, load_balancer_hosted_zone_id="ZLB")
    layer.validate(dns_params(environment=env, **dict(defaults, **params)), False)
    current = {"hosted_zone": {"zone": Current("zone", "Z1", {"name": DOMAIN + "."}, ctx.tags_for("zone"))}}
    for kind in layer.kinds()[1:]:
        current[kind.name] = dict((c.key, c) for c in kind.read(ctx))
    want = layer.desired(ctx, layer.params, current)
    records = dict((k, d.fields["values"]) for k, d in want["record"].items() if d.fields["type"] == "CNAME")
    swaps = dict((k, d.fields["swapped_with"]) for k, d in want["swap"].items())
    return records, swaps, layer.swapped_with


SWAPPED = (
    cname_and_owner("blue", "green.lb.test")
    + cname_and_owner("green", "blue.lb.test")
    + [swap_record("blue", "green"), swap_record("green", "blue")]
)


@pytest.mark.parametrize("env,own_lb,peer", [("blue", "blue.lb.test", "green"), ("green", "green.lb.test", "blue")])
def test_a_run_with_the_load_balancer_keeps_the_swap(env, own_lb, peer):
    records, swaps, swapped_with = plan_for(env, SWAPPED, load_balancer_dns_name=own_lb)
    # its own name stays on the peer's load balancer; the peer's name is pointed at this one's; state unchanged
    assert records == {
        "%s.%s/CNAME" % (env, DOMAIN): ["%s.lb.test" % peer],
        "%s.%s/CNAME" % (peer, DOMAIN): [own_lb],
    }
    assert swaps == {"blue": "green", "green": "blue"} and swapped_with == peer


def test_a_run_with_the_load_balancer_when_not_swapped_points_its_own_name_home():
    zone = cname_and_owner("blue", "blue.lb.test") + cname_and_owner("green", "green.lb.test")
    records, swaps, swapped_with = plan_for("blue", zone, load_balancer_dns_name="blue2.lb.test")
    assert records == {"blue.%s/CNAME" % DOMAIN: ["blue2.lb.test"]} and swaps == {} and swapped_with is None


def test_a_swap_state_the_peer_does_not_share_is_refused():
    zone = (
        cname_and_owner("blue", "green.lb.test")
        + cname_and_owner("green", "blue.lb.test")
        + [swap_record("blue", "green")]
    )
    with pytest.raises(EngineError, match="green's swap state does not name blue back"):
        plan_for("blue", zone, load_balancer_dns_name="blue.lb.test")


def test_cnames_swapped_without_state_are_refused_not_undone():
    zone = cname_and_owner("blue", "green.lb.test") + cname_and_owner("green", "blue.lb.test")
    with pytest.raises(EngineError, match="they look swapped"):
        plan_for("blue", zone, load_balancer_dns_name="blue.lb.test")


def test_the_swap_writes_and_removes_both_states():
    zone = cname_and_owner("blue", "blue.lb.test") + cname_and_owner("green", "green.lb.test")
    records, swaps, swapped_with = plan_for(
        "blue", zone, load_balancer_dns_name="blue.lb.test", swap={"peer": "green", "swapped": True}
    )
    assert records == {"blue.%s/CNAME" % DOMAIN: ["green.lb.test"], "green.%s/CNAME" % DOMAIN: ["blue.lb.test"]}
    assert swaps == {"blue": "green", "green": "blue"} and swapped_with == "green"
    records, swaps, swapped_with = plan_for(
        "green", SWAPPED, load_balancer_dns_name="green.lb.test", swap={"peer": "blue", "swapped": False}
    )
    assert records == {"blue.%s/CNAME" % DOMAIN: ["blue.lb.test"], "green.%s/CNAME" % DOMAIN: ["green.lb.test"]}
    assert swaps == {} and swapped_with is None


def test_a_swap_with_a_third_environment_is_refused():
    zone = SWAPPED + cname_and_owner("red", "red.lb.test")
    with pytest.raises(EngineError, match="blue is swapped with green; swap those two back first"):
        plan_for("blue", zone, load_balancer_dns_name="blue.lb.test", swap={"peer": "red", "swapped": True})
    with pytest.raises(EngineError, match="green is swapped with blue"):
        plan_for("red", zone, load_balancer_dns_name="red.lb.test", swap={"peer": "green", "swapped": True})


def test_a_swap_state_name_holding_something_else_is_never_ours():
    zone = cname_and_owner("blue", "blue.lb.test") + cname_and_owner("green", "green.lb.test")
    zone.append(rrset("_webstack-swap.blue.%s." % DOMAIN, "TXT", '"made by hand"'))
    with pytest.raises(EngineError, match="is not a webstack swap state"):
        plan_for("blue", zone, load_balancer_dns_name="blue.lb.test", swap={"peer": "green", "swapped": True})
