"""IAM kinds (``_kinds/iam.py``): policy normalisation, the profile wait, and the role read and delete against
botocore's Stubber (no AWS)."""

from __future__ import annotations

import datetime
import json
from urllib.parse import quote

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current, EngineError
from ansible_collections.webstack.aws.plugins.module_utils._kinds import iam
from ansible_collections.webstack.aws.plugins.module_utils._kinds.iam import ProfileState

DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::b/x/*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": ["arn:aws:sqs:us-east-1:1:q"]},
    ],
}


def test_order_shape_case_and_whitespace_never_differ():
    shuffled = {
        "Statement": [
            {"Resource": ["arn:aws:sqs:us-east-1:1:q"], "Action": ["SQS:SendMessage"], "Effect": "Allow", "Sid": ""},
            {"Effect": "Allow", "Resource": ["arn:aws:s3:::b/x/*"], "Action": ["s3:getobject", "s3:PutObject"]},
        ],
        "Version": "2012-10-17",
    }
    assert iam.policies_equal(DOC, shuffled)
    assert iam.policies_equal(DOC, json.dumps(shuffled, indent=4))
    # IAM hands documents back URL-encoded from some APIs
    assert iam.policies_equal(DOC, quote(json.dumps(DOC)))
    assert iam.decode_policy(quote(json.dumps(DOC))) == DOC


def test_a_real_difference_is_a_difference():
    other = json.loads(json.dumps(DOC))
    other["Statement"][0]["Resource"] = "arn:aws:s3:::b/y/*"
    assert not iam.policies_equal(DOC, other)
    denied = json.loads(json.dumps(DOC))
    denied["Statement"][1]["Effect"] = "Deny"
    assert not iam.policies_equal(DOC, denied)


def test_normalised_form_keeps_case_but_sorts_and_lists():
    doc = iam.normalise_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": "webstack/a"}},
            },
        }
    )
    assert doc == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["cloudwatch:PutMetricData"],
                "Resource": ["*"],
                "Condition": {"StringEquals": {"cloudwatch:namespace": ["webstack/a"]}},
            }
        ],
    }
    trust = iam.normalise_policy(iam.EC2_TRUST_POLICY)
    assert trust["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com"]}
    # a missing Version means the old grammar: not the same document
    assert not iam.policies_equal({"Statement": DOC["Statement"]}, DOC)


def test_role_equal_compares_policies_semantically():
    role = iam.Role()
    assert role.equal("inline_policies", {"p": DOC}, {"p": json.dumps(DOC)})
    assert not role.equal("inline_policies", {"p": DOC}, {"p": DOC, "q": DOC})
    assert role.equal("managed_policy_arns", ["b", "a"], ["a", "b"])
    assert role.equal("description", None, "")


def test_profile_propagation_errors_for_consumers():
    assert iam.profile_not_ready("InvalidParameterValue", "Value (x) for parameter iamInstanceProfile.name is invalid")
    assert iam.profile_not_ready("ValidationError", "Invalid IamInstanceProfile: shop-instance")
    assert not iam.profile_not_ready("InvalidParameterValue", "Invalid AMI id")
    assert not iam.profile_not_ready("Throttling", "instance profile")
    assert ("ValidationError", "iaminstanceprofile") in iam.PROFILE_NOT_READY
    assert ("InvalidParameterValue", "instance profile") in iam.PROFILE_NOT_READY


class FakeIam:
    """get_instance_profile answers from a script: NoSuchEntity, then no role, then the role."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0

    def get_instance_profile(self, InstanceProfileName):
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if step == "missing":
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, "GetInstanceProfile")
        roles = [{"RoleName": step}] if step else []
        return {"InstanceProfile": {"InstanceProfileName": InstanceProfileName, "Roles": roles}}


def _ctx(client, timeout=60):
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    ctx = Context(
        "shop", "instance_profile", clients={"iam": client}, wait_timeout=timeout, sleep=sleep, clock=lambda: now[0]
    )
    ctx.state(ProfileState).profile_roles = {"shop-instance": "shop-instance"}
    return ctx


def test_wait_until_the_profile_shows_its_role():
    client = FakeIam(["missing", None, "shop-instance"])
    iam.InstanceProfile().wait_created(_ctx(client), ["shop-instance"])
    assert client.calls == 3


def test_wait_times_out_naming_the_profile():
    client = FakeIam([None])
    with pytest.raises(EngineError) as err:
        iam.InstanceProfile().wait_created(_ctx(client, timeout=5), ["shop-instance"])
    assert "instance profile shop-instance (role shop-instance not in it yet)" in str(err.value)


# -- botocore Stubber: the real IAM model validates every request --------------------------------------------
def stubbed_iam():
    client = botocore.session.get_session().create_client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - dummy credentials, no call leaves the process
    )
    return client, Stubber(client)


ROLE = {
    "Path": "/webstack/shop/",
    "RoleName": "shop-instance",
    "RoleId": "AROAEXAMPLEEXAMPLE1",
    "Arn": "arn:aws:iam::123456789012:role/webstack/shop/shop-instance",
    "CreateDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
}


def test_stubber_role_read_takes_tags_from_get_role_and_decodes_documents():
    """Real IAM leaves tags out of ListRoles: the one role is read with GetRole.  A policy document handed
    back as URL-encoded text (what the wire carries) is decoded and compared semantically."""
    client, stub = stubbed_iam()
    trust = quote(json.dumps(iam.EC2_TRUST_POLICY))
    tags = [{"Key": "webstack:environment", "Value": "shop"}, {"Key": "webstack:layer", "Value": "instance_profile"}]
    stub.add_response(
        "list_roles", {"Roles": [dict(ROLE, AssumeRolePolicyDocument=trust)]}, {"PathPrefix": "/webstack/shop/"}
    )
    stub.add_response(
        "get_role",
        {"Role": dict(ROLE, AssumeRolePolicyDocument=trust, Tags=tags, Description="webstack shop: instances")},
        {"RoleName": "shop-instance"},
    )
    stub.add_response("list_role_policies", {"PolicyNames": ["shop-metrics"]}, {"RoleName": "shop-instance"})
    stub.add_response(
        "get_role_policy",
        {"RoleName": "shop-instance", "PolicyName": "shop-metrics", "PolicyDocument": quote(json.dumps(DOC))},
        {"RoleName": "shop-instance", "PolicyName": "shop-metrics"},
    )
    stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyName": "P", "PolicyArn": "arn:aws:iam::aws:policy/P"}]},
        {"RoleName": "shop-instance"},
    )
    with stub:
        found = iam.Role().read(Context("shop", "instance_profile", clients={"iam": client}))
        stub.assert_no_pending_responses()
    (role,) = found
    assert role.key == "instance" and role.id == "shop-instance"
    assert role.tags["webstack:layer"] == "instance_profile"
    assert iam.policies_equal(role.fields["assume_role_policy"], iam.EC2_TRUST_POLICY)
    assert iam.policies_equal(role.fields["inline_policies"]["shop-metrics"], DOC)
    assert role.fields["managed_policy_arns"] == ["arn:aws:iam::aws:policy/P"]


@pytest.mark.parametrize(
    ("tags", "found"),
    [
        ([], True),  # made under our path without our tags: adopted (the plan then tags it)
        ([{"Key": "webstack:environment", "Value": "shop"}], True),
        ([{"Key": "webstack:environment", "Value": "other"}], False),
        ([{"Key": "webstack:environment", "Value": "shop"}, {"Key": "webstack:layer", "Value": "network"}], False),
    ],
)
def test_stubber_role_under_the_path_is_ours_unless_a_tag_says_otherwise(tags, found):
    """IAM names are unique in the account and the role lives under /webstack/<environment>/: one there that
    lacks our tags is adopted, since a create of the same name would fail with EntityAlreadyExists."""
    client, stub = stubbed_iam()
    trust = quote(json.dumps(iam.EC2_TRUST_POLICY))
    stub.add_response(
        "list_roles", {"Roles": [dict(ROLE, AssumeRolePolicyDocument=trust)]}, {"PathPrefix": "/webstack/shop/"}
    )
    stub.add_response(
        "get_role", {"Role": dict(ROLE, AssumeRolePolicyDocument=trust, Tags=tags)}, {"RoleName": "shop-instance"}
    )
    if found:
        stub.add_response("list_role_policies", {"PolicyNames": []}, {"RoleName": "shop-instance"})
        stub.add_response("list_attached_role_policies", {"AttachedPolicies": []}, {"RoleName": "shop-instance"})
    with stub:
        roles = iam.Role().read(Context("shop", "instance_profile", clients={"iam": client}))
        stub.assert_no_pending_responses()
    assert [(r.key, r.id) for r in roles] == ([("instance", "shop-instance")] if found else [])


def test_stubber_delete_empties_the_role_before_deleting_it():
    client, stub = stubbed_iam()
    name = {"RoleName": "shop-instance"}
    stub.add_response(
        "list_instance_profiles_for_role",
        {
            "InstanceProfiles": [
                {
                    "Path": "/",
                    "InstanceProfileName": "by-hand",
                    "InstanceProfileId": "AIPAEXAMPLEEXAMPLE1",
                    "Arn": "arn:aws:iam::123456789012:instance-profile/by-hand",
                    "CreateDate": ROLE["CreateDate"],
                    "Roles": [],
                }
            ]
        },
        name,
    )
    stub.add_response("remove_role_from_instance_profile", {}, dict(name, InstanceProfileName="by-hand"))
    stub.add_response("delete_role_policy", {}, dict(name, PolicyName="shop-metrics"))
    stub.add_response("detach_role_policy", {}, dict(name, PolicyArn="arn:aws:iam::aws:policy/P"))
    stub.add_response("delete_role", {}, name)
    current = Current(
        "instance",
        "shop-instance",
        {"inline_policies": {"shop-metrics": DOC}, "managed_policy_arns": ["arn:aws:iam::aws:policy/P"]},
    )
    with stub:
        iam.Role().delete(Context("shop", "instance_profile", clients={"iam": client}), current)
        stub.assert_no_pending_responses()


def test_stubber_iam_lists_page_with_marker():
    client, stub = stubbed_iam()
    stub.add_response(
        "list_role_policies", {"PolicyNames": ["a"], "IsTruncated": True, "Marker": "m1"}, {"RoleName": "r"}
    )
    stub.add_response(
        "list_role_policies", {"PolicyNames": ["b"], "IsTruncated": False}, {"RoleName": "r", "Marker": "m1"}
    )
    with stub:
        names = Context("shop", "instance_profile", clients={"iam": client}).paginate(
            "iam",
            "list_role_policies",
            "PolicyNames",
            RoleName="r",
        )
        stub.assert_no_pending_responses()
    assert names == ["a", "b"]
