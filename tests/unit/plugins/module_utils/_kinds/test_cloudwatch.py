"""CloudWatch kinds (``_kinds/cloudwatch.py``): alarm normalisation (what AWS returns equals what was asked),
subscriptions, and the batched read with botocore's Stubber (no AWS)."""

from __future__ import annotations

import botocore.session
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Unknown
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


def test_what_aws_returns_equals_what_was_asked():
    ctx = Context("shop", "alarms")
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
    ctx = Context("shop", "alarms")
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
    ctx = Context("shop", "alarms")
    p90 = alarms.alarm_definition(ctx, params(load_balancer=LB), "target-response-time", [])
    sent = cloudwatch.put_metric_alarm_params("shop-target-response-time", p90)
    assert sent["ExtendedStatistic"] == "p90" and "Statistic" not in sent
    assert sent["TreatMissingData"] == "notBreaching" and sent["DatapointsToAlarm"] == 5


def test_a_pending_subscription_no_longer_wanted_is_not_a_change():
    topic = cloudwatch.Topic()
    pending = {"protocol": "email", "endpoint": "old@example.com", "pending": True}
    wanted = {"protocol": "email", "endpoint": "new@example.com"}
    assert topic.equal("subscriptions", [pending, wanted], [wanted])
    assert not topic.equal("subscriptions", [pending], [wanted])
    # a pending one that is wanted counts as there
    assert topic.equal("subscriptions", [dict(wanted, pending=True)], [wanted])


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
        {"Key": "webstack:layer", "Value": "alarms"},
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
        ctx = Context("shop", "alarms", clients={"cloudwatch": cw, "resourcegroupstaggingapi": tagging})
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
        ctx = Context("shop", "alarms", clients={"cloudwatch": cw, "resourcegroupstaggingapi": tagging})
        found = cloudwatch.Alarm(known_keys=tuple(alarms.ALARMS)).read(ctx)
    assert [(c.key, c.tags) for c in found] == [("cpu-high", {})]
