"""Layers renamed after their modules: an environment made by an earlier release, whose resources carry the
old ``webstack:layer`` value (firewall, identity, compute, monitoring), is still found by its layer.

For each renamed layer: the resources are made, then tagged with the old value with boto3 (what the earlier
release left).  The next run plans nothing but the tag update ``webstack:layer: <old> -> <new>`` (nothing is
created again, nothing is left behind), applies it, and is a no-op after; environment_info finds the resources
by the old name too and reports them under the new one; and a teardown of resources still tagged the old way
deletes them all.
"""

from __future__ import annotations

from helpers import network_with_groups, remove_network_with_groups, run_task

LAYER = "webstack:layer"


def ec2_retag(aws, ids, value):
    aws.ec2.create_tags(Resources=list(ids), Tags=[{"Key": LAYER, "Value": value}])


def ec2_layer_tags(aws, ids):
    tags = aws.ec2.describe_tags(
        Filters=[{"Name": "resource-id", "Values": list(ids)}, {"Name": "key", "Values": [LAYER]}]
    )
    return dict((t["ResourceId"], t["Value"]) for t in tags["Tags"])


def assert_only_the_layer_tag_changes(plan, old, new, keys):
    """The plan is exactly one tag update per resource, ``webstack:layer: old -> new``, and nothing else."""
    assert sorted((c["kind"], c["key"]) for c in plan) == sorted(keys), plan
    for change in plan:
        assert change["action"] == "update" and sorted(change["fields"]) == ["tags"], change
        before, after = change["fields"]["tags"]["before"], change["fields"]["tags"]["after"]
        assert before[LAYER] == old and after[LAYER] == new, change
        assert dict(before, **{LAYER: new}) == after, change  # no other tag moves


def migrate(emulator, module, args, old, new, keys):
    """check -> apply -> apply again, on resources tagged with the old layer value."""
    check = run_task(emulator, module, args, check=True, diff=True)
    assert check.calls["mutating"] == 0
    assert_only_the_layer_tag_changes(check.plan, old, new, keys)
    apply = run_task(emulator, module, args)
    assert apply.plan == check.plan and apply.changed
    again = run_task(emulator, module, args)
    assert again.changed is False and again.plan == [] and again.calls["mutating"] == 0, again.plan
    return apply


def found_by_old_name(emulator, environment, old, new):
    """environment_info with the old layer name: the resources, reported under the new name."""
    info = run_task(emulator, "environment_info", {"environment": environment, "layer": old}).result
    assert info["count"] > 0 and info["by_layer"] == {new: info["count"]}, info
    return sorted((r["kind"], r["key"]) for r in info["resources"])


def teardown_finds_them(emulator, module, environment, old, keys):
    gone = run_task(emulator, module, {"environment": environment, "state": "absent"})
    assert sorted((c["action"], c["kind"], c["key"]) for c in gone.plan) == sorted(("delete",) + k for k in keys)
    info = run_task(emulator, "environment_info", {"environment": environment, "layer": old}).result
    assert info["count"] == 0, info["resources"]


def test_security_groups_found_by_their_firewall_tag(emulator, aws):
    env = "lyr-sg"
    made = network_with_groups(emulator, env, "10.71.0.0/16", ["load_balancer", "instance"])
    ids = made["security_groups"]["group_ids"]
    keys = [("security_group", g) for g in ("load_balancer", "instance")]
    args = {"environment": env, "vpc_id": made["network"]["vpc_id"], "groups": ["load_balancer", "instance"]}
    try:
        assert set(ec2_layer_tags(aws, ids.values()).values()) == {"security_groups"}
        ec2_retag(aws, ids.values(), "firewall")
        apply = migrate(emulator, "security_groups", args, "firewall", "security_groups", keys)
        assert apply.result["security_groups"]["group_ids"] == ids  # the same groups, not new ones
        assert set(ec2_layer_tags(aws, ids.values()).values()) == {"security_groups"}

        ec2_retag(aws, ids.values(), "firewall")
        assert found_by_old_name(emulator, env, "firewall", "security_groups") == sorted(keys)
        teardown_finds_them(emulator, "security_groups", env, "firewall", keys)
    finally:
        remove_network_with_groups(emulator, env)


def test_auto_scaling_found_by_its_compute_tag_without_a_new_template_or_refresh(emulator, aws):
    env = "lyr-asg"
    made = network_with_groups(emulator, env, "10.72.0.0/16", ["load_balancer", "instance"])
    images = aws.ec2.describe_images(Owners=["amazon"])["Images"]
    image = sorted(i["ImageId"] for i in images if i["ImageId"].startswith("ami-"))[0]
    args = {
        "environment": env,
        "image_id": image,
        "security_group_ids": [made["security_groups"]["group_ids"]["instance"]],
        "subnet_ids": made["network"]["subnet_ids"]["private"],
        "health_check_type": "EC2",
        "min_size": 1,
        "max_size": 2,
    }
    keys = [("launch_template", "launch_template"), ("auto_scaling_group", "auto_scaling_group")]
    try:
        out = run_task(emulator, "auto_scaling", args).result["auto_scaling"]
        template_id = out["launch_template_id"]
        assert len(out["instances"]) == 1

        def make_it_old():
            """What the earlier release made: every tag, and the template's instance tags, say compute."""
            ec2_retag(aws, [template_id], "compute")
            aws.autoscaling.create_or_update_tags(
                Tags=[
                    {
                        "ResourceId": env,
                        "ResourceType": "auto-scaling-group",
                        "Key": LAYER,
                        "Value": "compute",
                        "PropagateAtLaunch": True,
                    }
                ]
            )
            data = aws.ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=["$Default"])
            data = data["LaunchTemplateVersions"][0]["LaunchTemplateData"]
            for spec in data["TagSpecifications"]:
                spec["Tags"] = [dict(t, Value="compute") if t["Key"] == LAYER else t for t in spec["Tags"]]
            version = aws.ec2.create_launch_template_version(LaunchTemplateId=template_id, LaunchTemplateData=data)
            number = str(version["LaunchTemplateVersion"]["VersionNumber"])
            aws.ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion=number)
            aws.autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=env, LaunchTemplate={"LaunchTemplateId": template_id, "Version": number}
            )
            return number

        number = make_it_old()
        # only tags: the legacy value in the template's instance tags is no reason for a new version, nor for
        # an instance refresh (moto has no refresh API: one planned would fail this run)
        apply = migrate(emulator, "auto_scaling", args, "compute", "auto_scaling", keys)
        result = apply.result["auto_scaling"]
        assert result["launch_template_id"] == template_id and str(result["launch_template_version"]) == number
        assert [i["instance_id"] for i in result["instances"]] == [i["instance_id"] for i in out["instances"]]
        group = aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[env])["AutoScalingGroups"][0]
        assert {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in group["Tags"]}[LAYER] == ("auto_scaling", True)
        assert ec2_layer_tags(aws, [template_id]) == {template_id: "auto_scaling"}

        make_it_old()
        assert found_by_old_name(emulator, env, "compute", "auto_scaling") == sorted(keys)
        teardown_finds_them(emulator, "auto_scaling", env, "compute", keys)
    finally:
        run_task(emulator, "auto_scaling", {"environment": env, "state": "absent"})
        remove_network_with_groups(emulator, env)


def test_instance_profile_found_by_its_identity_tag(emulator, aws):
    env = "lyr-idp"
    name = env + "-instance"
    args = {"environment": env}
    keys = [("iam_role", "instance"), ("instance_profile", "instance")]

    def make_it_old():
        aws.iam.tag_role(RoleName=name, Tags=[{"Key": LAYER, "Value": "identity"}])
        aws.iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": LAYER, "Value": "identity"}])

    try:
        out = run_task(emulator, "instance_profile", args).result["instance_profile"]
        make_it_old()
        apply = migrate(emulator, "instance_profile", args, "identity", "instance_profile", keys)
        assert apply.result["instance_profile"]["role_arn"] == out["role_arn"]
        role_tags = {t["Key"]: t["Value"] for t in aws.iam.get_role(RoleName=name)["Role"]["Tags"]}
        profile = aws.iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        assert role_tags[LAYER] == "instance_profile"
        assert {t["Key"]: t["Value"] for t in profile["Tags"]}[LAYER] == "instance_profile"

        make_it_old()
        assert found_by_old_name(emulator, env, "identity", "instance_profile") == sorted(keys)
        teardown_finds_them(emulator, "instance_profile", env, "identity", keys)
    finally:
        run_task(emulator, "instance_profile", {"environment": env, "state": "absent"})


def test_alarms_found_by_their_monitoring_tag(emulator, aws):
    env, old = "lyr-alm", "monitoring"
    args = {"environment": env, "auto_scaling_group": env, "create_topic": True, "create_log_group": True}
    keys = [("log_group", "log-group"), ("sns_topic", "alarms"), ("alarm", "cpu-high")]

    def make_it_old(out):
        legacy = [{"Key": LAYER, "Value": old}]
        aws.cloudwatch.tag_resource(ResourceARN=alarm_arn(out), Tags=legacy)
        aws.sns.tag_resource(ResourceArn=out["topic_arn"], Tags=legacy)
        aws.logs.tag_log_group(logGroupName=out["log_group_name"], tags={LAYER: old})

    def alarm_arn(out):
        found = aws.cloudwatch.describe_alarms(AlarmNames=[out["alarm_names"]["cpu-high"]])["MetricAlarms"]
        return found[0]["AlarmArn"]

    try:
        out = run_task(emulator, "alarms", args).result["alarms"]
        make_it_old(out)
        apply = migrate(emulator, "alarms", args, old, "alarms", keys)
        assert apply.result["alarms"]["topic_arn"] == out["topic_arn"]
        tags = {t["Key"]: t["Value"] for t in aws.cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn(out))["Tags"]}
        assert tags[LAYER] == "alarms"

        make_it_old(out)
        assert found_by_old_name(emulator, env, old, "alarms") == sorted(keys)
        teardown_finds_them(emulator, "alarms", env, old, keys)
    finally:
        run_task(emulator, "alarms", {"environment": env, "state": "absent"})
