"""The auto_scaling layer (``_layers/auto_scaling.py``): validation, desired state (capacity, policies), and
when an instance refresh is planned, with botocore's Stubber for the refresh reads (no AWS)."""

from __future__ import annotations

import copy

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current, EngineError, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._layers.auto_scaling import (
    INSTANCE_TYPE,
    AutoScalingLayer,
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
    # every null id is reported at once, the first one first (its option is the failure's)
    assert str(err.value.errors[0]) == "security_group_ids[0]: is null; pass the security_groups layer's output"
    assert err.value.option == "security_group_ids[0]"
    assert [e.option for e in err.value.errors] == [
        "security_group_ids[0]",
        "subnet_ids[0]",
        "target_group_arns[0]",
        "request_count_target_value",
    ]
    want = AutoScalingLayer().desired(Context("shop", "auto_scaling"), later, {})
    template = want["launch_template"]["launch_template"].fields
    unknown = "(known after apply: security group id from the security_groups layer)"
    assert repr(template["security_group_ids"]) == "[%s]" % unknown
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


def test_desired_capacity_is_set_at_creation_then_left_to_the_policies():
    layer = AutoScalingLayer()
    fresh = layer.desired(Context("shop", "auto_scaling"), params(min_size=2, max_size=4), {})
    assert fresh["auto_scaling_group"]["auto_scaling_group"].fields["desired_capacity"] == 2
    later = layer.desired(Context("shop", "auto_scaling"), params(min_size=2, max_size=4), current_state())
    assert "desired_capacity" not in later["auto_scaling_group"]["auto_scaling_group"].fields
    given = layer.desired(Context("shop", "auto_scaling"), params(max_size=4, desired_capacity=3), current_state())
    assert given["auto_scaling_group"]["auto_scaling_group"].fields["desired_capacity"] == 3
    group = fresh["auto_scaling_group"]["auto_scaling_group"]
    assert group.fields["propagated_tags"] == ["webstack:environment", "webstack:layer"]
    assert isinstance(group.fields["launch_template_version"], Unknown)  # the version the create makes
    assert later["auto_scaling_group"]["auto_scaling_group"].fields["launch_template_version"] == "1"


def test_no_refresh_when_nothing_changes_or_refresh_is_off():
    layer = AutoScalingLayer()
    same = layer.desired(Context("shop", "auto_scaling"), params(), current_state())
    assert "instance_refresh" not in same
    off = layer.desired(
        Context("shop", "auto_scaling"), params(instance_type="t3.small", instance_refresh=False), current_state()
    )
    assert "instance_refresh" not in off and layer.refresh_reason == "launch template changes: instance_type"
    # without a refresh the group is switched to the new version directly
    assert isinstance(off["auto_scaling_group"]["auto_scaling_group"].fields["launch_template_version"], Unknown)
    empty = layer.desired(Context("shop", "auto_scaling"), params(instance_type="t3.small"), current_state(instances=0))
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


def test_instance_refresh_planned_when_the_template_changes_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_response(
        "describe_instance_refreshes",
        {"InstanceRefreshes": [dict(refresh("Successful")["InstanceRefreshes"][0])]},
        {"AutoScalingGroupName": "shop", "MaxRecords": ANY},
    )
    want = AutoScalingLayer().desired(ctx, params(instance_type="t3.small", instance_warmup=60), current_state())
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
    layer = AutoScalingLayer()
    want = layer.desired(ctx, params(), current_state(running="1", default=2))
    assert want["instance_refresh"]["instance_refresh"].fields["launch_template_version"] == "2"
    assert layer.refresh_reason == "the group runs launch template version 1, the template's default is 2"


def test_instance_refresh_already_running_is_refused_stubber(stubbed):
    ctx, stubber = stubbed
    stubber.add_response(
        "describe_instance_refreshes", refresh("InProgress", 20), {"AutoScalingGroupName": "shop", "MaxRecords": ANY}
    )
    with pytest.raises(EngineError) as err:
        AutoScalingLayer().desired(ctx, params(image_id="ami-0fedcba9876543210"), current_state())
    assert "already has instance refresh %s InProgress" % REFRESH_ID in str(err.value)
