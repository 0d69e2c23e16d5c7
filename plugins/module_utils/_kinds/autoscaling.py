# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auto Scaling resource kinds: the group, its scaling policies, and the instance refresh.

- ``AutoScalingGroup``: one per environment, named after it, read with one
  DescribeAutoScalingGroups(AutoScalingGroupNames=[environment]) call; tags by
  CreateOrUpdateTags / DeleteTags, given at creation.
- ``ScalingPolicy``: target tracking (CPU, ALB requests per target) and step policies, read with one
  DescribePolicies(AutoScalingGroupName=...) call and converged with PutScalingPolicy.  Policies cannot
  be tagged: they are found by their name, ``<environment>-<key>``, on the environment's group.
- ``InstanceRefresh``: not a lasting resource but an action the plan shows when the launch template
  changes under an existing group; StartInstanceRefresh (rolling, AutoRollback) and a wait on
  DescribeInstanceRefreshes that fails with AWS's reason when the refresh fails or rolls back.
"""

from __future__ import annotations

import dataclasses

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_RESOURCE,
    Current,
    EngineError,
    Kind,
    Unknown,
    contains_unknown,
    not_found,
    owned,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import TEMPLATE_KEY

try:
    import botocore
    import botocore.parsers
except ImportError:  # handled by AnsibleAWSModule
    pass

# Tags that identify a resource rather than the environment: they stay on the group, and instances get
# theirs from the launch template instead (so an instance is named <environment>-instance).
NOT_PROPAGATED = ("Name", TAG_RESOURCE)

REFRESH_RUNNING = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
REFRESH_FAILED = ("Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")


class TemplateVersion(Unknown):
    """The launch template's default version after this run's change: known once the template is written."""

    def __init__(self):
        super().__init__("launch_template version")


def template_version(ctx, value):
    """A planned version number, resolved at apply from what the launch template's create or update returned."""
    if not isinstance(value, Unknown):
        return value
    made = ctx.description("launch_template", TEMPLATE_KEY) or {}
    if made.get("DefaultVersionNumber") is None:
        raise EngineError("internal: the launch template's new version is not known yet")
    return str(made["DefaultVersionNumber"])


def propagated(tags):
    return sorted(k for k in tags if k not in NOT_PROPAGATED)


def asg_tags(group_name, tags):
    return [
        {
            "ResourceId": group_name,
            "ResourceType": "auto-scaling-group",
            "Key": k,
            "Value": v,
            "PropagateAtLaunch": k not in NOT_PROPAGATED,
        }
        for k, v in sorted(tags.items())
    ]


def group_fields(group):
    template = group.get("LaunchTemplate") or {}
    subnets = [s for s in (group.get("VPCZoneIdentifier") or "").split(",") if s]
    tags = dict((t["Key"], t["Value"]) for t in group.get("Tags") or [])
    return {
        "auto_scaling_group_name": group["AutoScalingGroupName"],
        "launch_template_id": template.get("LaunchTemplateId"),
        "launch_template_version": template.get("Version"),
        "subnet_ids": sorted(subnets),
        "min_size": group.get("MinSize"),
        "max_size": group.get("MaxSize"),
        "desired_capacity": group.get("DesiredCapacity"),
        "health_check_type": group.get("HealthCheckType"),
        "health_check_grace_period": group.get("HealthCheckGracePeriod", 0),
        "target_group_arns": sorted(group.get("TargetGroupARNs") or []),
        "termination_policies": list(group.get("TerminationPolicies") or ["Default"]),
        "default_cooldown": group.get("DefaultCooldown"),
        "propagated_tags": sorted(
            t["Key"] for t in group.get("Tags") or [] if t.get("PropagateAtLaunch") and t["Key"] in tags
        ),
    }


def instances_of(group):
    """The group's instances as the module returns them."""
    return [
        {
            "instance_id": i["InstanceId"],
            "availability_zone": i.get("AvailabilityZone"),
            "lifecycle_state": i.get("LifecycleState"),
            "health_status": i.get("HealthStatus"),
            "instance_type": i.get("InstanceType"),
            "launch_template_version": (i.get("LaunchTemplate") or {}).get("Version"),
        }
        for i in sorted((group or {}).get("Instances") or [], key=lambda i: i["InstanceId"])
    ]


def describe_group(ctx, name):
    groups = ctx.call("autoscaling", "describe_auto_scaling_groups", AutoScalingGroupNames=[name]).get(
        "AutoScalingGroups", []
    )
    return groups[0] if groups else None


class AutoScalingGroup(Kind):
    name = "auto_scaling_group"
    unordered = ("subnet_ids", "target_group_arns", "propagated_tags")
    create_only = ("auto_scaling_group_name",)
    updatable = (
        "launch_template_id",
        "launch_template_version",
        "subnet_ids",
        "min_size",
        "max_size",
        "desired_capacity",
        "health_check_type",
        "health_check_grace_period",
        "target_group_arns",
        "termination_policies",
        "default_cooldown",
        "propagated_tags",
    )
    # UpdateAutoScalingGroup parameters of plain fields
    PARAMS = (
        ("min_size", "MinSize"),
        ("max_size", "MaxSize"),
        ("desired_capacity", "DesiredCapacity"),
        ("health_check_type", "HealthCheckType"),
        ("health_check_grace_period", "HealthCheckGracePeriod"),
        ("termination_policies", "TerminationPolicies"),
        ("default_cooldown", "DefaultCooldown"),
    )

    def read(self, ctx):
        # The group is named after the environment: one call by name, kept only if its tags say it is ours.
        found = []
        for group in ctx.paginate(
            "autoscaling", "describe_auto_scaling_groups", "AutoScalingGroups", AutoScalingGroupNames=[ctx.environment]
        ):
            tags = dict((t["Key"], t["Value"]) for t in group.get("Tags") or [])
            if not owned(ctx, tags) or group.get("Status") == "Delete in progress":
                continue
            found.append(
                Current(
                    tags.get(TAG_RESOURCE, group["AutoScalingGroupName"]),
                    group["AutoScalingGroupName"],
                    group_fields(group),
                    tags,
                    group,
                )
            )
        return found

    def _params(self, ctx, fields):
        params = dict(
            AutoScalingGroupName=fields["auto_scaling_group_name"],
            LaunchTemplate={
                "LaunchTemplateId": fields["launch_template_id"],
                "Version": template_version(ctx, fields["launch_template_version"]),
            },
            VPCZoneIdentifier=",".join(fields["subnet_ids"]),
        )
        for field, param in self.PARAMS:
            if fields.get(field) is not None:
                params[param] = fields[field]
        return params

    def create(self, ctx, key, fields, tags):
        params = self._params(ctx, fields)
        if fields.get("target_group_arns"):
            params["TargetGroupARNs"] = list(fields["target_group_arns"])
        params["Tags"] = asg_tags(fields["auto_scaling_group_name"], tags)
        ctx.call("autoscaling", "create_auto_scaling_group", **params)
        return fields["auto_scaling_group_name"]

    def update(self, ctx, current, fields, changed):
        plain = [f for f in changed if f not in ("target_group_arns", "propagated_tags")]
        if plain:
            params = dict(AutoScalingGroupName=current.id)
            full = self._params(ctx, fields)
            if "launch_template_id" in plain or "launch_template_version" in plain:
                params["LaunchTemplate"] = full["LaunchTemplate"]
            if "subnet_ids" in plain:
                params["VPCZoneIdentifier"] = full["VPCZoneIdentifier"]
            for field, param in self.PARAMS:
                if field in plain:
                    params[param] = fields[field]
            ctx.call("autoscaling", "update_auto_scaling_group", **params)
        if "target_group_arns" in changed:
            have, want = set(current.fields.get("target_group_arns") or []), set(fields.get("target_group_arns") or [])
            if want - have:
                ctx.call(
                    "autoscaling",
                    "attach_load_balancer_target_groups",
                    AutoScalingGroupName=current.id,
                    TargetGroupARNs=sorted(want - have),
                )
            if have - want:
                ctx.call(
                    "autoscaling",
                    "detach_load_balancer_target_groups",
                    AutoScalingGroupName=current.id,
                    TargetGroupARNs=sorted(have - want),
                )
        if "propagated_tags" in changed:
            # Tags whose value is right but whose PropagateAtLaunch is not: written again with the right flag.
            ctx.call("autoscaling", "create_or_update_tags", Tags=asg_tags(current.id, current.tags))

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call("autoscaling", "create_or_update_tags", Tags=asg_tags(current.id, add))
        if remove:
            ctx.call(
                "autoscaling",
                "delete_tags",
                Tags=[{"ResourceId": current.id, "ResourceType": "auto-scaling-group", "Key": k} for k in remove],
            )

    def delete(self, ctx, current):
        # ForceDelete terminates the instances with the group (no scale-in to zero first); the wait below
        # lasts until the group, and so its instances, are gone, so the launch template can go next.
        ctx.call("autoscaling", "delete_auto_scaling_group", AutoScalingGroupName=current.id, ForceDelete=True)

    def wait_deleted(self, ctx, ids):
        def pending():
            still = []
            for name in ids:
                group = describe_group(ctx, name)
                if group is not None:
                    still.append(
                        "Auto Scaling group %s (%s, %d instances)"
                        % (name, group.get("Status") or "deleting", len(group.get("Instances") or []))
                    )
            return still

        ctx.poll("Auto Scaling groups to be deleted", pending)

    def wait_created(self, ctx, ids):
        def pending():
            still = []
            for name in ids:
                group = describe_group(ctx, name)
                if group is None:
                    still.append("Auto Scaling group %s (not visible yet)" % name)
                    continue
                in_service = [i for i in group.get("Instances") or [] if i.get("LifecycleState") == "InService"]
                wanted = group.get("DesiredCapacity") or 0
                if len(in_service) < wanted:
                    self._fail_on_launch_errors(ctx, name)
                    still.append(
                        "Auto Scaling group %s (%d of %d instances in service)" % (name, len(in_service), wanted)
                    )
            return still

        ctx.poll("Auto Scaling group instances to be in service", pending)

    def _fail_on_launch_errors(self, ctx, name):
        """Fail at once, with AWS's reason, when the new group cannot launch instances (a bad image, profile or
        subnet), instead of waiting for the timeout."""
        answer = ctx.call("autoscaling", "describe_scaling_activities", AutoScalingGroupName=name, MaxRecords=10)
        for activity in answer.get("Activities") or []:
            if activity.get("StatusCode") in ("Failed", "Cancelled"):
                raise EngineError(
                    "Auto Scaling group %s cannot launch instances: %s (%s). Fix the launch template or subnets "
                    "and run again."
                    % (name, activity.get("StatusMessage") or activity.get("Description"), activity.get("StatusCode"))
                )


def normalise_policy(policy):
    """A flat, comparable dict of a DescribePolicies entry (AWS defaults filled in, numbers as floats)."""
    kind = policy.get("PolicyType") or "SimpleScaling"
    warmup = policy.get("EstimatedInstanceWarmup")
    fields = {
        "auto_scaling_group_name": policy.get("AutoScalingGroupName"),
        "policy_type": kind,
        "estimated_instance_warmup": int(warmup) if warmup is not None else None,
    }
    if kind == "TargetTrackingScaling":
        config = policy.get("TargetTrackingConfiguration") or {}
        metric = config.get("PredefinedMetricSpecification") or {}
        fields.update(
            metric_type=metric.get("PredefinedMetricType"),
            resource_label=metric.get("ResourceLabel"),
            target_value=float(config["TargetValue"]) if config.get("TargetValue") is not None else None,
            disable_scale_in=bool(config.get("DisableScaleIn", False)),
        )
    elif kind == "StepScaling":
        fields.update(
            adjustment_type=policy.get("AdjustmentType"),
            metric_aggregation_type=policy.get("MetricAggregationType") or "Average",
            steps=normalise_steps(policy.get("StepAdjustments")),
        )
    return fields


def _bound(value):
    return float(value) if value is not None else None


def normalise_steps(steps):
    """Step adjustments as [lower, upper, adjustment] sorted by lower bound (None = unbounded)."""
    rows = [
        [
            _bound(s.get("MetricIntervalLowerBound")),
            _bound(s.get("MetricIntervalUpperBound")),
            int(s["ScalingAdjustment"]),
        ]
        for s in steps or []
    ]
    return sorted(rows, key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0.0))


def put_policy_params(name, fields):
    params = dict(
        AutoScalingGroupName=fields["auto_scaling_group_name"], PolicyName=name, PolicyType=fields["policy_type"]
    )
    if fields.get("estimated_instance_warmup") is not None:
        params["EstimatedInstanceWarmup"] = fields["estimated_instance_warmup"]
    if fields["policy_type"] == "TargetTrackingScaling":
        metric = {"PredefinedMetricType": fields["metric_type"]}
        if fields.get("resource_label"):
            metric["ResourceLabel"] = fields["resource_label"]
        params["TargetTrackingConfiguration"] = {
            "PredefinedMetricSpecification": metric,
            "TargetValue": fields["target_value"],
            "DisableScaleIn": bool(fields.get("disable_scale_in")),
        }
    else:
        params["AdjustmentType"] = fields["adjustment_type"]
        params["MetricAggregationType"] = fields["metric_aggregation_type"]
        adjustments = []
        for lower, upper, adjustment in fields["steps"]:
            step = {"ScalingAdjustment": adjustment}
            if lower is not None:
                step["MetricIntervalLowerBound"] = lower
            if upper is not None:
                step["MetricIntervalUpperBound"] = upper
            adjustments.append(step)
        params["StepAdjustments"] = adjustments
    return params


class ScalingPolicy(Kind):
    """A scaling policy named ``<environment>-<key>`` on the environment's group."""

    name = "scaling_policy"
    create_only = ("auto_scaling_group_name", "policy_type")
    updatable = (
        "estimated_instance_warmup",
        "metric_type",
        "resource_label",
        "target_value",
        "disable_scale_in",
        "adjustment_type",
        "metric_aggregation_type",
        "steps",
    )

    def read(self, ctx):
        prefix = ctx.environment + "-"
        found = []
        for policy in ctx.paginate(
            "autoscaling", "describe_policies", "ScalingPolicies", AutoScalingGroupName=ctx.environment
        ):
            if not policy["PolicyName"].startswith(prefix):
                continue  # made by hand: not ours to manage
            key = policy["PolicyName"][len(prefix) :]
            found.append(Current(key, policy["PolicyName"], normalise_policy(policy), {}, policy))
        return found

    def equal(self, field, before, after):
        if contains_unknown(after):
            return False
        if field in ("target_value",) and before is not None and after is not None:
            return float(before) == float(after)
        return before == after

    def create(self, ctx, key, fields, tags):
        name = "%s-%s" % (ctx.environment, key)
        answer = ctx.call("autoscaling", "put_scaling_policy", **put_policy_params(name, fields))
        ctx.remember(self.name, key, {"PolicyName": name, "PolicyARN": answer.get("PolicyARN")})
        return name

    def update(self, ctx, current, fields, changed):
        answer = ctx.call("autoscaling", "put_scaling_policy", **put_policy_params(current.id, fields))
        ctx.remember(self.name, current.key, {"PolicyName": current.id, "PolicyARN": answer.get("PolicyARN")})

    def set_tags(self, ctx, current, add, remove):
        """Scaling policies have no tags."""

    def delete(self, ctx, current):
        ctx.call(
            "autoscaling",
            "delete_policy",
            AutoScalingGroupName=current.fields["auto_scaling_group_name"],
            PolicyName=current.id,
        )


# What an endpoint without an API answers (moto: a 500 InternalFailure or a 404; others: InvalidAction ...).
MISSING_API_CODES = ("InternalFailure", "InvalidAction", "NotImplemented", "UnknownOperationException", "404")


def missing_api(error):
    """Whether a ClientError says the endpoint lacks the operation (not that the caller may not use it)."""
    status = (getattr(error, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return not_found(error, *MISSING_API_CODES) or status in (404, 501)


def running_refresh(ctx, group_name):
    """The group's instance refresh still running, or None.  Raises EngineError when the API is missing."""
    client = ctx.clients["autoscaling"]
    try:
        # Called without the module's retry wrapper: an endpoint without the API must fail fast.
        answer = client.describe_instance_refreshes(AutoScalingGroupName=group_name, MaxRecords=10)
    except (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
        botocore.parsers.ResponseParserError,  # an HTML error page instead of an answer
    ) as exc:
        if isinstance(exc, botocore.exceptions.ClientError) and not missing_api(exc):
            raise  # AccessDenied, throttling ...: a real answer, not a missing API
        raise EngineError(
            "instance_refresh: the launch template changes, so the instances of Auto Scaling group %s would be "
            "replaced by an instance refresh, but this endpoint does not answer DescribeInstanceRefreshes (%s). "
            "Nothing was changed. Set instance_refresh=false to update the launch template without replacing the "
            "running instances (new instances use it), or use an endpoint with the instance refresh API."
            % (group_name, str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__)
        ) from None
    for refresh in answer.get("InstanceRefreshes") or []:
        if refresh.get("Status") in REFRESH_RUNNING:
            return refresh
    return None


def refresh_failure(refresh):
    """The message for a refresh that ended without success, or None if it succeeded or still runs."""
    status = refresh.get("Status")
    if status not in REFRESH_FAILED:
        return None
    reason = refresh.get("StatusReason") or "no reason given"
    rollback = (refresh.get("RollbackDetails") or {}).get("RollbackReason")
    message = "Instance refresh %s of Auto Scaling group %s ended %s: %s" % (
        refresh.get("InstanceRefreshId"),
        refresh.get("AutoScalingGroupName"),
        status,
        reason,
    )
    if rollback:
        message += " (rollback: %s)" % rollback
    if status.startswith("Rollback"):
        message += (
            ". The instances run the previous launch template version again; fix the launch template "
            "(image, user data, health check) and run again."
        )
    return message


@dataclasses.dataclass
class RefreshState:
    """Instance refresh id -> its Auto Scaling group, for the refreshes started in this run."""

    refresh_groups: dict = dataclasses.field(default_factory=dict)


class InstanceRefresh(Kind):
    """A rolling replacement of the group's instances after a launch template change (planned, never read)."""

    name = "instance_refresh"
    updatable = ()

    def read(self, ctx):
        return []  # an action, not a lasting resource: planned only when the launch template changes

    def create(self, ctx, key, fields, tags):
        # AutoRollback needs a desired configuration with a numbered template version: the refresh moves the
        # group to it when it succeeds, and back to the version it had when it rolls back.
        preferences = {
            "MinHealthyPercentage": fields["min_healthy_percentage"],
            "AutoRollback": True,
            "SkipMatching": True,
        }
        if fields.get("instance_warmup") is not None:
            preferences["InstanceWarmup"] = fields["instance_warmup"]
        answer = ctx.call(
            "autoscaling",
            "start_instance_refresh",
            AutoScalingGroupName=fields["auto_scaling_group_name"],
            Strategy="Rolling",
            DesiredConfiguration={
                "LaunchTemplate": {
                    "LaunchTemplateId": fields["launch_template_id"],
                    "Version": template_version(ctx, fields["launch_template_version"]),
                }
            },
            Preferences=preferences,
        )
        refresh_id = answer["InstanceRefreshId"]
        ctx.state(RefreshState).refresh_groups[refresh_id] = fields["auto_scaling_group_name"]
        ctx.remember(self.name, key, {"InstanceRefreshId": refresh_id, "Status": "Pending"})
        return refresh_id

    def wait_created(self, ctx, ids):
        groups = ctx.state(RefreshState).refresh_groups

        def pending():
            still = []
            for refresh_id in ids:
                answer = ctx.call(
                    "autoscaling",
                    "describe_instance_refreshes",
                    AutoScalingGroupName=groups[refresh_id],
                    InstanceRefreshIds=[refresh_id],
                )
                refreshes = answer.get("InstanceRefreshes") or []
                if not refreshes:
                    still.append("instance refresh %s (not visible yet)" % refresh_id)
                    continue
                refresh = refreshes[0]
                ctx.remember(self.name, "instance_refresh", refresh)
                failure = refresh_failure(refresh)
                if failure:
                    raise EngineError(failure)
                if refresh.get("Status") != "Successful":
                    still.append(
                        "instance refresh %s (%s, %s%% done)"
                        % (refresh_id, refresh.get("Status"), refresh.get("PercentageComplete", 0))
                    )
            return still

        ctx.poll("the instance refresh to replace the instances", pending, interval=15.0, max_interval=30.0)

    def delete(self, ctx, current):
        """Never planned: a refresh is not read back."""

    def set_tags(self, ctx, current, add, remove):
        """An instance refresh has no tags."""
