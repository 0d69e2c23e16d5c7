"""The load_balancer layer (``_layers/load_balancer.py``): rule priorities, validation and desired state (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current, Ref, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, ValidationErrors
from ansible_collections.webstack.aws.plugins.module_utils._kinds import elbv2
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elbv2 import Elbv2State
from ansible_collections.webstack.aws.plugins.module_utils._layers import load_balancer

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
TG_ARN = ARN + "targetgroup/shop-default/0b1c2d3e4f5a6b7c"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"


def test_rule_priorities_follow_list_order():
    assert load_balancer.rule_priorities([{}, {}, {"priority": 10}, {}]) == [1, 2, 10, 11]
    with pytest.raises(ValidationError, match=r"rules\[1\].priority: 3 is not above the previous rule's 5"):
        load_balancer.rule_priorities([{"priority": 5}, {"priority": 3}])
    with pytest.raises(ValidationError, match=r"rules\[0\].priority"):
        load_balancer.rule_priorities([{"priority": 50001}])


# -- validation --------------------------------------------------------------------------------------------
def params(**more):
    result = {
        "environment": "shop",
        "state": "present",
        "vpc_id": "vpc-1",
        "subnets": ["subnet-1", "subnet-2"],
        "security_groups": ["sg-1"],
        "scheme": "internet-facing",
        "idle_timeout": 60,
        "deletion_protection": False,
        "access_logs": None,
        "certificate_arn": None,
        "ssl_policy": load_balancer.DEFAULT_SSL_POLICY,
        "processes": [{"name": "default"}],
        "default_process": None,
        "rules": [],
        "allow_replacement": False,
    }
    result.update(more)
    return result


@pytest.mark.parametrize(
    "more,words",
    [
        ({"processes": [{"name": "default", "health_check_timeout": 20}]}, "must be below health_check_interval"),
        ({"processes": [{"name": "default", "matcher": "ok"}]}, "matcher: 'ok'"),
        ({"processes": [{"name": "default"}, {"name": "default"}]}, "given twice"),
        ({"processes": [{"name": "a-very-long-process-name-here"}]}, "target group names"),
        ({"processes": [{"name": "Api"}]}, "processes[0].name"),
        ({"certificate_arn": "arn:aws:s3:::bucket"}, "not an ACM or IAM certificate ARN"),
        ({"access_logs": {"bucket": "logs", "prefix": "/alb"}}, "access_logs.prefix"),
        ({"access_logs": {"bucket": "Bad_Bucket", "prefix": ""}}, "access_logs.bucket"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"default_process": "api"}, "default_process: 'api' is not one of the processes"),
        ({"vpc_id": None}, "vpc_id: is required"),
        ({"subnets": None}, "subnets: is required"),
        ({"rules": [{"conditions": {"path_patterns": ["/a"]}}]}, "give exactly one action"),
        (
            {
                "rules": [
                    {
                        "conditions": {"path_patterns": ["/a"]},
                        "forward": "default",
                        "fixed_response": {"status_code": "200"},
                    }
                ]
            },
            "give exactly one action",
        ),
        ({"rules": [{"conditions": {}, "forward": "default"}]}, "give path_patterns and/or host_headers"),
        (
            {"rules": [{"conditions": {"path_patterns": ["/%d" % i for i in range(6)]}, "forward": "default"}]},
            "AWS allows 5 per rule",
        ),
        (
            {
                "rules": [
                    {"conditions": {"path_patterns": ["/a"]}, "forward": "default"},
                    {"conditions": {"path_patterns": ["/a"]}, "forward": "default"},
                ]
            },
            "is the same rule as rules[0]",
        ),
        (
            {
                "rules": [
                    {"conditions": {"path_patterns": ["/a"]}, "fixed_response": {"status_code": "302"}},
                ]
            },
            "use a 2XX, 4XX or 5XX code",
        ),
    ],
)
def test_validation_names_the_option_and_the_fix(more, words):
    with pytest.raises(ValidationError) as caught:
        load_balancer.validate(params(**more))
    assert words in str(caught.value)


def test_independent_problems_are_reported_together_each_naming_its_option():
    processes = [{"name": "default", "port": 70000, "health_check_interval": 2}]
    with pytest.raises(ValidationErrors) as caught:
        load_balancer.validate(params(idle_timeout=0, ssl_policy="weak", processes=processes))
    options = [error.option for error in caught.value.errors]
    assert options == ["idle_timeout", "ssl_policy", "processes[0].port", "processes[0].health_check_interval"]
    assert caught.value.option == "idle_timeout" and "out of range" in str(caught.value)


def test_check_mode_plans_without_ids_from_earlier_layers():
    load_balancer.validate(params(vpc_id=None, subnets=[None, None], security_groups=[None]), check_mode=True)
    load_balancer.validate(params(state="absent", vpc_id=None, subnets=None))


# -- desired state -----------------------------------------------------------------------------------------
def desired(current=None, **more):
    layer = load_balancer.LoadBalancerLayer()
    ctx = Context("shop", "load_balancer")
    p = params(**more)
    p["processes"] = [load_balancer.process_with_defaults(x) for x in p["processes"]]
    return layer, ctx, layer.desired(ctx, p, current or {})


def test_without_a_certificate_http_forwards_to_the_default_process_with_eb_defaults():
    _layer, _ctx, want = desired()
    http = want["listener"]["http"].fields
    assert http["default_action"]["type"] == "forward"
    assert http["default_action"]["target_group_arn"].key == "default"
    assert "https" not in want["listener"]
    tg = want["target_group"]["default"]
    assert tg.fields["name"] == "shop-default" and tg.fields["port"] == 80
    assert tg.fields["health_check"] == {
        "path": "/",
        "interval": 15,
        "timeout": 5,
        "healthy_threshold": 3,
        "unhealthy_threshold": 5,
        "matcher": "200",
    }
    assert tg.fields["attributes"] == {"deregistration_delay": 20, "stickiness": False, "stickiness_duration": 86400}
    assert tg.tags["webstack:resource"] == "default" and tg.tags["webstack:layer"] == "load_balancer"


def test_with_a_certificate_http_redirects_and_rules_go_on_https():
    rules = [
        {"name": "api", "conditions": {"path_patterns": ["/api/*"]}, "forward": "api"},
        {"conditions": {"host_headers": ["old.example.com"]}, "fixed_response": {"status_code": "410"}},
    ]
    _layer, _ctx, want = desired(
        certificate_arn=CERT, processes=[{"name": "web"}, {"name": "api", "port": 8080}], rules=rules
    )
    assert want["listener"]["http"].fields["default_action"] == elbv2.redirect_to_https()
    https = want["listener"]["https"].fields
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06" and https["certificate_arn"] == CERT
    assert https["default_action"]["target_group_arn"].key == "web"  # no process named default: the first
    keys = sorted(want["listener_rule"])
    assert keys[0].startswith("https-rule-") and "https-rule-api" in keys
    api = want["listener_rule"]["https-rule-api"].fields
    assert api["priority"] == 1 and isinstance(api["listener_arn"], Ref) and api["listener_arn"].key == "https"
    assert [r.fields["priority"] for r in want["listener_rule"].values()] == [1, 2]


def test_check_mode_on_a_fresh_environment_plans_with_unknowns():
    _layer, _ctx, want = desired(vpc_id=None, subnets=[None, None], security_groups=[None])
    lb = want["load_balancer"]["load_balancer"].fields
    assert isinstance(lb["vpc_id"], Unknown) and isinstance(lb["subnets"], Unknown)
    assert isinstance(lb["security_groups"], Unknown)


def test_target_group_takes_its_other_name_only_while_replaced():
    fields = {"port": 8080, "protocol": "HTTP", "vpc_id": "vpc-1", "target_type": "instance"}
    same = Current("api", TG_ARN, dict(fields, name="shop-api"))
    assert load_balancer.target_group_name("shop", "api", None, fields) == "shop-api"
    assert load_balancer.target_group_name("shop", "api", same, fields) == "shop-api"
    moved = dict(fields, port=9090)
    assert load_balancer.target_group_name("shop", "api", same, moved) == "shop-api-r"
    back = Current("api", TG_ARN, dict(moved, name="shop-api-r"))
    assert load_balancer.target_group_name("shop", "api", back, moved) == "shop-api-r"
    assert load_balancer.target_group_name("shop", "api", back, fields) == "shop-api"


def test_kept_rules_whose_priority_changes_are_planned_as_one_reorder():
    listener = Current("http", ARN + "listener/app/shop/1/2", {})
    rule_a = Current("http-rule-a", "rule-a", {"listener_arn": listener.id, "priority": 1})
    rule_b = Current("http-rule-b", "rule-b", {"listener_arn": listener.id, "priority": 2})
    current = {"listener": {"http": listener}, "listener_rule": {"http-rule-a": rule_a, "http-rule-b": rule_b}}
    rules = [
        {"name": "b", "conditions": {"path_patterns": ["/b"]}, "forward": "default"},
        {"name": "a", "conditions": {"path_patterns": ["/a"]}, "forward": "default"},
    ]
    layer, ctx, _want = desired(current, rules=rules)
    assert ctx.state(Elbv2State).rule_moves == {"rule-b": (listener.id, 1), "rule-a": (listener.id, 2)}
    assert layer.rule_kind.sort_keys(["http-rule-a", "http-rule-b", "gone"]) == ["http-rule-b", "http-rule-a", "gone"]
