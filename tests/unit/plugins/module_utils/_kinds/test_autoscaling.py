"""The compute layer without an emulator: normalisation, validation, desired state, and the instance
refresh (start, wait, rollback, missing API) with botocore's Stubber against the real autoscaling model,
since moto 5.2.5 answers the instance refresh calls with HTTP 500."""

from __future__ import annotations

import base64
import copy

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current, Engine, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
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
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import (
    LaunchTemplate,
    build_data,
    decode_user_data,
    normalise_data,
)
from ansible_collections.webstack.aws.plugins.module_utils._layers.auto_scaling import (
    INSTANCE_TYPE,
    ComputeLayer,
    argument_spec,
    resource_label,
    validate,
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


def fields(**extra):
    base = {
        "image_id": "ami-0123456789abcdef0",
        "instance_type": "t3.micro",
        "iam_instance_profile": "shop-instance",
        "security_group_ids": ["sg-0123456789abcdef0"],
        "metadata_http_tokens": "required",
        "metadata_hop_limit": 2,
        "root_device_name": "/dev/xvda",
        "root_volume_size": 20,
        "root_volume_type": "gp3",
        "root_volume_encrypted": True,
        "user_data": "#!/bin/sh\necho hi\n",
        "instance_tags": {"Name": "shop-instance"},
    }
    base.update(extra)
    return base


# -- launch template ------------------------------------------------------------------------------------


def test_launch_template_data_round_trips():
    assert normalise_data(build_data(fields())) == fields()
    arn = "arn:aws:iam::123456789012:instance-profile/shop-instance"
    data = build_data(fields(iam_instance_profile=arn, user_data=None, security_group_ids=[]))
    assert data["IamInstanceProfile"] == {"Arn": arn} and "UserData" not in data and "SecurityGroupIds" not in data
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert [s["ResourceType"] for s in data["TagSpecifications"]] == ["instance", "volume"]
    assert base64.b64decode(build_data(fields())["UserData"]) == b"#!/bin/sh\necho hi\n"


def test_launch_template_normalisation_fills_aws_defaults_and_ignores_noise():
    data = build_data(fields(security_group_ids=["sg-2", "sg-1"]))
    data["MetadataOptions"] = {"HttpEndpoint": "enabled"}  # AWS defaults: optional tokens, hop limit 1
    data["UserData"] = None
    data["TagSpecifications"].append({"ResourceType": "launch-template", "Tags": [{"Key": "x", "Value": "y"}]})
    found = normalise_data(data)
    assert found["metadata_http_tokens"] == "optional" and found["metadata_hop_limit"] == 1
    assert found["security_group_ids"] == ["sg-1", "sg-2"] and found["user_data"] is None
    assert found["instance_tags"] == {"Name": "shop-instance"}
    assert normalise_data({})["root_volume_encrypted"] is False


def test_launch_template_equal_normalises():
    kind = LaunchTemplate()
    assert kind.equal("security_group_ids", ["sg-2", "sg-1"], ["sg-1", "sg-2"])
    assert kind.equal("user_data", "", None) and kind.equal("instance_tags", None, {})
    assert not kind.equal("instance_type", "t3.micro", "t3.small")


def test_user_data_that_is_not_ours_is_kept_as_is():
    assert decode_user_data(base64.b64encode(b"echo").decode()) == "echo"
    assert decode_user_data("!!not base64!!") == "!!not base64!!"
    assert decode_user_data(None) is None


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
    layer = ComputeLayer()
    ctx = Context("shop", "compute")
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


def test_resource_label_from_arns():
    assert resource_label(LB, TG) == "app/shop-lb/50dc6c495c0c9188/targetgroup/shop-web/73e2d6bc24d8a067"


# -- validation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["t3.micro", "m7g.large", "c6gn.16xlarge", "u-6tb1.metal", "mac1.metal", "x2iedn.xlarge"]
)
def test_instance_types_accepted(value):
    assert INSTANCE_TYPE.match(value)


@pytest.mark.parametrize("value", ["t3micro", "T3.micro", "large", "t3.", "t3.huge", "t.micro"])
def test_instance_types_refused(value):
    assert not INSTANCE_TYPE.match(value)


@pytest.mark.parametrize(
    "extra,option",
    [
        ({"image_id": None}, "image_id"),
        ({"image_id": "ami-xyz"}, "image_id"),
        ({"instance_type": "t3micro"}, "instance_type"),
        ({"instance_profile": "arn:aws:iam::1:role/x"}, "instance_profile"),
        ({"security_group_ids": ["default"]}, "security_group_ids[0]"),
        ({"metadata_hop_limit": 0}, "metadata_hop_limit"),
        ({"root_device_name": "xvda"}, "root_device_name"),
        ({"root_volume_size": 0}, "root_volume_size"),
        ({"user_data": "x" * 16385}, "user_data"),
        ({"subnet_ids": ["sn-1"]}, "subnet_ids[0]"),
        ({"min_size": 3, "max_size": 2}, "min_size"),
        ({"max_size": 1001}, "max_size"),
        ({"desired_capacity": 0, "min_size": 1}, "desired_capacity"),
        ({"target_group_arns": [LB]}, "target_group_arns[0]"),
        ({"cpu_target_value": 150.0}, "cpu_target_value"),
        ({"request_count_target_value": 10.0, "target_group_arns": [TG]}, "request_count_target_value"),
        ({"load_balancer_arn": TG}, "load_balancer_arn"),
        ({"min_healthy_percentage": 101}, "min_healthy_percentage"),
        (
            {"step_policies": [{"name": "a", "estimated_instance_warmup": None, "steps": []}]},
            "step_policies[0].steps",
        ),
        (
            {
                "step_policies": [
                    {
                        "name": "a",
                        "estimated_instance_warmup": None,
                        "steps": [
                            {"lower_bound": 0.0, "upper_bound": 10.0, "adjustment": 1},
                            {"lower_bound": 20.0, "upper_bound": None, "adjustment": 2},
                        ],
                    }
                ]
            },
            "step_policies[0].steps",
        ),
        ({"step_policies": [{"name": "Bad Name", "steps": []}]}, "step_policies[0].name"),
    ],
)
def test_validation_names_the_option(extra, option):
    with pytest.raises(ValidationError) as err:
        validate(params(**extra))
    assert err.value.option == option


def test_null_ids_of_earlier_layers_are_planned_as_unknown_in_check_mode_only():
    later = params(
        security_group_ids=[None],
        subnet_ids=[None, None],
        target_group_arns=[None],
        request_count_target_value=100.0,
        load_balancer_arn=None,
    )
    validate(later, check_mode=True)
    with pytest.raises(ValidationError) as err:
        validate(later, check_mode=False)
    assert str(err.value) == "security_group_ids[0]: is null; pass the firewall layer's output"
    want = ComputeLayer().desired(Context("shop", "compute"), later, {})
    template = want["launch_template"]["launch_template"].fields
    assert repr(template["security_group_ids"]) == "[(known after apply: security group id from the firewall layer)]"
    group = want["auto_scaling_group"]["auto_scaling_group"].fields
    assert [repr(s) for s in group["subnet_ids"]] == ["(known after apply: subnet id from the network layer)"] * 2
    label = want["scaling_policy"]["requests"].fields["resource_label"]
    assert isinstance(label, Unknown)


def test_validation_accepts_good_input_and_plans_without_subnets_in_check_mode():
    validate(
        params(cpu_target_value=50.0, request_count_target_value=100.0, load_balancer_arn=LB, target_group_arns=[TG])
    )
    validate(params(subnet_ids=[]), check_mode=True)
    with pytest.raises(ValidationError):
        validate(params(subnet_ids=[]), check_mode=False)
    validate(params(state="absent", image_id=None))


# -- desired state -----------------------------------------------------------------------------------------


def current_state(instance_type="t3.micro", instances=1, desired=1, running="1", default=1):
    layer = ComputeLayer()
    ctx = Context("shop", "compute")
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


def test_desired_capacity_is_set_at_creation_then_left_to_the_policies():
    layer = ComputeLayer()
    fresh = layer.desired(Context("shop", "compute"), params(min_size=2, max_size=4), {})
    assert fresh["auto_scaling_group"]["auto_scaling_group"].fields["desired_capacity"] == 2
    later = layer.desired(Context("shop", "compute"), params(min_size=2, max_size=4), current_state())
    assert "desired_capacity" not in later["auto_scaling_group"]["auto_scaling_group"].fields
    given = layer.desired(Context("shop", "compute"), params(max_size=4, desired_capacity=3), current_state())
    assert given["auto_scaling_group"]["auto_scaling_group"].fields["desired_capacity"] == 3
    group = fresh["auto_scaling_group"]["auto_scaling_group"]
    assert group.fields["propagated_tags"] == ["webstack:environment", "webstack:layer"]
    assert isinstance(group.fields["launch_template_version"], Unknown)  # the version the create makes
    assert later["auto_scaling_group"]["auto_scaling_group"].fields["launch_template_version"] == "1"


def test_no_refresh_when_nothing_changes_or_refresh_is_off():
    layer = ComputeLayer()
    same = layer.desired(Context("shop", "compute"), params(), current_state())
    assert "instance_refresh" not in same
    off = layer.desired(
        Context("shop", "compute"), params(instance_type="t3.small", instance_refresh=False), current_state()
    )
    assert "instance_refresh" not in off and layer.refresh_reason == "launch template changes: instance_type"
    # without a refresh the group is switched to the new version directly
    assert isinstance(off["auto_scaling_group"]["auto_scaling_group"].fields["launch_template_version"], Unknown)
    empty = layer.desired(Context("shop", "compute"), params(instance_type="t3.small"), current_state(instances=0))
    assert "instance_refresh" not in empty


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
            "shop", "compute", clients={"autoscaling": client}, sleep=clock.sleep, clock=clock, wait_timeout=600
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


def test_instance_refresh_planned_when_the_template_changes_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_response(
        "describe_instance_refreshes",
        {"InstanceRefreshes": [dict(refresh("Successful")["InstanceRefreshes"][0])]},
        {"AutoScalingGroupName": "shop", "MaxRecords": ANY},
    )
    want = ComputeLayer().desired(ctx, params(instance_type="t3.small", instance_warmup=60), current_state())
    planned = want["instance_refresh"]["instance_refresh"].fields
    version = planned.pop("launch_template_version")
    assert isinstance(version, Unknown) and repr(version) == "(known after apply: launch_template version)"
    assert repr(planned.pop("launch_template_id")) == "Ref(launch_template, launch_template)"
    assert planned == {
        "auto_scaling_group_name": "shop",
        "reason": "launch template changes: instance_type",
        "min_healthy_percentage": 90,
        "instance_warmup": 60,
    }
    # the refresh moves the group: its own version is left as it runs
    assert want["auto_scaling_group"]["auto_scaling_group"].fields["launch_template_version"] == "1"


def test_instance_refresh_planned_again_after_a_rollback_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_response(
        "describe_instance_refreshes", {"InstanceRefreshes": []}, {"AutoScalingGroupName": "shop", "MaxRecords": ANY}
    )
    layer = ComputeLayer()
    want = layer.desired(ctx, params(), current_state(running="1", default=2))
    assert want["instance_refresh"]["instance_refresh"].fields["launch_template_version"] == "2"
    assert layer.refresh_reason == "the group runs launch template version 1, the template's default is 2"


def test_new_version_is_resolved_at_apply():
    ctx = Context("shop", "compute")
    ctx.remember("launch_template", "launch_template", {"DefaultVersionNumber": 3})
    assert template_version(ctx, TemplateVersion()) == "3" and template_version(ctx, "2") == "2"
    with pytest.raises(EngineError):
        template_version(Context("shop", "compute"), TemplateVersion())


def test_instance_refresh_already_running_is_refused_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_response(
        "describe_instance_refreshes", refresh("InProgress", 20), {"AutoScalingGroupName": "shop", "MaxRecords": ANY}
    )
    with pytest.raises(EngineError) as err:
        ComputeLayer().desired(ctx, params(image_id="ami-0fedcba9876543210"), current_state())
    assert "already has instance refresh %s InProgress" % REFRESH_ID in str(err.value)


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


def test_launch_template_read_is_three_calls_and_trusts_describe_tags():
    client = botocore.session.get_session().create_client(
        "ec2",
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="stubbed",  # noqa: S106 - never sent: the Stubber answers
    )
    ctx = Context("shop", "compute", clients={"ec2": client})
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_launch_templates",
            {
                "LaunchTemplates": [
                    {
                        "LaunchTemplateId": "lt-1",
                        "LaunchTemplateName": "shop",
                        "DefaultVersionNumber": 2,
                        "LatestVersionNumber": 2,
                        "Tags": [{"Key": "team", "Value": "stale"}],
                    }
                ]
            },
            {"Filters": ANY},
        )
        stubber.add_response(
            "describe_tags",
            {
                "Tags": [
                    {"ResourceId": "lt-1", "ResourceType": "launch-template", "Key": k, "Value": v}
                    for k, v in (("team", "web"), ("webstack:resource", "launch_template"))
                ]
            },
            {
                "Filters": [
                    {"Name": "resource-type", "Values": ["launch-template"]},
                    {"Name": "resource-id", "Values": ["lt-1"]},
                ]
            },
        )
        stubber.add_response(
            "describe_launch_template_versions",
            {"LaunchTemplateVersions": [{"VersionNumber": 2, "LaunchTemplateData": build_data(fields())}]},
            {"LaunchTemplateId": "lt-1", "Versions": ["$Default"]},
        )
        found = LaunchTemplate().read(ctx)
        stubber.assert_no_pending_responses()
    assert len(found) == 1 and found[0].key == "launch_template" and found[0].tags["team"] == "web"
    assert found[0].fields == dict(fields(), launch_template_name="shop")
    assert found[0].raw["DefaultVersionNumber"] == 2


def test_instance_refresh_through_the_engine_moves_the_group_to_the_new_version_stubber():
    """The glue no single kind shows: the plan (template update, then the refresh; the group left as is),
    and the apply handing the version the template update made to StartInstanceRefresh."""
    session = botocore.session.get_session()
    creds = dict(region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE")
    creds["aws_secret_access_key"] = "stubbed"  # noqa: S105 - never sent: the Stubber answers
    ec2, autoscaling = session.create_client("ec2", **creds), session.create_client("autoscaling", **creds)
    clock = Clock()
    ctx = Context("shop", "compute", clients={"ec2": ec2, "autoscaling": autoscaling}, sleep=clock.sleep, clock=clock)
    layer = ComputeLayer()
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
