"""webstack.aws.alarms through ansible-playbook on the emulator: create, update, delete, bad input.

CloudWatch does not check that a metric's dimensions name a real load balancer, so the alarms are made
for ARNs of the right shape without building the load balancer and Auto Scaling layers first."""

from __future__ import annotations

import json

import pytest
from helpers import failing_case, quartet, run_task

ENV = "alm"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alm-web/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/alm-web/73e2d6bc24d8a067"
LB_DIM = "app/alm-web/50dc6c495c0c9188"
TG_DIM = "targetgroup/alm-web/73e2d6bc24d8a067"


def alarms(aws, env=ENV):
    found = aws.cloudwatch.describe_alarms(AlarmNamePrefix=env + "-")["MetricAlarms"]
    return {a["AlarmName"][len(env) + 1 :]: a for a in found}


def tags_of(aws, arn):
    return {t["Key"]: t["Value"] for t in aws.cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def dims(alarm):
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def test_create_update_delete_quartets(emulator, aws):
    args = {
        "environment": ENV,
        "load_balancer": LB,
        "target_group": TG,
        "auto_scaling_group": "alm-web",
        "create_topic": True,
        "subscriptions": [{"protocol": "email", "endpoint": "oncall@example.com"}],
        "create_log_group": True,
        "tags": {"team": "platform"},
    }

    # create
    runs = quartet(emulator, "alarms", args)
    assert runs.first_check.actions() == [
        ("create", "log_group", "log-group"),
        ("create", "sns_topic", "alarms"),
        ("create", "alarm", "cpu-high"),
        ("create", "alarm", "elb-5xx"),
        ("create", "alarm", "target-5xx"),
        ("create", "alarm", "target-response-time"),
        ("create", "alarm", "unhealthy-hosts"),
    ]
    assert runs.first_check.result["alarms"]["topic_arn"] is None
    cpu_plan = runs.first_check.plan[2]["fields"]
    assert cpu_plan["alarm_actions"]["after"] == ["(known after apply: sns_topic alarms)"]
    out = runs.apply.result["alarms"]
    topic_arn = out["topic_arn"]
    assert topic_arn.endswith(":alm-alarms")
    assert out["alarm_names"]["cpu-high"] == "alm-cpu-high"
    assert out["log_group_name"] == "/webstack/alm"
    # subscription endpoints may carry keys: never in the output
    assert "oncall@example.com" not in json.dumps(runs.first_check.result)
    assert out["subscriptions"] == [{"protocol": "email", "endpoint": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}]
    assert runs.again.result["alarms"] == out
    # the whole read of a no-op run: one call per kind, and one tag read for the alarms and the topic
    assert runs.again.calls["by_action"] == {
        "logs:DescribeLogGroups": 1,
        "logs:ListTagsForResource": 1,
        "sns:ListTopics": 1,
        "tagging:GetResources": 1,
        "sns:ListSubscriptionsByTopic": 1,
        "monitoring:DescribeAlarms": 1,
    }

    # what CloudWatch and SNS really hold
    found = alarms(aws)
    assert sorted(found) == ["cpu-high", "elb-5xx", "target-5xx", "target-response-time", "unhealthy-hosts"]
    assert dims(found["elb-5xx"]) == {"LoadBalancer": LB_DIM}
    assert dims(found["unhealthy-hosts"]) == {"LoadBalancer": LB_DIM, "TargetGroup": TG_DIM}
    assert dims(found["cpu-high"]) == {"AutoScalingGroupName": "alm-web"}
    latency = found["target-response-time"]
    assert latency["ExtendedStatistic"] == "p90" and latency["Threshold"] == 1.0
    assert found["elb-5xx"]["MetricName"] == "HTTPCode_ELB_5XX_Count" and found["elb-5xx"]["Statistic"] == "Sum"
    assert found["cpu-high"]["AlarmActions"] == [topic_arn] and found["cpu-high"]["OKActions"] == [topic_arn]
    tags = tags_of(aws, found["cpu-high"]["AlarmArn"])
    assert tags["webstack:environment"] == ENV and tags["webstack:layer"] == "alarms"
    assert tags["webstack:resource"] == "cpu-high" and tags["team"] == "platform"
    sns = aws.sns
    topic_tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"]}
    assert topic_tags["webstack:layer"] == "alarms" and topic_tags["Name"] == "alm-alarms"
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "oncall@example.com")]
    group = aws.logs.describe_log_groups(logGroupNamePrefix="/webstack/alm")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in group] == [("/webstack/alm", 30)]
    group_tags = aws.logs.list_tags_for_resource(resourceArn=group[0]["logGroupArn"])["tags"]
    assert group_tags["webstack:layer"] == "alarms" and group_tags["team"] == "platform"

    # update in place: thresholds, an average latency, CPU alarm off, no OK notifications, another subscriber
    update = dict(
        args,
        notify_ok=False,
        subscriptions=[{"protocol": "https", "endpoint": "https://hooks.example.com/alarms"}],
        target_response_time={"statistic": "Average", "threshold": 2.5, "datapoints_to_alarm": 3},
        elb_5xx={"percent": True, "threshold": 5, "period": 300},
        cpu_high={"enabled": False},
        log_retention_days=7,
        tags={"team": "web"},
    )
    runs = quartet(emulator, "alarms", update)
    actions = runs.first_check.actions()
    assert ("delete", "alarm", "cpu-high") in actions
    assert ("update", "sns_topic", "alarms") in actions
    group_change = next(c for c in runs.first_check.plan if c["kind"] == "log_group")
    assert group_change["fields"]["retention_in_days"] == {"before": 30, "after": 7}
    latency_change = next(c for c in runs.first_check.plan if c["key"] == "target-response-time")
    assert latency_change["fields"]["threshold"] == {"before": 1.0, "after": 2.5}
    assert latency_change["fields"]["extended_statistic"] == {"before": "p90", "after": None}
    found = alarms(aws)
    assert sorted(found) == ["elb-5xx", "target-5xx", "target-response-time", "unhealthy-hosts"]
    latency = found["target-response-time"]
    assert latency["Statistic"] == "Average" and "ExtendedStatistic" not in latency
    assert latency["DatapointsToAlarm"] == 3 and latency["Threshold"] == 2.5
    elb = found["elb-5xx"]
    assert elb["Threshold"] == 5.0 and "MetricName" not in elb
    queries = {q["Id"]: q for q in elb["Metrics"]}
    assert queries["rate"]["ReturnData"] is True and "100 * FILL(errors, 0) / requests" in queries["rate"]["Expression"]
    assert queries["requests"]["MetricStat"]["Metric"]["MetricName"] == "RequestCount"
    assert queries["errors"]["MetricStat"]["Period"] == 300
    assert found["target-5xx"]["OKActions"] == [] and found["target-5xx"]["AlarmActions"] == [topic_arn]
    assert tags_of(aws, found["target-5xx"]["AlarmArn"])["team"] == "web"
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("https", "https://hooks.example.com/alarms")]
    group = aws.logs.describe_log_groups(logGroupNamePrefix="/webstack/alm")["logGroups"]
    assert group[0]["retentionInDays"] == 7

    # an alarm changed by hand is put back, and only that one
    aws.cloudwatch.put_metric_alarm(
        AlarmName="alm-target-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=999,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "TargetGroup", "Value": TG_DIM}, {"Name": "LoadBalancer", "Value": LB_DIM}],
    )
    fix = run_task(emulator, "alarms", update)
    assert fix.actions() == [("update", "alarm", "target-5xx")]
    assert sorted(fix.plan[0]["fields"]) == [
        "alarm_actions",
        "alarm_description",
        "datapoints_to_alarm",
        "evaluation_periods",
        "threshold",
        "treat_missing_data",
    ]
    assert fix.calls["by_action"]["monitoring:PutMetricAlarm"] == 1
    assert alarms(aws)["target-5xx"]["Threshold"] == 10.0

    # delete
    runs = quartet(emulator, "alarms", {"environment": ENV, "state": "absent"})
    assert [a[0] for a in runs.first_check.actions()] == ["delete"] * 6
    assert runs.first_check.actions()[-2:] == [("delete", "sns_topic", "alarms"), ("delete", "log_group", "log-group")]
    assert alarms(aws) == {}
    assert [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":alm-alarms")] == []
    assert aws.logs.describe_log_groups(logGroupNamePrefix="/webstack/alm")["logGroups"] == []


def test_existing_topic_only_the_alarms_whose_inputs_are_given(emulator, aws):
    env = "alm2"
    topic = aws.sns.create_topic(Name="alm2-ops")["TopicArn"]
    args = {
        "environment": env,
        "load_balancer": LB_DIM,
        "topic_arn": topic,
        "target_5xx": {"enabled": False},
        "dead_letter_queue": "arn:aws:sqs:us-east-1:123456789012:alm2-worker-dlq",
    }
    first = run_task(emulator, "alarms", args)
    assert first.actions() == [
        ("create", "alarm", "dead-letter-depth"),
        ("create", "alarm", "elb-5xx"),
        ("create", "alarm", "target-response-time"),
    ]
    assert first.result["alarms"]["topic_arn"] == topic
    found = alarms(aws, env)
    assert dims(found["target-response-time"]) == {"LoadBalancer": LB_DIM}
    assert found["elb-5xx"]["AlarmActions"] == [topic]
    assert dims(found["dead-letter-depth"]) == {"QueueName": "alm2-worker-dlq"}
    again = run_task(emulator, "alarms", args)
    assert again.changed is False and again.calls["mutating"] == 0
    info = run_task(emulator, "environment_info", {"environment": env})
    assert sorted(r["key"] for r in info.result["resources"]) == [
        "dead-letter-depth",
        "elb-5xx",
        "target-response-time",
    ]
    run_task(emulator, "alarms", {"environment": env, "state": "absent"})
    assert alarms(aws, env) == {}
    aws.sns.delete_topic(TopicArn=topic)


BAD_INPUTS = [
    ({"load_balancer": "my-alb"}, "load_balancer: 'my-alb' is not an Application Load Balancer ARN"),
    ({"create_topic": True, "subscriptions": [{"protocol": "email", "endpoint": "nobody"}]}, "not an email"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "alm-bad"}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "alarms", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
