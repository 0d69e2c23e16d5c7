"""Alarm normalisation, the monitoring layer's desired state and validation, and the batched read (no AWS)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Ref, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds import cloudwatch
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
    ctx = Context("shop", "monitoring")
    dlq = alarms.alarm_definition(ctx, given, "dead-letter-depth", [])
    assert dlq["dimensions"] == [{"Name": "QueueName", "Value": "shop-worker-dlq.fifo"}]
    assert dlq["namespace"] == "AWS/SQS" and dlq["comparison_operator"] == "GreaterThanOrEqualToThreshold"


def test_alarm_definition_defaults_and_overrides():
    ctx = Context("shop", "monitoring")
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


def test_what_aws_returns_equals_what_was_asked():
    ctx = Context("shop", "monitoring")
    want = alarms.alarm_definition(ctx, params(load_balancer=LB, target_group=TG), "unhealthy-hosts", ["b", "a"])
    sent = cloudwatch.put_metric_alarm_params("shop-unhealthy-hosts", want)
    # what DescribeAlarms gives back: dimensions in another order, integer-looking floats, no optional keys
    returned = dict(sent, AlarmArn="arn:aws:cloudwatch:us-east-1:1:alarm:shop-unhealthy-hosts")
    returned["Dimensions"] = list(reversed(sent["Dimensions"]))
    returned["AlarmActions"] = ["b", "a"]
    returned["Threshold"] = 1
    del returned["DatapointsToAlarm"]  # AWS leaves it out when it equals EvaluationPeriods
    have = cloudwatch.alarm_fields(returned)
    for field, value in want.items():
        assert cloudwatch.alarm_equal(field, have[field], value), field
    assert have["treat_missing_data"] == "notBreaching"
    assert cloudwatch.alarm_fields({"EvaluationPeriods": 2})["treat_missing_data"] == "missing"
    assert not cloudwatch.alarm_equal("threshold", 1.0, 2)
    assert not cloudwatch.alarm_equal("alarm_actions", [], [Unknown("sns_topic alarms")])


def test_percent_5xx_is_metric_math_and_compares_with_what_aws_returns():
    ctx = Context("shop", "monitoring")
    want = alarms.alarm_definition(
        ctx, params(load_balancer=LB, target_group=TG, target_5xx={"percent": True, "threshold": 2}), "target-5xx", []
    )
    assert want["metric_name"] is None and want["period"] is None and want["threshold"] == 2.0
    sent = cloudwatch.put_metric_alarm_params("shop-target-5xx", want)
    assert "MetricName" not in sent and "Period" not in sent and "Statistic" not in sent
    assert [q["Id"] for q in sent["Metrics"]] == ["errors", "rate", "requests"]
    errors = sent["Metrics"][0]["MetricStat"]
    assert errors["Metric"]["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": "app/shop/50dc6c495c0c9188"},
        {"Name": "TargetGroup", "Value": "targetgroup/shop/73e2d6bc24d8a067"},
    ]
    # AWS answers in its own order, with ReturnData left out where it is the default, and extra keys
    returned = dict(sent, AlarmArn="arn")
    metrics = [dict(q) for q in reversed(sent["Metrics"])]
    del metrics[1]["ReturnData"]
    metrics[1]["Period"] = 60
    returned["Metrics"] = metrics
    have = cloudwatch.alarm_fields(returned)
    for field, value in want.items():
        assert cloudwatch.alarm_equal(field, have[field], value), field


def test_put_metric_alarm_sends_one_kind_of_statistic():
    ctx = Context("shop", "monitoring")
    p90 = alarms.alarm_definition(ctx, params(load_balancer=LB), "target-response-time", [])
    sent = cloudwatch.put_metric_alarm_params("shop-target-response-time", p90)
    assert sent["ExtendedStatistic"] == "p90" and "Statistic" not in sent
    assert sent["TreatMissingData"] == "notBreaching" and sent["DatapointsToAlarm"] == 5


def test_layer_desired_with_a_created_topic_refers_to_it():
    layer = alarms.MonitoringLayer()
    ctx = Context("shop", "monitoring")
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


def test_a_pending_subscription_no_longer_wanted_is_not_a_change():
    topic = cloudwatch.Topic()
    pending = {"protocol": "email", "endpoint": "old@example.com", "pending": True}
    wanted = {"protocol": "email", "endpoint": "new@example.com"}
    assert topic.equal("subscriptions", [pending, wanted], [wanted])
    assert not topic.equal("subscriptions", [pending], [wanted])
    # a pending one that is wanted counts as there
    assert topic.equal("subscriptions", [dict(wanted, pending=True)], [wanted])


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


def clients():
    session = botocore.session.get_session()
    return tuple(
        session.create_client(
            service,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - dummy credentials, no call leaves the process
        )
        for service in ("cloudwatch", "resourcegroupstaggingapi")
    )


def _alarm(name):
    return {
        "AlarmName": name,
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:%s" % name,
        "MetricName": "CPUUtilization",
        "Namespace": "AWS/EC2",
        "Statistic": "Average",
        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "g"}],
        "Period": 300,
        "EvaluationPeriods": 3,
        "Threshold": 80.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def test_stubber_read_batches_tags_and_reads_only_lagging_ones_alone():
    """One DescribeAlarms, one GetResources for every tag; an alarm of ours the tagging API does not show yet
    is read with ListTagsForResource; another environment's alarm ("shop-prod-...") is left out unread."""
    cw, tagging = clients()
    ours = _alarm("shop-cpu-high")
    lagging = _alarm("shop-elb-5xx")
    foreign = _alarm("shop-prod-cpu-high")
    env_tags = [
        {"Key": "webstack:environment", "Value": "shop"},
        {"Key": "webstack:layer", "Value": "monitoring"},
    ]
    with Stubber(cw) as cw_stub, Stubber(tagging) as tag_stub:
        tag_stub.add_response(
            "get_resources",
            {
                "ResourceTagMappingList": [
                    {
                        "ResourceARN": ours["AlarmArn"],
                        "Tags": env_tags + [{"Key": "webstack:resource", "Value": "cpu-high"}],
                    }
                ]
            },
            {
                "TagFilters": [{"Key": "webstack:environment", "Values": ["shop"]}],
                "ResourceTypeFilters": ["cloudwatch:alarm", "sns:topic"],
            },
        )
        cw_stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [ours, lagging, foreign]},
            {"AlarmNamePrefix": "shop-", "AlarmTypes": ["MetricAlarm"]},
        )
        cw_stub.add_response(
            "list_tags_for_resource",
            {"Tags": env_tags + [{"Key": "webstack:resource", "Value": "elb-5xx"}]},
            {"ResourceARN": lagging["AlarmArn"]},
        )
        ctx = Context("shop", "monitoring", clients={"cloudwatch": cw, "resourcegroupstaggingapi": tagging})
        found = cloudwatch.Alarm(known_keys=tuple(alarms.ALARMS)).read(ctx)
        cw_stub.assert_no_pending_responses()
        tag_stub.assert_no_pending_responses()
    assert sorted(c.key for c in found) == ["cpu-high", "elb-5xx"]
    cpu = next(c for c in found if c.key == "cpu-high")
    assert cpu.id == "shop-cpu-high" and cpu.fields["datapoints_to_alarm"] == 3


def test_stubber_an_untagged_alarm_with_our_name_is_adopted():
    cw, tagging = clients()
    hand_made = _alarm("shop-cpu-high")
    with Stubber(cw) as cw_stub, Stubber(tagging) as tag_stub:
        tag_stub.add_response("get_resources", {"ResourceTagMappingList": []})
        cw_stub.add_response("describe_alarms", {"MetricAlarms": [hand_made]})
        cw_stub.add_response("list_tags_for_resource", {"Tags": []})
        ctx = Context("shop", "monitoring", clients={"cloudwatch": cw, "resourcegroupstaggingapi": tagging})
        found = cloudwatch.Alarm(known_keys=tuple(alarms.ALARMS)).read(ctx)
    assert [(c.key, c.tags) for c in found] == [("cpu-high", {})]
