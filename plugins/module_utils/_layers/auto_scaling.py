# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The auto_scaling layer: launch template, Auto Scaling group, scaling policies, instance refresh."""

from __future__ import annotations

import re

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    Desired,
    EngineError,
    Ref,
    Unknown,
    tag_changes,
    validation,
)
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, collect
from ansible_collections.webstack.aws.plugins.module_utils._kinds.autoscaling import (
    AutoScalingGroup,
    InstanceRefresh,
    ScalingPolicy,
    TemplateVersion,
    instances_of,
    propagated,
    running_refresh,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import (
    EVENTUAL_CONSISTENCY_CODES,
    TEMPLATE_KEY,
    LaunchTemplate,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.iam import PROFILE_NOT_READY

IMAGE_ID = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# family (letters, a generation digit, attribute letters; u-6tb1 style too) "." size
INSTANCE_TYPE = re.compile(
    r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(?:nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal(?:-[0-9]+xl)?)$"
)
SUBNET_ID = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
GROUP_ID = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
PROFILE_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
PROFILE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:instance-profile/(?:[\w+=,.@/-]+/)?[\w+=,.@-]{1,128}$")
TARGET_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:(targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+)$"
)
LOAD_BALANCER_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/(app/[A-Za-z0-9-]{1,32}/[0-9a-f]+)$"
)
DEVICE_NAME = re.compile(r"^/dev/[a-z0-9]+$")
STEP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_GROUP_SIZE = 1000
USER_DATA_LIMIT = 16384  # bytes, before base64 (AWS's limit)
TERMINATION_POLICIES = (
    "Default",
    "AllocationStrategy",
    "OldestLaunchTemplate",
    "OldestLaunchConfiguration",
    "ClosestToNextInstanceHour",
    "NewestInstance",
    "OldestInstance",
)
ADJUSTMENT_TYPES = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")
ASG_KEY = "auto_scaling_group"


def argument_spec():
    return dict(
        image_id=dict(type="str"),
        instance_type=dict(type="str", default="t3.micro"),
        instance_profile=dict(type="str"),
        security_group_ids=dict(type="list", elements="str", default=[]),
        metadata_http_tokens=dict(type="str", default="required", choices=["required", "optional"]),
        metadata_hop_limit=dict(type="int", default=2),
        root_device_name=dict(type="str", default="/dev/xvda"),
        root_volume_size=dict(type="int", default=20),
        user_data=dict(type="str"),
        subnet_ids=dict(type="list", elements="str", default=[]),
        min_size=dict(type="int", default=1),
        max_size=dict(type="int", default=2),
        desired_capacity=dict(type="int"),
        health_check_type=dict(type="str", default="ELB", choices=["ELB", "EC2"]),
        health_check_grace_period=dict(type="int", default=300),
        target_group_arns=dict(type="list", elements="str", default=[]),
        termination_policies=dict(type="list", elements="str", default=["Default"], choices=list(TERMINATION_POLICIES)),
        default_cooldown=dict(type="int", default=300),
        cpu_target_value=dict(type="float"),
        request_count_target_value=dict(type="float"),
        load_balancer_arn=dict(type="str"),
        disable_scale_in=dict(type="bool", default=False),
        estimated_instance_warmup=dict(type="int"),
        step_policies=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                adjustment_type=dict(type="str", default="ChangeInCapacity", choices=list(ADJUSTMENT_TYPES)),
                metric_aggregation_type=dict(type="str", default="Average", choices=["Average", "Minimum", "Maximum"]),
                estimated_instance_warmup=dict(type="int"),
                steps=dict(
                    type="list",
                    elements="dict",
                    required=True,
                    options=dict(
                        lower_bound=dict(type="float"),
                        upper_bound=dict(type="float"),
                        adjustment=dict(type="int", required=True),
                    ),
                ),
            ),
        ),
        instance_refresh=dict(type="bool", default=True),
        min_healthy_percentage=dict(type="int", default=90),
        instance_warmup=dict(type="int"),
        allow_replacement=dict(type="bool", default=False),
    )


def resource_label(load_balancer_arn, target_group_arn):
    """ALBRequestCountPerTarget's label: ``app/<lb>/<id>/targetgroup/<tg>/<id>`` from the two ARNs."""
    if not load_balancer_arn or not target_group_arn:  # check mode, before the load balancer exists
        return Unknown("request count label from the load balancer layer")
    return "%s/%s" % (
        LOAD_BALANCER_ARN.match(load_balancer_arn).group(1),
        TARGET_GROUP_ARN.match(target_group_arn).group(1),
    )


def validate_steps(steps, option):
    if not steps:
        raise ValidationError(option, "give at least one step (lower_bound, upper_bound, adjustment)")
    rows = sorted(
        ((s.get("lower_bound"), s.get("upper_bound")) for s in steps),
        key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0.0),
    )
    for index, (lower, upper) in enumerate(rows):
        if lower is None and upper is None:
            raise ValidationError(option, "a step needs lower_bound or upper_bound (or both)")
        if lower is not None and upper is not None and upper <= lower:
            raise ValidationError(option, "upper_bound %s must be above lower_bound %s" % (upper, lower))
        if index and rows[index - 1][1] != lower:
            raise ValidationError(
                option,
                "steps must be contiguous: one ends at %s but the next starts at %s" % (rows[index - 1][1], lower),
            )
    if rows[0][0] is not None and rows[-1][1] is not None:
        raise ValidationError(option, "the first step needs no lower_bound or the last no upper_bound")


def later_layer_value(value, option, index, check_mode, layer):
    """Whether a list entry is null (Ansible passes an empty string for it): allowed in check mode only,
    as an earlier layer's id not created yet."""
    if value:
        return False
    if not check_mode:
        raise ValidationError("%s[%d]" % (option, index), "is null; pass the %s layer's output" % layer)
    return True


def with_unknowns(values, what):
    """Known values sorted, then one unknown per null entry (check mode before an earlier layer exists)."""
    known = sorted(v for v in values if v)
    return known + [Unknown(what) for v in values if not v]


def check_image(params):
    if not params.get("image_id"):
        raise ValidationError("image_id", "is required when state=present; give the AMI id, like ami-0123456789abcdef0")
    if not IMAGE_ID.match(params["image_id"]):
        raise ValidationError(
            "image_id", "%r is not an AMI id; write it like ami-0123456789abcdef0" % (params["image_id"],)
        )


def check_instance_type(params):
    if not INSTANCE_TYPE.match(params["instance_type"] or ""):
        raise ValidationError(
            "instance_type",
            "%r is not an instance type; write family.size in lowercase, like t3.micro or m7g.large"
            % (params["instance_type"],),
        )


def check_instance_profile(params):
    profile = params.get("instance_profile")
    if profile and not (PROFILE_ARN.match(profile) if profile.startswith("arn:") else PROFILE_NAME.match(profile)):
        raise ValidationError(
            "instance_profile",
            "%r is neither an instance profile name nor an instance profile ARN "
            "(arn:aws:iam::123456789012:instance-profile/name); pass the instance_profile module's output" % profile,
        )


# list option -> (the layer whose output it is, the pattern of one entry, what one entry is)
LATER_LAYER_LISTS = {
    "security_group_ids": ("security_groups", GROUP_ID, "is not a security group id (sg-...)"),
    "subnet_ids": ("network", SUBNET_ID, "is not a subnet id (subnet-...)"),
    "target_group_arns": (
        "load balancer",
        TARGET_GROUP_ARN,
        "is not a target group ARN; pass the load_balancer module's target group ARN",
    ),
}


def check_id_list(params, option, check_mode):
    layer, pattern, problem = LATER_LAYER_LISTS[option]
    for index, value in enumerate(params[option]):
        if later_layer_value(value, option, index, check_mode, layer):
            continue
        if not pattern.match(value or ""):
            raise ValidationError("%s[%d]" % (option, index), "%r %s" % (value, problem))


def check_subnets(params, check_mode):
    if not params["subnet_ids"] and not check_mode:
        raise ValidationError(
            "subnet_ids", "is required when state=present; pass the network layer's private subnet ids"
        )
    check_id_list(params, "subnet_ids", check_mode)


def check_root_device(params):
    if not DEVICE_NAME.match(params["root_device_name"] or ""):
        raise ValidationError("root_device_name", "%r is not a device name like /dev/xvda" % params["root_device_name"])


def check_user_data(params):
    if params.get("user_data") and len(params["user_data"].encode("utf-8")) > USER_DATA_LIMIT:
        raise ValidationError(
            "user_data",
            "is %d bytes; AWS allows %d - fetch a script instead" % (len(params["user_data"]), USER_DATA_LIMIT),
        )


def check_sizes(params):
    validation.in_range(params["min_size"], "min_size", 0, MAX_GROUP_SIZE)
    validation.in_range(params["max_size"], "max_size", 0, MAX_GROUP_SIZE)
    if params["min_size"] > params["max_size"]:
        raise ValidationError("min_size", "%d is above max_size %d" % (params["min_size"], params["max_size"]))
    if params.get("desired_capacity") is not None:
        validation.in_range(params["desired_capacity"], "desired_capacity", params["min_size"], params["max_size"])


def check_cpu_target(params):
    if params.get("cpu_target_value") is not None and not 1 <= params["cpu_target_value"] <= 100:
        raise ValidationError(
            "cpu_target_value", "%s is not a CPU percentage from 1 to 100" % params["cpu_target_value"]
        )


def check_request_count_target(params, check_mode):
    if params.get("request_count_target_value") is None:
        return
    if params["request_count_target_value"] <= 0:
        raise ValidationError("request_count_target_value", "must be above 0 (requests per target per minute)")
    if not params["target_group_arns"]:
        raise ValidationError("request_count_target_value", "needs target_group_arns (the first one is measured)")
    if not params.get("load_balancer_arn") and not check_mode:
        raise ValidationError("request_count_target_value", "needs load_balancer_arn (the ALB of the target group)")


def check_load_balancer(params):
    if params.get("load_balancer_arn") and not LOAD_BALANCER_ARN.match(params["load_balancer_arn"]):
        raise ValidationError(
            "load_balancer_arn", "%r is not an application load balancer ARN" % params["load_balancer_arn"]
        )


def check_step_policy(step, option, earlier):
    if not STEP_NAME.match(step["name"]):
        raise ValidationError(option + ".name", "%r: use 1 to 40 lowercase letters, digits and hyphens" % step["name"])
    if step["name"] in earlier:
        raise ValidationError(option + ".name", "%r is used twice; give each step policy its own name" % step["name"])
    if step.get("estimated_instance_warmup") is not None:
        validation.in_range(step["estimated_instance_warmup"], option + ".estimated_instance_warmup", 0, 86400)
    validate_steps(step["steps"], option + ".steps")


def check_step_policies(params):
    steps = params["step_policies"]
    names = [step["name"] for step in steps]
    collect(
        *[
            (lambda index=index, step=step: check_step_policy(step, "step_policies[%d]" % index, names[:index]))
            for index, step in enumerate(steps)
        ]
    )


# the plain integer options: (option, lowest, highest, may be left out)
RANGES = (
    ("metadata_hop_limit", 1, 64, False),
    ("root_volume_size", 1, 16384, False),
    ("health_check_grace_period", 0, 86400, False),
    ("default_cooldown", 0, 86400, False),
    ("estimated_instance_warmup", 0, 86400, True),
    ("instance_warmup", 0, 86400, True),
    ("min_healthy_percentage", 0, 100, False),
)


def range_check(params, option, low, high, optional):
    def check():
        if not (optional and params.get(option) is None):
            validation.in_range(params.get(option), option, low, high)

    return check


def validate(params, check_mode=False):
    if params["state"] != "present":
        return
    collect(
        lambda: check_image(params),
        lambda: check_instance_type(params),
        lambda: check_instance_profile(params),
        lambda: check_id_list(params, "security_group_ids", check_mode),
        lambda: check_root_device(params),
        lambda: check_user_data(params),
        lambda: check_subnets(params, check_mode),
        lambda: check_sizes(params),
        lambda: check_id_list(params, "target_group_arns", check_mode),
        lambda: check_cpu_target(params),
        lambda: check_request_count_target(params, check_mode),
        lambda: check_load_balancer(params),
        lambda: check_step_policies(params),
        *[range_check(params, *row) for row in RANGES],
    )


class AutoScalingLayer(LayerSpec):
    layer = "auto_scaling"
    result_key = "auto_scaling"
    services = ("ec2", "autoscaling")
    retry_codes = EVENTUAL_CONSISTENCY_CODES + ("InvalidLaunchTemplateId.NotFound",)
    # an instance profile created moments ago (instance_profile layer) is not usable yet for ~10 s on real AWS
    retry_messages = PROFILE_NOT_READY

    def kinds(self):
        return [LaunchTemplate(), AutoScalingGroup(), ScalingPolicy(), InstanceRefresh()]

    def validate(self, params, check_mode):
        validate(params, check_mode)

    def template_fields(self, ctx, params):
        return {
            "launch_template_name": ctx.environment,
            "image_id": params["image_id"],
            "instance_type": params["instance_type"],
            "iam_instance_profile": params.get("instance_profile") or None,
            "security_group_ids": with_unknowns(
                params["security_group_ids"], "security group id from the security_groups layer"
            ),
            "metadata_http_tokens": params["metadata_http_tokens"],
            "metadata_hop_limit": params["metadata_hop_limit"],
            "root_device_name": params["root_device_name"],
            "root_volume_size": params["root_volume_size"],
            "root_volume_type": "gp3",
            "root_volume_encrypted": True,
            "user_data": params.get("user_data") or None,
            "instance_tags": ctx.tags_for("instance"),
        }

    def policies(self, ctx, params):
        group = ctx.environment
        common = {"auto_scaling_group_name": Ref("auto_scaling_group", ASG_KEY)}
        found = {}
        warmup = params.get("estimated_instance_warmup")
        for key, metric, value, label in (
            ("cpu", "ASGAverageCPUUtilization", params.get("cpu_target_value"), None),
            (
                "requests",
                "ALBRequestCountPerTarget",
                params.get("request_count_target_value"),
                resource_label(params["load_balancer_arn"], params["target_group_arns"][0])
                if params.get("request_count_target_value") is not None
                else None,
            ),
        ):
            if value is None:
                continue
            found[key] = dict(
                common,
                policy_type="TargetTrackingScaling",
                estimated_instance_warmup=warmup,
                metric_type=metric,
                resource_label=label,
                target_value=float(value),
                disable_scale_in=bool(params["disable_scale_in"]),
            )
        for step in params["step_policies"]:
            found["step-" + step["name"]] = dict(
                common,
                policy_type="StepScaling",
                estimated_instance_warmup=step.get("estimated_instance_warmup"),
                adjustment_type=step["adjustment_type"],
                metric_aggregation_type=step["metric_aggregation_type"],
                steps=sorted(
                    [
                        [
                            float(s["lower_bound"]) if s.get("lower_bound") is not None else None,
                            float(s["upper_bound"]) if s.get("upper_bound") is not None else None,
                            s["adjustment"],
                        ]
                        for s in step["steps"]
                    ],
                    key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0.0),
                ),
            )
        self.policy_names = dict((key, "%s-%s" % (group, key)) for key in found)
        return found

    def desired(self, ctx, params, current):
        template = self.template_fields(ctx, params)
        subnets = with_unknowns(params["subnet_ids"], "subnet id from the network layer")
        if not subnets:
            subnets = Unknown("subnet_ids from the network layer")
        group_tags = ctx.tags_for(ASG_KEY)
        have_group = current.get("auto_scaling_group", {}).get(ASG_KEY)
        after_tags = group_tags
        if have_group is not None:
            after_tags = tag_changes(have_group.tags, group_tags, ctx.purge_tags)[2]
        group = {
            "auto_scaling_group_name": ctx.environment,
            "launch_template_id": Ref("launch_template", TEMPLATE_KEY),
            "launch_template_version": None,  # below
            "subnet_ids": subnets,
            "min_size": params["min_size"],
            "max_size": params["max_size"],
            "health_check_type": params["health_check_type"],
            "health_check_grace_period": params["health_check_grace_period"],
            "target_group_arns": with_unknowns(
                params["target_group_arns"], "target group ARN from the load balancer layer"
            ),
            "termination_policies": list(params["termination_policies"]),
            "default_cooldown": params["default_cooldown"],
            "propagated_tags": propagated(after_tags),
        }
        if params.get("desired_capacity") is not None:
            group["desired_capacity"] = params["desired_capacity"]
        elif have_group is None:
            group["desired_capacity"] = params["min_size"]  # at creation only: later, scaling policies decide
        want = {
            "launch_template": {TEMPLATE_KEY: Desired(template, ctx.tags_for(TEMPLATE_KEY))},
            "auto_scaling_group": {ASG_KEY: Desired(group, group_tags)},
            "scaling_policy": dict((k, Desired(v, {})) for k, v in self.policies(ctx, params).items()),
        }
        target = self.target_version(current, template)
        refresh = self.refresh(ctx, params, current, template, have_group, target)
        if refresh is not None:
            # the refresh moves the group to the new version (and back, if it rolls back)
            group["launch_template_version"] = have_group.fields.get("launch_template_version")
            refresh["launch_template_id"] = Ref("launch_template", TEMPLATE_KEY)
            want["instance_refresh"] = {"instance_refresh": Desired(refresh, {})}
        else:
            group["launch_template_version"] = target
        return want

    def target_version(self, current, template):
        """The template version the group should run: the default one, or the one this run makes."""
        have = current.get("launch_template", {}).get(TEMPLATE_KEY)
        if have is None or self.template_changes(current, template):
            return TemplateVersion()
        return str((have.raw or {}).get("DefaultVersionNumber"))

    def template_changes(self, current, template):
        have = current.get("launch_template", {}).get(TEMPLATE_KEY)
        if have is None:
            return None
        kind = LaunchTemplate()
        return sorted(f for f, v in template.items() if not kind.equal(f, have.fields.get(f), v))

    def refresh(self, ctx, params, current, template, have_group, target):
        """The instance refresh to plan: when the group's instances are to run another template version."""
        self.refresh_reason = None
        if have_group is None or not (have_group.raw or {}).get("Instances"):
            return None
        changed = self.template_changes(current, template)
        running = have_group.fields.get("launch_template_version")
        if changed:
            self.refresh_reason = "launch template changes: %s" % ", ".join(changed)
        elif running != target:
            self.refresh_reason = "the group runs launch template version %s, the template's default is %s" % (
                running,
                target,
            )
        else:
            return None
        if not params["instance_refresh"]:
            return None
        running = running_refresh(ctx, ctx.environment)
        if running is not None:
            raise EngineError(
                "instance_refresh: Auto Scaling group %s already has instance refresh %s %s; wait for it to end "
                "(or cancel it) and run again."
                % (ctx.environment, running.get("InstanceRefreshId"), running.get("Status"))
            )
        return {
            "auto_scaling_group_name": ctx.environment,
            "launch_template_version": target,
            "reason": self.refresh_reason,
            "min_healthy_percentage": params["min_healthy_percentage"],
            "instance_warmup": params.get("instance_warmup")
            if params.get("instance_warmup") is not None
            else params["health_check_grace_period"],
        }

    def outputs(self, ctx, params, ids, current):
        env = ctx.environment
        template = ctx.description("launch_template", TEMPLATE_KEY, current) or {}
        group_id = ids.get("auto_scaling_group", {}).get(ASG_KEY)
        have = current.get("auto_scaling_group", {}).get(ASG_KEY)
        group = have.raw if have is not None else None
        if group_id is not None and ctx.applied and not ctx.check_mode:
            # changed in this run: what AWS holds now (instances launched, capacity set)
            found = ctx.call("autoscaling", "describe_auto_scaling_groups", AutoScalingGroupNames=[group_id])
            group = (found.get("AutoScalingGroups") or [group])[0]
        policies = {}
        for key, name in sorted(self.policy_names.items()):
            policy = ctx.description("scaling_policy", key, current) or {}
            policies[key] = {
                "policy_name": name,
                "policy_arn": policy.get("PolicyARN") if ids.get("scaling_policy", {}).get(key) else None,
            }
        missing = [key for key, value in policies.items() if not value["policy_arn"]]
        if missing and group_id is not None and ctx.applied and not ctx.check_mode:
            # PutScalingPolicy answers the ARN; an endpoint that does not (moto) is read back once
            found = ctx.paginate("autoscaling", "describe_policies", "ScalingPolicies", AutoScalingGroupName=group_id)
            arns = dict((p["PolicyName"], p.get("PolicyARN")) for p in found)
            for key in missing:
                policies[key]["policy_arn"] = arns.get(policies[key]["policy_name"])
        refresh = ctx.description("instance_refresh", "instance_refresh", None) or {}
        return {
            "environment": env,
            "auto_scaling_group_name": group_id,
            "auto_scaling_group_arn": (group or {}).get("AutoScalingGroupARN"),
            "launch_template_id": ids.get("launch_template", {}).get(TEMPLATE_KEY),
            "launch_template_name": env,
            "launch_template_version": template.get("DefaultVersionNumber")
            if ids.get("launch_template", {}).get(TEMPLATE_KEY)
            else None,
            "min_size": params["min_size"],
            "max_size": params["max_size"],
            "desired_capacity": (group or {}).get("DesiredCapacity"),
            "instances": instances_of(group),
            "policies": policies,
            "instance_refresh": {
                "id": refresh.get("InstanceRefreshId"),
                "status": refresh.get("Status"),
                "reason": self.refresh_reason,
            }
            if self.refresh_reason
            else None,
        }
