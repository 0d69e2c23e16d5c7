"""The alarms layer (``_layers/alarms.py``): dimensions, which alarms are wanted, their definitions, the desired
state and validation (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Ref
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers import alarms

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/73e2d6bc24d8a067"


def params(**given):
    base = dict((spec, None) for spec in alarms.argument_spec())
    base.update(
        create_topic=False,
        create_log_group=False,
        log_retention_days=30,
        subscriptions=[],
        notify_ok=True,
        actions_enabled=True,
        state="present",
        environment="shop",
    )
    for alarm in alarms.ALARMS.values():
        base[alarm["option"]] = {}
    base.update(given)
    return base


def test_dimension_values_from_arns_or_as_given():
    assert alarms.load_balancer_dimension(LB) == "app/shop/50dc6c495c0c9188"
    assert alarms.load_balancer_dimension("app/shop/50dc6c495c0c9188") == "app/shop/50dc6c495c0c9188"
    assert alarms.load_balancer_dimension("shop") is None
    assert alarms.target_group_dimension(TG) == "targetgroup/shop/73e2d6bc24d8a067"
    assert alarms.target_group_dimension(LB) is None


def test_only_enabled_alarms_whose_inputs_are_given():
    assert alarms.wanted_alarms(params()) == []
    assert alarms.wanted_alarms(params(auto_scaling_group="g")) == ["cpu-high"]
    assert alarms.wanted_alarms(params(load_balancer=LB)) == ["elb-5xx", "target-5xx", "target-response-time"]
    both = alarms.wanted_alarms(params(load_balancer=LB, target_group=TG, elb_5xx={"enabled": False}))
    assert both == ["target-5xx", "target-response-time", "unhealthy-hosts"]


def test_queue_alarms_from_names_arns_or_urls():
    arn = "arn:aws:sqs:us-east-1:123456789012:shop-worker"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/shop-worker-dlq.fifo"
    assert alarms.queue_name(arn) == "shop-worker"
    assert alarms.queue_name(url) == "shop-worker-dlq.fifo"
    assert alarms.queue_name("shop-worker") == "shop-worker"
    assert alarms.queue_name("not a queue") is None
    given = params(queue=arn, dead_letter_queue=url)
    assert alarms.wanted_alarms(given) == ["queue-age", "dead-letter-depth"]
    ctx = Context("shop", "alarms")
    dlq = alarms.alarm_definition(ctx, given, "dead-letter-depth", [])
    assert dlq["dimensions"] == [{"Name": "QueueName", "Value": "shop-worker-dlq.fifo"}]
    assert dlq["namespace"] == "AWS/SQS" and dlq["comparison_operator"] == "GreaterThanOrEqualToThreshold"


def test_alarm_definition_defaults_and_overrides():
    ctx = Context("shop", "alarms")
    given = params(load_balancer=LB, target_group=TG, target_response_time={"statistic": "Average", "threshold": 3})
    latency = alarms.alarm_definition(ctx, given, "target-response-time", ["arn:topic"])
    assert latency["statistic"] == "Average" and latency["extended_statistic"] is None
    assert latency["threshold"] == 3.0 and latency["datapoints_to_alarm"] == 5
    assert latency["dimensions"] == [
        {"Name": "LoadBalancer", "Value": "app/shop/50dc6c495c0c9188"},
        {"Name": "TargetGroup", "Value": "targetgroup/shop/73e2d6bc24d8a067"},
    ]
    assert latency["ok_actions"] == ["arn:topic"]
    p90 = alarms.alarm_definition(ctx, params(load_balancer=LB), "target-response-time", [])
    assert p90["extended_statistic"] == "p90" and p90["statistic"] is None
    elb = alarms.alarm_definition(ctx, given, "elb-5xx", [])
    assert elb["dimensions"] == [{"Name": "LoadBalancer", "Value": "app/shop/50dc6c495c0c9188"}]
    quiet = alarms.alarm_definition(ctx, params(auto_scaling_group="g", notify_ok=False), "cpu-high", ["t"])
    assert quiet["ok_actions"] == [] and quiet["alarm_actions"] == ["t"] and quiet["period"] == 300


def test_layer_desired_with_a_created_topic_refers_to_it():
    layer = alarms.AlarmsLayer()
    ctx = Context("shop", "alarms")
    subs = [{"protocol": "https", "endpoint": "https://h"}, {"protocol": "email", "endpoint": "a@b.c"}]
    want = layer.desired(ctx, params(auto_scaling_group="g", create_topic=True, subscriptions=subs), {})
    topic = want["sns_topic"]["alarms"]
    assert topic.fields["topic_name"] == "shop-alarms"
    assert [s["protocol"] for s in topic.fields["subscriptions"]] == ["email", "https"]
    action = want["alarm"]["cpu-high"].fields["alarm_actions"][0]
    assert isinstance(action, Ref) and (action.kind, action.key) == ("sns_topic", "alarms")
    assert want["alarm"]["cpu-high"].tags["webstack:resource"] == "cpu-high"
    out = layer.outputs(ctx, params(create_topic=True), {"sns_topic": {"alarms": None}}, {})
    assert out["topic_arn"] is None and out["alarm_names"] == {"cpu-high": "shop-cpu-high"}


@pytest.mark.parametrize(
    "given,option",
    [
        ({"load_balancer": "shop"}, "load_balancer"),
        ({"load_balancer": LB, "target_group": "tg"}, "target_group"),
        ({"target_group": TG}, "target_group"),
        ({"create_topic": True, "topic_arn": "arn:aws:sns:us-east-1:123456789012:t"}, "topic_arn"),
        ({"topic_arn": "ops"}, "topic_arn"),
        ({"subscriptions": [{"protocol": "email", "endpoint": "a@b.c"}]}, "subscriptions"),
        (
            {"create_topic": True, "subscriptions": [{"protocol": "https", "endpoint": "http://x"}]},
            "subscriptions[0].endpoint",
        ),
        ({"elb_5xx": {"period": 90}}, "elb_5xx.period"),
        ({"cpu_high": {"evaluation_periods": 0}}, "cpu_high.evaluation_periods"),
        ({"cpu_high": {"evaluation_periods": 3, "datapoints_to_alarm": 4}}, "cpu_high.datapoints_to_alarm"),
        ({"cpu_high": {"period": 86400, "evaluation_periods": 8}}, "cpu_high.evaluation_periods"),
        ({"target_5xx": {"threshold": -1}}, "target_5xx.threshold"),
        ({"target_response_time": {"statistic": "Median"}}, "target_response_time.statistic"),
        ({"queue": "arn:aws:sns:us-east-1:123456789012:topic"}, "queue"),
        ({"log_retention_days": 10}, "log_retention_days"),
        ({"cpu_high": {"percent": True}}, "cpu_high.percent"),
        ({"elb_5xx": {"percent": True, "threshold": 150}}, "elb_5xx.threshold"),
    ],
)
def test_bad_input_names_the_option(given, option):
    with pytest.raises(ValidationError) as err:
        alarms.validate(params(**given))
    assert err.value.option == option


def test_good_input_passes():
    alarms.validate(
        params(
            load_balancer=LB,
            target_group="targetgroup/shop/73e2d6bc24d8a067",
            create_topic=True,
            subscriptions=[{"protocol": "email", "endpoint": "a@example.com"}],
            target_response_time={"statistic": "p99.9", "period": 10},
            cpu_high={"period": 30},
        )
    )
