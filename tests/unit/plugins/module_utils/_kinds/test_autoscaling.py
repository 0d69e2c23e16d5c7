"""Auto Scaling kinds (``_kinds/autoscaling.py``) without an emulator: group and policy normalisation, and the
instance refresh (start, wait, rollback, missing API) with botocore's Stubber against the real autoscaling model,
since moto 5.2.5 answers the instance refresh calls with HTTP 500."""

from __future__ import annotations

import copy

import botocore.exceptions
import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current, Engine, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._kinds.autoscaling import (
    AutoScalingGroup,
    InstanceRefresh,
    ScalingPolicy,
    TemplateVersion,
    asg_tags,
    group_fields,
    normalise_policy,
    put_policy_params,
    refresh_failure,
    running_refresh,
    template_version,
)
from ansible_collections.webstack.aws.plugins.module_utils._layers.auto_scaling import (
    AutoScalingLayer,
    argument_spec,
)

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-lb/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067"
REFRESH_ID = "08b91cf7-8fa6-48af-b6a6-d227f40f1b9b"


def params(**extra):
    """Module params as AnsibleModule would pass them: every option, defaults filled in."""
    spec = argument_spec()
    values = dict((name, copy.deepcopy(option.get("default"))) for name, option in spec.items())
    values.update(
        environment="shop",
        state="present",
        image_id="ami-0123456789abcdef0",
        subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        tags=None,
        purge_tags=True,
    )
    values.update(extra)
    return values


# -- group and policies -----------------------------------------------------------------------------------


def test_group_fields_and_tags():
    group = {
        "AutoScalingGroupName": "shop",
        "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "$Default"},
        "VPCZoneIdentifier": "subnet-b,subnet-a",
        "MinSize": 1,
        "MaxSize": 3,
        "DesiredCapacity": 2,
        "HealthCheckType": "ELB",
        "HealthCheckGracePeriod": 300,
        "TargetGroupARNs": [TG],
        "TerminationPolicies": ["OldestInstance"],
        "DefaultCooldown": 300,
        "Tags": asg_tags("shop", {"Name": "shop-auto-scaling-group", "webstack:environment": "shop", "team": "a"}),
    }
    found = group_fields(group)
    assert found["subnet_ids"] == ["subnet-a", "subnet-b"]
    assert found["propagated_tags"] == ["team", "webstack:environment"]
    assert AutoScalingGroup().equal("subnet_ids", ["subnet-b", "subnet-a"], ["subnet-a", "subnet-b"])
    assert not AutoScalingGroup().equal("launch_template_id", "lt-1", Unknown("launch template"))
    assert group_fields(dict(group, TerminationPolicies=[]))["termination_policies"] == ["Default"]


def test_policy_params_round_trip_through_describe_policies():
    layer = AutoScalingLayer()
    ctx = Context("shop", "auto_scaling")
    wanted = layer.policies(
        ctx,
        params(
            cpu_target_value=50,
            request_count_target_value=1000,
            load_balancer_arn=LB,
            target_group_arns=[TG],
            step_policies=[
                {
                    "name": "burst",
                    "adjustment_type": "ChangeInCapacity",
                    "metric_aggregation_type": "Average",
                    "estimated_instance_warmup": None,
                    "steps": [
                        {"lower_bound": 20.0, "upper_bound": None, "adjustment": 3},
                        {"lower_bound": 0.0, "upper_bound": 20.0, "adjustment": 1},
                    ],
                }
            ],
        ),
    )
    assert sorted(wanted) == ["cpu", "requests", "step-burst"]
    assert wanted["requests"]["resource_label"] == "app/shop-lb/50dc6c495c0c9188/targetgroup/shop-web/73e2d6bc24d8a067"
    assert wanted["step-burst"]["steps"] == [[0.0, 20.0, 1], [20.0, None, 3]]
    for key, want in wanted.items():
        want = dict(want, auto_scaling_group_name="shop")
        sent = put_policy_params("shop-" + key, want)
        # what DescribePolicies answers for it: the same fields, numbers as AWS spells them
        described = dict(sent, PolicyARN="arn:x", StepAdjustments=sent.get("StepAdjustments", []))
        found = normalise_policy(described)
        kind = ScalingPolicy()
        assert all(kind.equal(f, found.get(f), v) for f, v in want.items()), (key, found, want)


def test_policy_normalisation_fills_defaults():
    found = normalise_policy(
        {
            "AutoScalingGroupName": "shop",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": 50,
            },
        }
    )
    assert found["target_value"] == 50.0 and found["disable_scale_in"] is False
    assert found["resource_label"] is None and found["estimated_instance_warmup"] is None
    assert ScalingPolicy().equal("target_value", 50, 50.0)


# -- what a read finds (the layer's state the refresh tests start from) --------------------------------------


def current_state(instance_type="t3.micro", instances=1, desired=1, running="1", default=1):
    layer = AutoScalingLayer()
    ctx = Context("shop", "auto_scaling")
    template = layer.template_fields(ctx, params(instance_type=instance_type))
    group = {
        "AutoScalingGroupName": "shop",
        "DesiredCapacity": desired,
        "Instances": [{"InstanceId": "i-1"}] * instances,
    }
    group_fields = {"desired_capacity": desired, "launch_template_version": running}
    return {
        "launch_template": {
            "launch_template": Current("launch_template", "lt-1", template, {}, {"DefaultVersionNumber": default})
        },
        "auto_scaling_group": {
            "auto_scaling_group": Current(
                "auto_scaling_group", "shop", group_fields, ctx.tags_for("auto_scaling_group"), group
            )
        },
        "scaling_policy": {},
        "instance_refresh": {},
    }


# -- instance refresh, with botocore's Stubber (moto has no instance refresh API) ----------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def stubbed():
    client = botocore.session.get_session().create_client(
        "autoscaling",
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="stubbed",  # noqa: S106 - never sent: the Stubber answers
    )
    with Stubber(client) as stubber:
        clock = Clock()
        ctx = Context(
            "shop", "auto_scaling", clients={"autoscaling": client}, sleep=clock.sleep, clock=clock, wait_timeout=600
        )
        yield ctx, stubber
        stubber.assert_no_pending_responses()


def refresh(status, percentage=0, reason=None, rollback=None):
    item = {
        "InstanceRefreshId": REFRESH_ID,
        "AutoScalingGroupName": "shop",
        "Status": status,
        "PercentageComplete": percentage,
    }
    if reason:
        item["StatusReason"] = reason
    if rollback:
        item["RollbackDetails"] = {"RollbackReason": rollback}
    return {"InstanceRefreshes": [item]}


REFRESH_FIELDS = {
    "auto_scaling_group_name": "shop",
    "launch_template_id": "lt-1",
    "launch_template_version": "2",
    "reason": "x",
    "min_healthy_percentage": 90,
    "instance_warmup": 300,
}
DESCRIBE = {"AutoScalingGroupName": "shop", "InstanceRefreshIds": [REFRESH_ID]}


def start(ctx, stubber):
    stubber.add_response(
        "start_instance_refresh",
        {"InstanceRefreshId": REFRESH_ID},
        {
            "AutoScalingGroupName": "shop",
            "Strategy": "Rolling",
            "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "2"}},
            "Preferences": {
                "MinHealthyPercentage": 90,
                "InstanceWarmup": 300,
                "AutoRollback": True,
                "SkipMatching": True,
            },
        },
    )
    return InstanceRefresh().create(ctx, "instance_refresh", REFRESH_FIELDS, {})


def test_instance_refresh_is_started_and_waited_until_successful_stubber(stubbed):
    ctx, stubber = stubbed
    assert start(ctx, stubber) == REFRESH_ID
    stubber.add_response("describe_instance_refreshes", refresh("Pending"), DESCRIBE)
    stubber.add_response("describe_instance_refreshes", refresh("InProgress", 50), DESCRIBE)
    stubber.add_response("describe_instance_refreshes", refresh("Successful", 100), DESCRIBE)
    InstanceRefresh().wait_created(ctx, [REFRESH_ID])
    assert ctx.description("instance_refresh", "instance_refresh")["Status"] == "Successful"


@pytest.mark.parametrize(
    "status,reason,rollback,words",
    [
        ("RollbackSuccessful", "Rolled back", "Health checks failed", "previous launch template version"),
        ("Failed", "Instances failed to launch: InvalidAMIID", None, "InvalidAMIID"),
        ("Cancelled", "Cancelled by user", None, "ended Cancelled"),
    ],
)
def test_instance_refresh_that_fails_or_rolls_back_fails_with_the_reason_stubber(
    stubbed, status, reason, rollback, words
):
    ctx, stubber = stubbed
    start(ctx, stubber)
    stubber.add_response("describe_instance_refreshes", refresh("InProgress", 30), DESCRIBE)
    stubber.add_response("describe_instance_refreshes", refresh(status, 30, reason, rollback), DESCRIBE)
    with pytest.raises(EngineError) as err:
        InstanceRefresh().wait_created(ctx, [REFRESH_ID])
    assert words in str(err.value) and REFRESH_ID in str(err.value)
    if rollback:
        assert rollback in str(err.value)


def test_instance_refresh_timeout_names_what_is_pending_stubber(stubbed):
    ctx, stubber = stubbed
    ctx.wait_timeout = 40
    start(ctx, stubber)
    for _index in range(4):
        stubber.add_response("describe_instance_refreshes", refresh("InProgress", 10), DESCRIBE)
    with pytest.raises(EngineError) as err:
        InstanceRefresh().wait_created(ctx, [REFRESH_ID])
    assert "Timed out after 40s" in str(err.value) and "(InProgress, 10% done)" in str(err.value)


def test_instance_refresh_missing_api_fails_before_any_change_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_client_error("describe_instance_refreshes", service_error_code="InternalFailure", http_status_code=500)
    with pytest.raises(EngineError) as err:
        running_refresh(ctx, "shop")
    assert "does not answer DescribeInstanceRefreshes" in str(err.value) and "instance_refresh=false" in str(err.value)


def test_new_version_is_resolved_at_apply():
    ctx = Context("shop", "auto_scaling")
    ctx.remember("launch_template", "launch_template", {"DefaultVersionNumber": 3})
    assert template_version(ctx, TemplateVersion()) == "3" and template_version(ctx, "2") == "2"
    with pytest.raises(EngineError):
        template_version(Context("shop", "auto_scaling"), TemplateVersion())


def test_refresh_failure_message_is_none_while_running_or_successful():
    assert refresh_failure({"Status": "InProgress"}) is None
    assert refresh_failure({"Status": "Successful"}) is None


def test_new_group_that_cannot_launch_fails_at_once_with_the_reason_stubber(stubbed):
    ctx, stubber = stubbed
    group = {
        "AutoScalingGroupName": "shop",
        "MinSize": 1,
        "MaxSize": 2,
        "DesiredCapacity": 1,
        "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1a"],
        "HealthCheckType": "ELB",
        "CreatedTime": "2026-01-01T00:00:00Z",
        "Instances": [],
    }
    stubber.add_response(
        "describe_auto_scaling_groups", {"AutoScalingGroups": [group]}, {"AutoScalingGroupNames": ["shop"]}
    )
    stubber.add_response(
        "describe_scaling_activities",
        {
            "Activities": [
                {
                    "ActivityId": "a-1",
                    "AutoScalingGroupName": "shop",
                    "Cause": "launch",
                    "StartTime": "2026-01-01T00:00:00Z",
                    "StatusCode": "Failed",
                    "StatusMessage": "The image id '[ami-0123456789abcdef0]' does not exist.",
                }
            ]
        },
        {"AutoScalingGroupName": "shop", "MaxRecords": 10},
    )
    with pytest.raises(EngineError) as err:
        AutoScalingGroup().wait_created(ctx, ["shop"])
    assert "cannot launch instances: The image id" in str(err.value)


def test_instance_refresh_through_the_engine_moves_the_group_to_the_new_version_stubber():
    """The glue no single kind shows: the plan (template update, then the refresh; the group left as is),
    and the apply handing the version the template update made to StartInstanceRefresh."""
    session = botocore.session.get_session()
    creds = dict(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE")
    creds["aws_secret_access_key"] = "stubbed"  # noqa: S105 - never sent: the Stubber answers
    ec2, autoscaling = session.create_client("ec2", **creds), session.create_client("autoscaling", **creds)
    clock = Clock()
    ctx = Context(
        "shop", "auto_scaling", clients={"ec2": ec2, "autoscaling": autoscaling}, sleep=clock.sleep, clock=clock
    )
    layer = AutoScalingLayer()
    current = current_state()
    # the group as it runs now: exactly what the layer wants of it, on template version 1
    now = layer.desired(ctx, params(), current)["auto_scaling_group"]["auto_scaling_group"]
    have = current["auto_scaling_group"]["auto_scaling_group"]
    have.fields = dict(now.fields, launch_template_id="lt-1")
    have.fields.pop("desired_capacity", None)
    current["launch_template"]["launch_template"].tags = ctx.tags_for("launch_template")
    engine = Engine(ctx, layer.kinds())
    engine.current = current
    engine.duplicates = {}
    with Stubber(ec2) as ec2_stub, Stubber(autoscaling) as asg_stub:
        asg_stub.add_response(
            "describe_instance_refreshes", {"InstanceRefreshes": []}, {"AutoScalingGroupName": "shop", "MaxRecords": 10}
        )
        desired = layer.desired(ctx, params(image_id="ami-0fedcba9876543210"), current)
        plan = engine.plan(desired)
        assert [(c.action, c.kind) for c in plan.changes] == [
            ("update", "launch_template"),
            ("create", "instance_refresh"),
        ]
        assert isinstance(plan.changes[1].fields["launch_template_version"][1], TemplateVersion)
        ec2_stub.add_response(
            "create_launch_template_version",
            {"LaunchTemplateVersion": {"LaunchTemplateId": "lt-1", "VersionNumber": 2}},
            {"LaunchTemplateId": "lt-1", "LaunchTemplateData": ANY, "VersionDescription": ANY, "ClientToken": ANY},
        )
        ec2_stub.add_response(
            "modify_launch_template", {"LaunchTemplate": {}}, {"LaunchTemplateId": "lt-1", "DefaultVersion": "2"}
        )
        asg_stub.add_response(
            "start_instance_refresh",
            {"InstanceRefreshId": REFRESH_ID},
            {
                "AutoScalingGroupName": "shop",
                "Strategy": "Rolling",
                "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "2"}},
                "Preferences": ANY,
            },
        )
        asg_stub.add_response("describe_instance_refreshes", refresh("Successful", 100), DESCRIBE)
        engine.apply(plan, desired)
        ec2_stub.assert_no_pending_responses()
        asg_stub.assert_no_pending_responses()
    assert ctx.applied == [
        "update launch_template launch_template (image_id)",
        "create instance_refresh instance_refresh",
    ]


def test_instance_refresh_access_denied_propagates_not_reported_as_a_missing_api_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_client_error("describe_instance_refreshes", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        running_refresh(ctx, "shop")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
