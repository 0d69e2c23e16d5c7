# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch and SNS resource kinds: metric alarms and the topic they notify.

Alarms are named ``<environment>-<key>`` and read with one DescribeAlarms(AlarmNamePrefix); the topic is
``<environment>-alarms``, found in one (paged) ListTopics.  Their tags come from one Resource Groups
Tagging API GetResources call filtered by the environment tag (CloudWatch and SNS have no batch tag
read); only a resource missing from that answer (the tagging API lags a new resource a little) is read
with its own ListTagsForResource.

An alarm's definition is compared on exactly the fields the module sets, normalised the way AWS
returns them: dimensions and actions sorted, thresholds as floats, DatapointsToAlarm defaulting to
EvaluationPeriods and TreatMissingData to ``missing``.
"""

from __future__ import annotations

import dataclasses

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_ENVIRONMENT,
    TAG_RESOURCE,
    Current,
    Kind,
    contains_unknown,
    owned,
    tag_dict,
    tag_list,
)

TAGGING = "resourcegroupstaggingapi"
ALARM_FIELDS = (
    "metric_name",
    "namespace",
    "statistic",
    "extended_statistic",
    "dimensions",
    "period",
    "evaluation_periods",
    "datapoints_to_alarm",
    "threshold",
    "comparison_operator",
    "treat_missing_data",
    "alarm_actions",
    "ok_actions",
    "actions_enabled",
    "alarm_description",
    "metrics",
)


@dataclasses.dataclass
class TaggingState:
    """ARN -> tags of the environment's alarms and topics (one GetResources listing per run), None until read."""

    tagged: dict | None = None


def tagged(ctx):
    """ARN -> tags of the environment's alarms and topics, in one GetResources call (cached for the run).
    None when no tagging client was given (then each candidate's tags are read on their own)."""
    if TAGGING not in ctx.clients:
        return None
    state = ctx.state(TaggingState)
    cache = state.tagged
    if cache is None:
        cache = {}
        for item in ctx.paginate(
            TAGGING,
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=[{"Key": TAG_ENVIRONMENT, "Values": [ctx.environment]}],
            ResourceTypeFilters=["cloudwatch:alarm", "sns:topic"],
        ):
            cache[item["ResourceARN"]] = tag_dict(item.get("Tags"))
        state.tagged = cache
    return cache


def _adoptable(kind, tags, suffix):
    """An untagged resource with exactly the name this layer gives (an alarm made by hand, or by an older
    version) is taken over: tagged and converged, instead of being overwritten blindly by a create."""
    return suffix in kind.known_keys and TAG_ENVIRONMENT not in tags


def dimensions(pairs):
    """Dimensions as AWS takes them, sorted by name: from a dict or a list of {Name, Value}."""
    if isinstance(pairs, dict):
        pairs = [{"Name": k, "Value": v} for k, v in pairs.items()]
    return sorted(({"Name": p["Name"], "Value": p["Value"]} for p in pairs or []), key=lambda p: p["Name"])


def normalise_metrics(queries):
    """Metric-math queries (PutMetricAlarm's Metrics) reduced to the keys the module sets, sorted by Id, with
    ReturnData's default (true) spelled out and dimensions sorted."""
    result = []
    for query in queries or []:
        item = {"Id": query["Id"], "ReturnData": query.get("ReturnData", True)}
        for key in ("Expression", "Label"):
            if query.get(key):
                item[key] = query[key]
        stat = query.get("MetricStat")
        if stat:
            metric = stat.get("Metric") or {}
            item["MetricStat"] = {
                "Metric": {
                    "Namespace": metric.get("Namespace"),
                    "MetricName": metric.get("MetricName"),
                    "Dimensions": dimensions(metric.get("Dimensions")),
                },
                "Period": stat.get("Period"),
                "Stat": stat.get("Stat"),
            }
        result.append(item)
    return sorted(result, key=lambda q: q["Id"])


def alarm_fields(alarm):
    """The comparable fields of a DescribeAlarms MetricAlarm, with AWS's implicit defaults spelled out."""
    evaluation = alarm.get("EvaluationPeriods")
    return {
        "metric_name": alarm.get("MetricName"),
        "namespace": alarm.get("Namespace"),
        "statistic": alarm.get("Statistic"),
        "extended_statistic": alarm.get("ExtendedStatistic"),
        "dimensions": dimensions(alarm.get("Dimensions")),
        "period": alarm.get("Period"),
        "evaluation_periods": evaluation,
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm") or evaluation,
        "threshold": float(alarm["Threshold"]) if alarm.get("Threshold") is not None else None,
        "comparison_operator": alarm.get("ComparisonOperator"),
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",
        "alarm_actions": sorted(alarm.get("AlarmActions") or []),
        "ok_actions": sorted(alarm.get("OKActions") or []),
        "actions_enabled": alarm.get("ActionsEnabled", True),
        "alarm_description": alarm.get("AlarmDescription") or "",
        "metrics": normalise_metrics(alarm.get("Metrics")),
    }


def put_metric_alarm_params(name, fields):
    """PutMetricAlarm's parameters for resolved desired fields (the whole definition: it is create and update)."""
    params = {
        "AlarmName": name,
        "AlarmDescription": fields.get("alarm_description") or "",
        "ActionsEnabled": bool(fields.get("actions_enabled", True)),
        "AlarmActions": sorted(fields.get("alarm_actions") or []),
        "OKActions": sorted(fields.get("ok_actions") or []),
        "EvaluationPeriods": fields["evaluation_periods"],
        "DatapointsToAlarm": fields.get("datapoints_to_alarm") or fields["evaluation_periods"],
        "Threshold": float(fields["threshold"]),
        "ComparisonOperator": fields["comparison_operator"],
        "TreatMissingData": fields.get("treat_missing_data") or "missing",
    }
    if fields.get("metrics"):  # metric math: the metrics, periods and statistics are in the queries
        params["Metrics"] = normalise_metrics(fields["metrics"])
        return params
    params.update(
        MetricName=fields["metric_name"],
        Namespace=fields["namespace"],
        Dimensions=dimensions(fields.get("dimensions")),
        Period=fields["period"],
    )
    if fields.get("extended_statistic"):
        params["ExtendedStatistic"] = fields["extended_statistic"]
    else:
        params["Statistic"] = fields["statistic"]
    return params


def alarm_equal(field, before, after):
    if contains_unknown(after):
        return False
    if field in ("alarm_actions", "ok_actions"):
        return sorted(before or []) == sorted(after or [])
    if field == "dimensions":
        return dimensions(before) == dimensions(after)
    if field == "threshold":
        return before is not None and after is not None and float(before) == float(after)
    if field == "alarm_description":
        return (before or "") == (after or "")
    if field == "metrics":
        return normalise_metrics(before) == normalise_metrics(after)
    return before == after


class Alarm(Kind):
    """A CloudWatch metric alarm named ``<environment>-<key>``.  PutMetricAlarm is both create and update."""

    name = "alarm"
    updatable = ALARM_FIELDS

    def __init__(self, known_keys=()):
        self.known_keys = tuple(known_keys)

    def read(self, ctx):
        prefix = ctx.environment + "-"
        tags_by_arn = tagged(ctx)
        found = []
        for alarm in ctx.paginate(
            "cloudwatch", "describe_alarms", "MetricAlarms", AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"]
        ):
            name, arn = alarm["AlarmName"], alarm["AlarmArn"]
            suffix = name[len(prefix) :]
            tags = (tags_by_arn or {}).get(arn)
            if tags is None and (tags_by_arn is None or suffix in self.known_keys):
                tags = tag_dict(ctx.call("cloudwatch", "list_tags_for_resource", ResourceARN=arn).get("Tags"))
            tags = tags or {}
            if not owned(ctx, tags) and not _adoptable(self, tags, suffix):
                continue  # another environment's ("shop-prod-..." seen from "shop"), or not ours at all
            found.append(Current(tags.get(TAG_RESOURCE, suffix), name, alarm_fields(alarm), tags, alarm))
        return found

    def equal(self, field, before, after):
        return alarm_equal(field, before, after)

    def create(self, ctx, key, fields, tags):
        name = "%s-%s" % (ctx.environment, key)
        ctx.call("cloudwatch", "put_metric_alarm", Tags=tag_list(tags), **put_metric_alarm_params(name, fields))
        return name

    def update(self, ctx, current, fields, changed):
        ctx.call("cloudwatch", "put_metric_alarm", **put_metric_alarm_params(current.id, fields))

    def delete(self, ctx, current):
        ctx.call("cloudwatch", "delete_alarms", AlarmNames=[current.id])

    def set_tags(self, ctx, current, add, remove):
        arn = current.raw["AlarmArn"]
        if add:
            ctx.call("cloudwatch", "tag_resource", ResourceARN=arn, Tags=tag_list(add))
        if remove:
            ctx.call("cloudwatch", "untag_resource", ResourceARN=arn, TagKeys=list(remove))


def subscription_key(item):
    return (item["protocol"], item["endpoint"])


class Topic(Kind):
    """An SNS topic named ``<environment>-<key>`` with its subscriptions ({protocol, endpoint}).

    A subscription still waiting for its confirmation cannot be removed (it has no ARN yet; AWS drops it
    after three days), so one that is no longer wanted is ignored rather than reported as a change."""

    name = "sns_topic"
    create_only = ("topic_name",)
    updatable = ("subscriptions",)

    def __init__(self, known_keys=()):
        self.known_keys = tuple(known_keys)

    def read(self, ctx):
        prefix = ctx.environment + "-"
        tags_by_arn = tagged(ctx)
        found = []
        for topic in ctx.paginate("sns", "list_topics", "Topics"):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            if not name.startswith(prefix):
                continue
            suffix = name[len(prefix) :]
            tags = (tags_by_arn or {}).get(arn)
            if tags is None and (tags_by_arn is None or suffix in self.known_keys):
                tags = tag_dict(ctx.call("sns", "list_tags_for_resource", ResourceArn=arn).get("Tags"))
            tags = tags or {}
            if not owned(ctx, tags) and not _adoptable(self, tags, suffix):
                continue
            subscriptions, arns = [], {}
            for sub in ctx.paginate("sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn):
                item = {"protocol": sub["Protocol"], "endpoint": sub["Endpoint"]}
                if not sub.get("SubscriptionArn", "").startswith("arn:"):
                    item["pending"] = True
                else:
                    arns[subscription_key(item)] = sub["SubscriptionArn"]
                subscriptions.append(item)
            fields = {"topic_name": name, "subscriptions": sorted(subscriptions, key=subscription_key)}
            raw = {"TopicArn": arn, "SubscriptionArns": arns}
            found.append(Current(tags.get(TAG_RESOURCE, suffix), arn, fields, tags, raw))
        return found

    def equal(self, field, before, after):
        if field == "subscriptions":
            want = set(subscription_key(s) for s in after or [])
            have = set(subscription_key(s) for s in before or [] if not s.get("pending") or subscription_key(s) in want)
            return have == want
        return before == after

    def create(self, ctx, key, fields, tags):
        arn = ctx.call("sns", "create_topic", Name=fields["topic_name"], Tags=tag_list(tags))["TopicArn"]
        empty = Current(key, arn, {"subscriptions": []}, raw={"TopicArn": arn, "SubscriptionArns": {}})
        self.update(ctx, empty, fields, ["subscriptions"])
        return arn

    def update(self, ctx, current, fields, changed):
        have = set(subscription_key(s) for s in current.fields.get("subscriptions") or [])
        want = sorted(set(subscription_key(s) for s in fields.get("subscriptions") or []))
        arns = (current.raw or {}).get("SubscriptionArns", {})
        for protocol, endpoint in want:
            if (protocol, endpoint) not in have:
                ctx.call(
                    "sns",
                    "subscribe",
                    TopicArn=current.id,
                    Protocol=protocol,
                    Endpoint=endpoint,
                    ReturnSubscriptionArn=True,
                )
        for sub_key in sorted(set(arns) - set(want)):
            ctx.call("sns", "unsubscribe", SubscriptionArn=arns[sub_key])

    def delete(self, ctx, current):
        ctx.call("sns", "delete_topic", TopicArn=current.id)

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call("sns", "tag_resource", ResourceArn=current.id, Tags=tag_list(add))
        if remove:
            ctx.call("sns", "untag_resource", ResourceArn=current.id, TagKeys=list(remove))


RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def log_group_name(environment):
    return "/webstack/%s" % environment


class LogGroup(Kind):
    """The environment's CloudWatch Logs group ``/webstack/<environment>`` with its retention.

    Found with one DescribeLogGroups by name prefix (kept: the group itself and groups under
    ``/webstack/<environment>/``); its tags with one ListTagsForResource (the Resource Groups Tagging API
    does not list log groups on every endpoint, and an environment has one group)."""

    name = "log_group"
    create_only = ("log_group_name",)
    updatable = ("retention_in_days",)

    def read(self, ctx):
        base = log_group_name(ctx.environment)
        found = []
        groups = ctx.paginate("logs", "describe_log_groups", "logGroups", logGroupNamePrefix=base)
        for group in groups:
            name = group["logGroupName"]
            if name != base and not name.startswith(base + "/"):
                continue  # /webstack/<environment>-other is another environment's
            arn = group.get("logGroupArn") or group["arn"].rsplit(":*", 1)[0]
            tags = ctx.call("logs", "list_tags_for_resource", resourceArn=arn).get("tags") or {}
            if not owned(ctx, tags) and not (name == base and TAG_ENVIRONMENT not in tags):
                continue
            fields = {"log_group_name": name, "retention_in_days": group.get("retentionInDays")}
            raw = dict(group, logGroupArn=arn)
            found.append(Current(tags.get(TAG_RESOURCE, "log-group"), name, fields, tags, raw))
        return found

    def create(self, ctx, key, fields, tags):
        name = fields["log_group_name"]
        ctx.call("logs", "create_log_group", logGroupName=name, tags=dict(tags))
        if fields.get("retention_in_days"):
            ctx.call("logs", "put_retention_policy", logGroupName=name, retentionInDays=fields["retention_in_days"])
        return name

    def update(self, ctx, current, fields, changed):
        if fields.get("retention_in_days"):
            ctx.call(
                "logs", "put_retention_policy", logGroupName=current.id, retentionInDays=fields["retention_in_days"]
            )
        else:
            ctx.call("logs", "delete_retention_policy", logGroupName=current.id)

    def delete(self, ctx, current):
        ctx.call("logs", "delete_log_group", logGroupName=current.id)

    def set_tags(self, ctx, current, add, remove):
        arn = current.raw["logGroupArn"]
        if add:
            ctx.call("logs", "tag_resource", resourceArn=arn, tags=dict(add))
        if remove:
            ctx.call("logs", "untag_resource", resourceArn=arn, tagKeys=list(remove))
