"""webstack.aws.auto_scaling through ansible-playbook on the emulator.

Prerequisites come from the network and security_groups modules; the target group and load balancer are
made with boto3 here (the load_balancer module is separate).  moto 5.2.5 has no instance refresh API (HTTP
500): that path is tested here only for its clear, change-free failure, and in the unit tests with
botocore's Stubber (test_instance_refresh_..._stubber).
"""

from __future__ import annotations

import base64

import pytest
from common import aws_env
from helpers import failing_case, quartet, run_task

ENV = "asg"


@pytest.fixture(scope="module")
def prereqs(emulator):
    import boto3

    net = run_task(
        emulator,
        "network",
        {"environment": ENV, "cidr_block": "10.60.0.0/16", "nat_gateways": "none", "az_count": 2},
    ).result["network"]
    firewall = run_task(
        emulator,
        "security_groups",
        {"environment": ENV, "vpc_id": net["vpc_id"], "groups": ["load_balancer", "instance"]},
    ).result["security_groups"]
    env = aws_env(emulator.endpoint)
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    ec2 = session.client("ec2", endpoint_url=emulator.endpoint)
    elb = session.client("elbv2", endpoint_url=emulator.endpoint)
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    amis = sorted(i["ImageId"] for i in images if i["ImageId"].startswith("ami-"))[:2]
    tg = elb.create_target_group(Name="asg-web", Protocol="HTTP", Port=80, VpcId=net["vpc_id"], TargetType="instance")
    lb = elb.create_load_balancer(Name="asg-lb", Subnets=net["subnet_ids"]["public"], Type="application")
    yield {
        "subnets": net["subnet_ids"]["private"],
        "sg": firewall["group_ids"]["instance"],
        "amis": amis,
        "tg": tg["TargetGroups"][0]["TargetGroupArn"],
        "lb": lb["LoadBalancers"][0]["LoadBalancerArn"],
    }
    run_task(emulator, "auto_scaling", {"environment": ENV, "state": "absent"})
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"])
    elb.delete_target_group(TargetGroupArn=tg["TargetGroups"][0]["TargetGroupArn"])
    run_task(emulator, "security_groups", {"environment": ENV, "state": "absent"})
    run_task(emulator, "network", {"environment": ENV, "state": "absent"})


def tags_of(items):
    return {t["Key"]: t["Value"] for t in items}


def group(aws):
    found = aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[ENV])["AutoScalingGroups"]
    return found[0] if found else None


def template(aws):
    found = aws.ec2.describe_launch_templates(Filters=[{"Name": "tag:webstack:environment", "Values": [ENV]}])
    templates = found["LaunchTemplates"]
    if not templates:
        return None, None
    version = aws.ec2.describe_launch_template_versions(
        LaunchTemplateId=templates[0]["LaunchTemplateId"], Versions=["$Default"]
    )["LaunchTemplateVersions"][0]
    return templates[0], version


def policies(aws):
    found = aws.autoscaling.describe_policies(AutoScalingGroupName=ENV)["ScalingPolicies"]
    return {p["PolicyName"]: p for p in found}


def base_args(prereqs, **extra):
    args = {
        "environment": ENV,
        "image_id": prereqs["amis"][0],
        "instance_type": "t3.micro",
        "security_group_ids": [prereqs["sg"]],
        "subnet_ids": prereqs["subnets"],
        "target_group_arns": [prereqs["tg"]],
        "min_size": 1,
        "max_size": 3,
        "tags": {"team": "web"},
    }
    args.update(extra)
    return args


def test_create_update_delete(emulator, aws, prereqs):
    args = base_args(
        prereqs,
        user_data="#!/bin/sh\necho hello\n",
        cpu_target_value=50,
        request_count_target_value=200,
        load_balancer_arn=prereqs["lb"],
        step_policies=[
            {
                "name": "burst",
                "steps": [{"lower_bound": 0, "upper_bound": 20, "adjustment": 1}, {"lower_bound": 20, "adjustment": 3}],
            }
        ],
    )
    # create
    runs = quartet(emulator, "auto_scaling", args)
    assert runs.first_check.actions() == [
        ("create", "launch_template", "launch_template"),
        ("create", "auto_scaling_group", "auto_scaling_group"),
        ("create", "scaling_policy", "cpu"),
        ("create", "scaling_policy", "requests"),
        ("create", "scaling_policy", "step-burst"),
    ]
    assert runs.first_check.result["auto_scaling"]["launch_template_id"] is None
    out = runs.apply.result["auto_scaling"]
    assert out["auto_scaling_group_name"] == ENV and out["auto_scaling_group_arn"].startswith("arn:aws:autoscaling:")
    assert out["launch_template_id"].startswith("lt-") and out["launch_template_version"] == 1
    assert len(out["instances"]) == 1 and out["instances"][0]["lifecycle_state"] == "InService"
    assert out["policies"]["cpu"]["policy_name"] == "asg-cpu" and out["policies"]["cpu"]["policy_arn"]
    assert runs.again.result["auto_scaling"] == out

    lt, version = template(aws)
    assert lt["LaunchTemplateName"] == ENV and lt["LaunchTemplateId"] == out["launch_template_id"]
    assert tags_of(lt["Tags"])["webstack:layer"] == "auto_scaling" and tags_of(lt["Tags"])["team"] == "web"
    data = version["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    assert data["BlockDeviceMappings"][0]["Ebs"] == {
        "Encrypted": True,
        "DeleteOnTermination": True,
        "VolumeSize": 20,
        "VolumeType": "gp3",
    }
    assert base64.b64decode(data["UserData"]).decode() == "#!/bin/sh\necho hello\n"
    assert data["SecurityGroupIds"] == [prereqs["sg"]]
    instance_tags = next(s for s in data["TagSpecifications"] if s["ResourceType"] == "instance")
    assert tags_of(instance_tags["Tags"])["Name"] == "asg-instance"

    found = group(aws)
    assert sorted(found["VPCZoneIdentifier"].split(",")) == sorted(prereqs["subnets"])
    assert found["TargetGroupARNs"] == [prereqs["tg"]]
    assert (found["MinSize"], found["MaxSize"], found["DesiredCapacity"]) == (1, 3, 1)
    assert found["HealthCheckType"] == "ELB" and found["HealthCheckGracePeriod"] == 300
    assert found["LaunchTemplate"]["Version"] == "1"  # numbered: AWS rolls a refresh back only then
    tags = {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in found["Tags"]}
    assert tags["webstack:environment"] == (ENV, True) and tags["webstack:layer"] == ("auto_scaling", True)
    assert tags["team"] == ("web", True) and tags["Name"] == ("asg-auto-scaling-group", False)
    found_policies = policies(aws)
    assert sorted(found_policies) == ["asg-cpu", "asg-requests", "asg-step-burst"]
    info = run_task(emulator, "environment_info", {"environment": ENV, "layer": "auto_scaling"}).result
    assert sorted((r["kind"], r["id"]) for r in info["resources"]) == [
        ("auto_scaling_group", ENV),
        ("launch_template", out["launch_template_id"]),
    ]
    label = found_policies["asg-requests"]["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]
    assert label["ResourceLabel"].startswith("app/asg-lb/") and "/targetgroup/asg-web/" in label["ResourceLabel"]

    # update in place: bigger instances (a new template version, no instance refresh), more capacity,
    # another CPU target, no step policy, no user data (moto 5.2.5 cannot launch from a template version
    # made by CreateLaunchTemplateVersion that carries user data: it fails an internal assertion)
    update = dict(
        args,
        instance_type="t3.small",
        max_size=4,
        desired_capacity=2,
        cpu_target_value=60,
        step_policies=[],
        instance_refresh=False,
        tags={"team": "platform", "cost": "web"},
    )
    update.pop("user_data")
    runs = quartet(emulator, "auto_scaling", update)
    assert runs.first_check.actions() == [
        ("delete", "scaling_policy", "step-burst"),
        ("update", "launch_template", "launch_template"),
        ("update", "auto_scaling_group", "auto_scaling_group"),
        ("update", "scaling_policy", "cpu"),
    ]
    fields = runs.first_check.plan[1]["fields"]
    assert sorted(fields) == ["instance_tags", "instance_type", "tags", "user_data"]
    assert fields["instance_type"] == {"before": "t3.micro", "after": "t3.small"}
    group_change = runs.first_check.plan[2]["fields"]
    assert sorted(group_change) == [
        "desired_capacity",
        "launch_template_version",
        "max_size",
        "propagated_tags",
        "tags",
    ]
    assert group_change["launch_template_version"] == {
        "before": "1",
        "after": "(known after apply: launch_template version)",
    }
    assert runs.apply.calls["by_action"]["ec2:CreateLaunchTemplateVersion"] == 1
    out = runs.apply.result["auto_scaling"]
    assert out["launch_template_version"] == 2 and out["desired_capacity"] == 2 and len(out["instances"]) == 2
    assert out["instance_refresh"] == {
        "id": None,
        "status": None,
        "reason": "launch template changes: instance_tags, instance_type, user_data",
    }
    lt, version = template(aws)
    assert lt["DefaultVersionNumber"] == 2 and version["LaunchTemplateData"]["InstanceType"] == "t3.small"
    assert (group(aws)["MaxSize"], group(aws)["DesiredCapacity"]) == (4, 2)
    assert group(aws)["LaunchTemplate"]["Version"] == "2"
    tags = {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in group(aws)["Tags"]}
    assert tags["team"] == ("platform", True) and tags["cost"] == ("web", True)
    # (moto's DescribeLaunchTemplates keeps the creation-time tags; DescribeTags has the current ones)
    lt_tags = aws.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [lt["LaunchTemplateId"]]}])["Tags"]
    assert tags_of(lt_tags)["cost"] == "web" and tags_of(lt_tags)["team"] == "platform"
    assert sorted(policies(aws)) == ["asg-cpu", "asg-requests"]
    assert policies(aws)["asg-cpu"]["TargetTrackingConfiguration"]["TargetValue"] == 60.0

    # drift made by hand is put back, and only that
    aws.autoscaling.update_auto_scaling_group(AutoScalingGroupName=ENV, HealthCheckGracePeriod=30)
    team = {"ResourceId": ENV, "ResourceType": "auto-scaling-group", "Key": "team", "Value": "platform"}
    aws.autoscaling.create_or_update_tags(Tags=[dict(team, PropagateAtLaunch=False)])
    cpu = policies(aws)["asg-cpu"]
    aws.autoscaling.put_scaling_policy(
        AutoScalingGroupName=ENV,
        PolicyName="asg-cpu",
        PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration=dict(cpu["TargetTrackingConfiguration"], TargetValue=70.0),
    )
    fix = run_task(emulator, "auto_scaling", update)
    assert fix.actions() == [
        ("update", "auto_scaling_group", "auto_scaling_group"),
        ("update", "scaling_policy", "cpu"),
    ]
    assert sorted(fix.plan[0]["fields"]) == ["health_check_grace_period", "propagated_tags"]
    assert list(fix.plan[1]["fields"]) == ["target_value"]
    assert fix.calls["mutating"] == 3 and group(aws)["HealthCheckGracePeriod"] == 300
    assert policies(aws)["asg-cpu"]["TargetTrackingConfiguration"]["TargetValue"] == 60.0
    assert {"Key": "team", "PropagateAtLaunch": True} in [
        {"Key": t["Key"], "PropagateAtLaunch": t["PropagateAtLaunch"]} for t in group(aws)["Tags"]
    ]

    # the launch template changes under running instances: the refresh is planned, but this emulator has
    # no instance refresh API, so the task fails before changing anything
    refresh = run_task(
        emulator, "auto_scaling", dict(update, image_id=prereqs["amis"][1], instance_refresh=True), expect_failure=True
    )
    assert "does not answer DescribeInstanceRefreshes" in refresh.result["msg"]
    assert "instance_refresh=false" in refresh.result["msg"]
    assert refresh.calls["mutating"] == 0
    assert template(aws)[0]["DefaultVersionNumber"] == 2

    # delete: policies, then the group (force, waited), then the template
    runs = quartet(emulator, "auto_scaling", {"environment": ENV, "state": "absent"})
    assert runs.first_check.actions() == [
        ("delete", "scaling_policy", "requests"),
        ("delete", "scaling_policy", "cpu"),
        ("delete", "auto_scaling_group", "auto_scaling_group"),
        ("delete", "launch_template", "launch_template"),
    ]
    assert group(aws) is None and template(aws) == (None, None) and policies(aws) == {}


def test_check_mode_on_a_fresh_environment(emulator, prereqs):
    # what a whole-environment plan passes before the earlier layers exist: nulls and no subnets
    args = {
        "environment": "asg-new",
        "image_id": prereqs["amis"][0],
        "security_group_ids": [None],
        "target_group_arns": [None],
        "load_balancer_arn": None,
        "request_count_target_value": 100,
    }
    plan = run_task(emulator, "auto_scaling", args, check=True, diff=True)
    assert plan.changed and plan.calls["mutating"] == 0
    group_change = plan.plan[1]
    assert group_change["fields"]["subnet_ids"]["after"] == "(known after apply: subnet_ids from the network layer)"
    assert (
        group_change["fields"]["launch_template_id"]["after"] == "(known after apply: launch_template launch_template)"
    )
    assert plan.result["diff"]["after"]["launch_template launch_template"]["metadata_http_tokens"] == "required"
    assert [c["key"] for c in plan.plan] == ["launch_template", "auto_scaling_group", "requests"]
    assert plan.result["auto_scaling"]["auto_scaling_group_arn"] is None


BAD_INPUTS = [
    ({"image_id": "ubuntu-22.04"}, "image_id: 'ubuntu-22.04' is not an AMI id"),
    ({"instance_type": "t3micro"}, "instance_type: 't3micro' is not an instance type"),
    ({"min_size": 3, "max_size": 2}, "min_size: 3 is above max_size 2"),
    ({"target_group_arns": ["tg-1"]}, "target_group_arns[0]: 'tg-1' is not a target group ARN"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "asg-bad", "image_id": "ami-12345678", "subnet_ids": ["subnet-12345678"]}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "auto_scaling", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
