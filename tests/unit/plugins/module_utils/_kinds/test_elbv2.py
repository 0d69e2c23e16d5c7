"""ELBv2 kinds (``_kinds/elbv2.py``): normalisation, rule priority moves, and the read, delete and plan paths
against botocore's Stubber (the real service model, no emulator)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current
from ansible_collections.webstack.aws.plugins.module_utils._kinds import elbv2
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elbv2 import Elbv2State
from ansible_collections.webstack.aws.plugins.module_utils._layers import load_balancer

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
LB_ARN = ARN + "loadbalancer/app/shop/50dc6c495c0c9188"
TG_ARN = ARN + "targetgroup/shop-default/0b1c2d3e4f5a6b7c"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"


# -- normalisation ---------------------------------------------------------------------------------------
def test_forward_is_the_same_whether_aws_answers_with_forward_config_or_not():
    plain = [{"Type": "forward", "TargetGroupArn": TG_ARN}]
    config = [
        {
            "Type": "forward",
            "TargetGroupArn": TG_ARN,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG_ARN, "Weight": 1}]},
        }
    ]
    only_config = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG_ARN}]}}]
    expected = {"type": "forward", "target_group_arn": TG_ARN}
    assert elbv2.normalise_actions(plain) == elbv2.normalise_actions(config) == expected
    assert elbv2.normalise_actions(only_config) == expected


def test_redirect_defaults_aws_fills_in_compare_equal_to_ours():
    answered = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]
    assert elbv2.normalise_actions(answered) == elbv2.redirect_to_https()


@pytest.mark.parametrize(
    "action",
    [
        {"type": "forward", "target_group_arn": TG_ARN},
        elbv2.redirect_to_https(),
        {"type": "fixed_response", "status_code": "503", "content_type": "text/plain", "message_body": "down"},
        {"type": "fixed_response", "status_code": "404", "content_type": "application/json", "message_body": ""},
    ],
)
def test_actions_round_trip_through_the_aws_shape(action):
    assert elbv2.normalise_actions(elbv2.action_for_aws(action)) == action


def test_conditions_sorted_and_the_legacy_values_form_read():
    answered = [
        {"Field": "path-pattern", "Values": ["/b/*", "/a/*"]},
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["x.example.com"]}},
    ]
    found = elbv2.normalise_conditions(answered)
    assert found == {"path_patterns": ["/a/*", "/b/*"], "host_headers": ["x.example.com"]}
    assert elbv2.normalise_conditions(elbv2.conditions_for_aws(found)) == found
    other = elbv2.normalise_conditions(
        [{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}]
    )
    assert list(other) == ["other"]


def test_load_balancer_attributes_missing_from_the_answer_are_aws_defaults():
    assert elbv2.lb_attributes([{"Key": "deletion_protection.enabled", "Value": "false"}]) == {
        "idle_timeout": 60,
        "deletion_protection": False,
        "access_logs": {"enabled": False},
    }
    logs_on = elbv2.lb_attributes(
        [
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "logs"},
            {"Key": "access_logs.s3.prefix", "Value": "alb"},
        ]
    )
    assert logs_on["access_logs"] == {"enabled": True, "bucket": "logs", "prefix": "alb"}


def test_only_differing_load_balancer_attributes_are_sent():
    before = {"idle_timeout": 60, "deletion_protection": False, "access_logs": {"enabled": False}}
    after = dict(before, idle_timeout=120)
    assert elbv2.lb_attribute_changes(before, after) == [{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]
    assert elbv2.lb_attribute_changes(before, before) == []
    logs = dict(before, access_logs={"enabled": True, "bucket": "b1", "prefix": ""})
    assert elbv2.lb_attribute_changes(before, logs) == [
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": "b1"},
        {"Key": "access_logs.s3.prefix", "Value": ""},
    ]
    assert elbv2.lb_attribute_changes(logs, before) == [{"Key": "access_logs.s3.enabled", "Value": "false"}]


def test_target_group_attributes_and_changes():
    assert elbv2.tg_attributes([{"Key": "stickiness.enabled", "Value": "false"}]) == {
        "deregistration_delay": 300,
        "stickiness": False,
        "stickiness_duration": 86400,
    }
    eb = {"deregistration_delay": 20, "stickiness": True, "stickiness_duration": 86400}
    assert elbv2.tg_attribute_changes(None, eb) == [
        {"Key": "deregistration_delay.timeout_seconds", "Value": "20"},
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.type", "Value": "lb_cookie"},
    ]
    assert elbv2.tg_attribute_changes(eb, eb) == []


def test_dimensions_from_arns():
    assert elbv2.arn_dimension(LB_ARN) == "app/shop/50dc6c495c0c9188"
    assert elbv2.arn_dimension(TG_ARN) == "targetgroup/shop-default/0b1c2d3e4f5a6b7c"
    assert elbv2.arn_dimension(None) is None


def test_rule_keys_name_or_digest_of_conditions():
    assert elbv2.rule_key("https", "api", {"path_patterns": ["/api/*"]}) == "https-rule-api"
    one = elbv2.rule_key("http", None, {"path_patterns": ["/a"]})
    assert one == elbv2.rule_key("http", None, {"path_patterns": ["/a"]}) and one.startswith("http-rule-")
    assert one != elbv2.rule_key("http", None, {"path_patterns": ["/b"]})


# -- rule priorities ---------------------------------------------------------------------------------------
def test_priority_moves_without_collision_go_in_one_batch():
    assert elbv2.priority_moves({"r1": 5}, {"r1": 1, "r2": 2}) == [[{"RuleArn": "r1", "Priority": 5}]]
    assert elbv2.priority_moves({"r1": 1}, {"r1": 1}) == []


def test_a_swap_parks_the_moving_rules_on_free_priorities_first():
    batches = elbv2.priority_moves({"r1": 2, "r2": 1}, {"r1": 1, "r2": 2, "r3": 3})
    assert len(batches) == 2
    parked = dict((item["RuleArn"], item["Priority"]) for item in batches[0])
    assert set(parked) == {"r1", "r2"} and not set(parked.values()) & {1, 2, 3}
    assert batches[1] == [{"RuleArn": "r2", "Priority": 1}, {"RuleArn": "r1", "Priority": 2}]


# -- the layer's options (the plan tests below) --------------------------------------------------------------
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


# -- botocore Stubber: the real ELBv2 model validates every request ----------------------------------------
def stubbed():
    client = botocore.session.get_session().create_client(
        "elbv2",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - dummy credentials, no call leaves the process
    )
    return client, Stubber(client)


def lb_description():
    return {
        "LoadBalancerArn": LB_ARN,
        "LoadBalancerName": "shop",
        "DNSName": "shop-1.us-east-1.elb.amazonaws.com",
        "Scheme": "internet-facing",
        "VpcId": "vpc-1",
        "State": {"Code": "active"},
        "AvailabilityZones": [{"ZoneName": "us-east-1a", "SubnetId": "subnet-1"}],
        "SecurityGroups": ["sg-1"],
    }


def test_read_pages_target_groups_and_batches_tags_by_20_stubber():
    client, stub = stubbed()
    ours = {"webstack:environment": "shop", "webstack:layer": "load_balancer"}
    groups = [
        {"TargetGroupArn": ARN + "targetgroup/shop-p%d/%04d" % (i, i), "TargetGroupName": "shop-p%d" % i}
        for i in range(20)
    ]
    stranger = {"TargetGroupArn": ARN + "targetgroup/other-x/9999", "TargetGroupName": "other-x"}
    stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description()]}, {"Names": ["shop"]})
    stub.add_response("describe_listeners", {"Listeners": []}, {"LoadBalancerArn": LB_ARN})
    stub.add_response(
        "describe_target_groups", {"TargetGroups": groups[:12] + [stranger], "NextMarker": "m1"}, {"PageSize": 400}
    )
    stub.add_response("describe_target_groups", {"TargetGroups": groups[12:]}, {"PageSize": 400, "Marker": "m1"})
    arns = [LB_ARN] + [g["TargetGroupArn"] for g in groups]  # 21: two DescribeTags calls, not 21
    tag_list = [{"Key": k, "Value": v} for k, v in ours.items()]
    for chunk in (arns[:20], arns[20:]):
        stub.add_response(
            "describe_tags",
            {"TagDescriptions": [{"ResourceArn": a, "Tags": tag_list} for a in chunk]},
            {"ResourceArns": chunk},
        )
    stub.add_response(
        "describe_load_balancer_attributes",
        {"Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]},
        {"LoadBalancerArn": LB_ARN},
    )
    for group in groups:
        stub.add_response(
            "describe_target_group_attributes", {"Attributes": []}, {"TargetGroupArn": group["TargetGroupArn"]}
        )
    ctx = Context("shop", "load_balancer", clients={"elbv2": client})
    with stub:
        found = elbv2.LoadBalancer().read(ctx)
        tgs = elbv2.TargetGroup().read(ctx)  # from the same read: no more calls
    stub.assert_no_pending_responses()
    assert found[0].fields["idle_timeout"] == 120 and found[0].fields["subnets"] == ["subnet-1"]
    assert sorted(t.fields["name"] for t in tgs) == sorted(g["TargetGroupName"] for g in groups)


def test_read_of_an_environment_without_a_load_balancer_stubber():
    client, stub = stubbed()
    stub.add_client_error("describe_load_balancers", "LoadBalancerNotFound", http_status_code=400)
    stub.add_response("describe_target_groups", {"TargetGroups": []}, {"PageSize": 400})
    ctx = Context("shop", "load_balancer", clients={"elbv2": client})
    with stub:
        assert elbv2.LoadBalancer().read(ctx) == []
        assert elbv2.Listener().read(ctx) == []
    stub.assert_no_pending_responses()


def test_target_group_delete_waits_while_aws_still_calls_it_in_use_stubber():
    client, stub = stubbed()
    stub.add_client_error("delete_target_group", "ResourceInUse", http_status_code=400)
    stub.add_response("delete_target_group", {}, {"TargetGroupArn": TG_ARN})
    slept = []
    ctx = Context("shop", "load_balancer", clients={"elbv2": client}, sleep=slept.append)
    kind = elbv2.TargetGroup()
    with stub:
        kind.delete(ctx, Current("default", TG_ARN, {"name": "shop-default"}))
        assert len(stub._queue) == 2  # deferred until every listener and rule has been repointed
        kind.finish(ctx)
    stub.assert_no_pending_responses()
    assert len(slept) == 1


def test_rule_swap_is_two_set_rule_priorities_calls_stubber():
    client, stub = stubbed()
    listener = ARN + "listener/app/shop/50dc6c495c0c9188/f0e1"
    rule_a, rule_b = ARN + "listener-rule/app/shop/1/2/aaaa", ARN + "listener-rule/app/shop/1/2/bbbb"
    ctx = Context("shop", "load_balancer", clients={"elbv2": client})
    ctx.state(Elbv2State).snapshot = {"priorities": {listener: {rule_a: 1, rule_b: 2}}}
    ctx.state(Elbv2State).rule_moves = {rule_a: (listener, 2), rule_b: (listener, 1)}
    stub.add_response(
        "set_rule_priorities",
        {"Rules": []},
        {"RulePriorities": [{"RuleArn": rule_a, "Priority": 50000}, {"RuleArn": rule_b, "Priority": 49999}]},
    )
    stub.add_response(
        "set_rule_priorities",
        {"Rules": []},
        {"RulePriorities": [{"RuleArn": rule_b, "Priority": 1}, {"RuleArn": rule_a, "Priority": 2}]},
    )
    kind = elbv2.ListenerRule()
    with stub:
        kind.update(ctx, Current("http-rule-a", rule_a, {}), {}, ["priority"])
        kind.update(ctx, Current("http-rule-b", rule_b, {}), {}, ["priority"])  # already moved: no call
    stub.assert_no_pending_responses()
    assert ctx.state(Elbv2State).snapshot["priorities"][listener] == {rule_a: 2, rule_b: 1}


def test_answers_shaped_like_real_aws_plan_nothing_stubber():
    """Real AWS answers with more than moto does (ForwardConfig, redirect defaults, every attribute, both
    condition forms): a converged layer must still plan no change."""
    from ansible_collections.webstack.aws.plugins.module_utils._engine import Engine

    client, stub = stubbed()
    http_arn = ARN + "listener/app/shop/50dc6c495c0c9188/0001"
    https_arn = ARN + "listener/app/shop/50dc6c495c0c9188/0002"
    rule_arn = ARN + "listener-rule/app/shop/50dc6c495c0c9188/0002/0003"
    ctx = Context("shop", "load_balancer", clients={"elbv2": client})
    forward = {
        "Type": "forward",
        "TargetGroupArn": TG_ARN,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG_ARN, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }
    redirect = {
        "Type": "redirect",
        "RedirectConfig": {
            "Protocol": "HTTPS",
            "Port": "443",
            "Host": "#{host}",
            "Path": "/#{path}",
            "Query": "#{query}",
            "StatusCode": "HTTP_301",
        },
    }
    lb = dict(
        lb_description(),
        AvailabilityZones=[
            {"ZoneName": "us-east-1b", "SubnetId": "subnet-2"},
            {"ZoneName": "us-east-1a", "SubnetId": "subnet-1"},
        ],
    )
    stub.add_response("describe_load_balancers", {"LoadBalancers": [lb]}, {"Names": ["shop"]})
    stub.add_response(
        "describe_listeners",
        {
            "Listeners": [
                {
                    "ListenerArn": http_arn,
                    "LoadBalancerArn": LB_ARN,
                    "Port": 80,
                    "Protocol": "HTTP",
                    "DefaultActions": [redirect],
                },
                {
                    "ListenerArn": https_arn,
                    "LoadBalancerArn": LB_ARN,
                    "Port": 443,
                    "Protocol": "HTTPS",
                    "SslPolicy": load_balancer.DEFAULT_SSL_POLICY,
                    "Certificates": [{"CertificateArn": CERT}],
                    "DefaultActions": [forward],
                },
            ]
        },
        {"LoadBalancerArn": LB_ARN},
    )
    default_rule = {"RuleArn": "%s-default" % rule_arn, "Priority": "default", "IsDefault": True, "Actions": [forward]}
    stub.add_response("describe_rules", {"Rules": [default_rule]}, {"ListenerArn": http_arn})
    api_rule = {
        "RuleArn": rule_arn,
        "Priority": "1",
        "IsDefault": False,
        "Conditions": [
            {"Field": "path-pattern", "Values": ["/api/*"], "PathPatternConfig": {"Values": ["/api/*"]}},
        ],
        "Actions": [dict(forward, Order=1)],
    }
    stub.add_response("describe_rules", {"Rules": [api_rule, default_rule]}, {"ListenerArn": https_arn})
    group = {
        "TargetGroupArn": TG_ARN,
        "TargetGroupName": "shop-default",
        "Protocol": "HTTP",
        "Port": 80,
        "VpcId": "vpc-1",
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 15,
        "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 3,
        "UnhealthyThresholdCount": 5,
        "HealthCheckPath": "/",
        "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": [LB_ARN],
        "TargetType": "instance",
        "ProtocolVersion": "HTTP1",
        "IpAddressType": "ipv4",
    }
    stub.add_response("describe_target_groups", {"TargetGroups": [group]}, {"PageSize": 400})
    keys = {
        LB_ARN: "load_balancer",
        TG_ARN: "default",
        http_arn: "http",
        https_arn: "https",
        rule_arn: "https-rule-api",
    }
    arns = [LB_ARN, TG_ARN, http_arn, https_arn, rule_arn]
    stub.add_response(
        "describe_tags",
        {
            "TagDescriptions": [
                {"ResourceArn": a, "Tags": [{"Key": k, "Value": v} for k, v in ctx.tags_for(keys[a]).items()]}
                for a in arns
            ]
        },
        {"ResourceArns": arns},
    )
    lb_attributes = {
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "idle_timeout.timeout_seconds": "60",
        "deletion_protection.enabled": "false",
        "routing.http2.enabled": "true",
        "routing.http.drop_invalid_header_fields.enabled": "false",
    }
    stub.add_response(
        "describe_load_balancer_attributes",
        {"Attributes": [{"Key": k, "Value": v} for k, v in lb_attributes.items()]},
        {"LoadBalancerArn": LB_ARN},
    )
    tg_attributes = {
        "stickiness.enabled": "false",
        "deregistration_delay.timeout_seconds": "20",
        "stickiness.type": "lb_cookie",
        "stickiness.lb_cookie.duration_seconds": "86400",
        "slow_start.duration_seconds": "0",
        "load_balancing.algorithm.type": "round_robin",
    }
    stub.add_response(
        "describe_target_group_attributes",
        {"Attributes": [{"Key": k, "Value": v} for k, v in tg_attributes.items()]},
        {"TargetGroupArn": TG_ARN},
    )
    layer = load_balancer.LoadBalancerLayer()
    engine = Engine(ctx, layer.kinds())
    p = params(
        certificate_arn=CERT,
        rules=[{"name": "api", "conditions": {"path_patterns": ["/api/*"]}, "forward": "default"}],
    )
    p["processes"] = [load_balancer.process_with_defaults(x) for x in p["processes"]]
    with stub:
        current = engine.read()
        plan = engine.plan(layer.desired(ctx, p, current))
    stub.assert_no_pending_responses()
    assert plan.to_list() == []


def test_an_interrupted_replacement_keeps_the_group_in_use_and_never_retires_a_recreated_one():
    old_arn, new_arn = ARN + "targetgroup/shop-default/aaaa", ARN + "targetgroup/shop-default-r/0000"
    data = {
        "listeners": [{"DefaultActions": [{"Type": "forward", "TargetGroupArn": old_arn}]}],
        "rules": [],
    }
    kind = elbv2.TargetGroup()
    found = kind._one_per_key(
        [
            Current("default", new_arn, {"name": "shop-default-r"}),
            Current("default", old_arn, {"name": "shop-default"}),
        ],
        data,
    )
    assert dict((c.id, c.key) for c in found) == {old_arn: "default", new_arn: "default#superseded-1"}
    # the replacement then asks AWS for shop-default-r again, which answers with the existing group
    kind.created.add(new_arn)
    kind.delete(Context("shop", "load_balancer"), found[0])
    kind.finish(Context("shop", "load_balancer"))  # no client: a delete call would fail here
    assert kind.retiring == []
