"""webstack.aws.instance_profile through ansible-playbook on the emulator: create, update, delete, bad input."""

from __future__ import annotations

import json

import pytest
from helpers import failing_case, quartet, run_task

ENV = "idp"
NAME = "idp-instance"
SSM = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:idp-worker"
DLQ = "arn:aws:sqs:us-east-1:123456789012:idp-worker-dlq"


def tags(items):
    return {t["Key"]: t["Value"] for t in items or []}


def inline(aws, role_name=NAME):
    iam = aws.iam
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    return {n: iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"] for n in names}


def test_create_update_delete_quartets(emulator, aws):
    args = {
        "environment": ENV,
        "bucket": "idp-assets",
        "queue_arns": [QUEUE],
        "log_group": "/webstack/idp",
        "managed_policy_arns": [SSM],
        "tags": {"team": "platform"},
    }

    # create
    runs = quartet(emulator, "instance_profile", args)
    assert runs.first_check.actions() == [
        ("create", "iam_role", "instance"),
        ("create", "instance_profile", "instance"),
    ]
    assert runs.first_check.result["instance_profile"]["role_arn"] is None
    assert runs.first_check.result["diff"]["before"] == {}
    out = runs.apply.result["instance_profile"]
    assert out["role_name"] == NAME and out["instance_profile_name"] == NAME
    assert out["role_arn"].endswith(":role/webstack/idp/idp-instance")
    assert out["instance_profile_arn"].endswith(":instance-profile/webstack/idp/idp-instance")
    assert out["policy_names"] == ["idp-bucket", "idp-logs", "idp-metrics", "idp-queues"]
    assert runs.again.result["instance_profile"] == out
    # the whole read of a no-op run: one list per kind by path, then the one role and profile
    assert runs.again.calls["by_action"] == {
        "iam:ListRoles": 1,
        "iam:GetRole": 1,
        "iam:ListRolePolicies": 1,
        "iam:GetRolePolicy": 4,
        "iam:ListAttachedRolePolicies": 1,
        "iam:ListInstanceProfiles": 1,
        "iam:GetInstanceProfile": 1,
    }
    # the profile was waited for: the apply read it back until the role showed
    assert runs.apply.calls["by_action"].get("iam:GetInstanceProfile", 0) >= 1

    # what IAM really holds
    iam = aws.iam
    role = iam.get_role(RoleName=NAME)["Role"]
    assert role["Path"] == "/webstack/idp/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com"]}
    role_tags = tags(role["Tags"])
    assert role_tags["webstack:environment"] == ENV and role_tags["webstack:layer"] == "instance_profile"
    assert role_tags["webstack:resource"] == "instance" and role_tags["team"] == "platform"
    profile = iam.get_instance_profile(InstanceProfileName=NAME)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [NAME]
    assert tags(profile["Tags"])["webstack:layer"] == "instance_profile"
    attached = iam.list_attached_role_policies(RoleName=NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [SSM]
    policies = inline(aws)
    bucket = {s["Sid"]: s for s in policies["idp-bucket"]["Statement"]}
    assert bucket["EnvironmentObjects"]["Resource"] == [
        "arn:aws:s3:::idp-assets/resources/environments/idp/*",
        "arn:aws:s3:::idp-assets/resources/environments/logs/publish/idp/*",
    ]
    assert bucket["ApplicationVersions"]["Resource"] == ["arn:aws:s3:::idp-assets/app-versions/idp/*"]
    assert bucket["ListEnvironmentPrefixes"]["Resource"] == ["arn:aws:s3:::idp-assets"]
    metrics = policies["idp-metrics"]["Statement"][0]
    assert metrics["Action"] == ["cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["webstack/idp"]}}
    assert policies["idp-queues"]["Statement"][0]["Resource"] == [QUEUE]
    assert policies["idp-logs"]["Statement"][0]["Resource"] == ["arn:aws:logs:*:*:log-group:/webstack/idp:*"]

    # the same documents written by hand in another order and shape are not a change
    shuffled = dict(policies["idp-queues"])
    statement = dict(shuffled["Statement"][0])
    statement["Action"] = list(reversed([a.upper() for a in statement["Action"]]))
    statement["Resource"] = statement["Resource"][0]
    iam.put_role_policy(
        RoleName=NAME,
        PolicyName="idp-queues",
        PolicyDocument=json.dumps({**shuffled, "Statement": statement}, indent=4),
    )
    same = run_task(emulator, "instance_profile", args, check=True)
    assert same.changed is False and same.calls["mutating"] == 0

    # update in place: a second queue, no bucket, no SSM, an extra statement, another namespace and tags
    update = dict(
        args,
        bucket=None,
        queue_arns=[QUEUE, DLQ],
        managed_policy_arns=[],
        metrics_namespace="Shop/Idp",
        permissions_boundary="arn:aws:iam::aws:policy/PowerUserAccess",
        extra_statements=[
            {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:*:*:parameter/idp/*"}
        ],
        tags={"team": "web"},
    )
    runs = quartet(emulator, "instance_profile", update)
    actions = runs.first_check.actions()
    assert actions == [("update", "iam_role", "instance"), ("update", "instance_profile", "instance")]
    fields = runs.first_check.plan[0]["fields"]
    assert sorted(fields) == ["inline_policies", "managed_policy_arns", "permissions_boundary", "tags"]
    assert runs.first_check.plan[1]["fields"]["tags"]["after"]["team"] == "web"
    assert runs.apply.result["instance_profile"]["policy_names"] == [
        "idp-extra",
        "idp-logs",
        "idp-metrics",
        "idp-queues",
    ]
    assert iam.list_attached_role_policies(RoleName=NAME)["AttachedPolicies"] == []
    policies = inline(aws)
    assert sorted(policies) == ["idp-extra", "idp-logs", "idp-metrics", "idp-queues"]
    assert sorted(policies["idp-queues"]["Statement"][0]["Resource"]) == [QUEUE, DLQ]
    assert policies["idp-metrics"]["Statement"][0]["Condition"]["StringEquals"]["cloudwatch:namespace"] == ["Shop/Idp"]
    assert tags(iam.get_role(RoleName=NAME)["Role"]["Tags"])["team"] == "web"
    boundary = iam.get_role(RoleName=NAME)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
    assert boundary == "arn:aws:iam::aws:policy/PowerUserAccess"
    # same role: updated in place
    assert iam.get_role(RoleName=NAME)["Role"]["Arn"] == out["role_arn"]

    # a role taken out of its profile by hand is put back; environment_info sees both
    iam.remove_role_from_instance_profile(InstanceProfileName=NAME, RoleName=NAME)
    fix = run_task(emulator, "instance_profile", update)
    assert fix.actions() == [("update", "instance_profile", "instance")]
    assert fix.plan[0]["fields"]["role_name"] == {"before": None, "after": NAME}
    profile = iam.get_instance_profile(InstanceProfileName=NAME)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [NAME]
    info = run_task(emulator, "environment_info", {"environment": ENV})
    found = sorted((r["kind"], r["key"], r["layer"]) for r in info.result["resources"])
    assert found == [("iam_role", "instance", "instance_profile"), ("instance_profile", "instance", "instance_profile")]

    # delete
    runs = quartet(emulator, "instance_profile", {"environment": ENV, "state": "absent"})
    assert runs.first_check.actions() == [
        ("delete", "instance_profile", "instance"),
        ("delete", "iam_role", "instance"),
    ]
    assert runs.apply.result["instance_profile"] == {}
    assert iam.list_roles(PathPrefix="/webstack/idp/")["Roles"] == []
    assert iam.list_instance_profiles(PathPrefix="/webstack/idp/")["InstanceProfiles"] == []


def test_iam_propagation_and_throttling_are_retried(emulator, aws):
    """IAM may not know a role for a moment after CreateRole (NoSuchEntity), and throttles: both retried."""
    env = "idp3"
    emulator.inject(action="AddRoleToInstanceProfile", code="NoSuchEntity", status=404, service="iam")
    emulator.inject(action="PutRolePolicy", code="Throttling", status=400, service="iam")
    try:
        out = run_task(emulator, "instance_profile", {"environment": env})
    finally:
        emulator.clear_faults()
    assert out.calls["by_action"]["iam:AddRoleToInstanceProfile"] == 2
    assert out.calls["by_action"]["iam:PutRolePolicy"] == 2
    profile = aws.iam.get_instance_profile(InstanceProfileName="idp3-instance")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["idp3-instance"]
    run_task(emulator, "instance_profile", {"environment": env, "state": "absent"})
    assert aws.iam.list_roles(PathPrefix="/webstack/idp3/")["Roles"] == []


BAD_INPUTS = [
    ({"bucket": "Not_A_Bucket"}, "bucket: 'Not_A_Bucket' is not a bucket name or ARN"),
    ({"extra_statements": [{"Effect": "Allow", "Action": "s3:*"}]}, "give exactly one of 'Resource'"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict({"environment": "idp-bad"}, **args)


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "instance_profile", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls
