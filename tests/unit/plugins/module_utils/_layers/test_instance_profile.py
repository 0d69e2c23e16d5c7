"""The instance_profile layer (``_layers/instance_profile.py``): scoped policies, validation and desired state
(no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds import iam
from ansible_collections.webstack.aws.plugins.module_utils._layers import instance_profile


def test_environment_scoped_policies():
    policies = instance_profile.inline_policies(
        "shop",
        {
            "bucket": "arn:aws:s3:::shop-assets",
            "queue_arns": ["arn:aws:sqs:us-east-1:123456789012:shop-worker"] * 2,
            "log_group": "/webstack/shop",
            "put_metrics": True,
        },
    )
    assert sorted(policies) == ["shop-bucket", "shop-logs", "shop-metrics", "shop-queues"]
    bucket = {s["Sid"]: s for s in policies["shop-bucket"]["Statement"]}
    assert bucket["EnvironmentObjects"]["Resource"] == [
        "arn:aws:s3:::shop-assets/resources/environments/logs/publish/shop/*",
        "arn:aws:s3:::shop-assets/resources/environments/shop/*",
    ]
    assert bucket["ApplicationVersions"]["Action"] == ["s3:GetObject"]
    assert bucket["ListEnvironmentPrefixes"]["Condition"] == {
        "StringLike": {
            "s3:prefix": [
                "app-versions/shop/*",
                "resources/environments/logs/publish/shop/*",
                "resources/environments/shop/*",
            ]
        }
    }
    assert policies["shop-queues"]["Statement"][0]["Resource"] == ["arn:aws:sqs:us-east-1:123456789012:shop-worker"]
    assert "sqs:ReceiveMessage" in policies["shop-queues"]["Statement"][0]["Action"]
    assert policies["shop-logs"]["Statement"][0]["Resource"] == ["arn:aws:logs:*:*:log-group:/webstack/shop:*"]
    metrics = policies["shop-metrics"]["Statement"][0]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["webstack/shop"]}}


def test_only_what_is_given_and_an_empty_app_versions_prefix():
    assert list(instance_profile.inline_policies("a", {"put_metrics": True})) == ["a-metrics"]
    assert instance_profile.inline_policies("a", {"put_metrics": False}) == {}
    params = {"bucket": "bkt", "bucket_prefixes": [], "app_versions_prefix": "", "put_metrics": False}
    policies = instance_profile.inline_policies("a", params)
    assert policies == {}
    pinned = instance_profile.log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:/webstack/a")
    assert pinned == "arn:aws:logs:us-east-1:123456789012:log-group:/webstack/a:*"
    extra = instance_profile.inline_policies(
        "a",
        {
            "put_metrics": False,
            "extra_statements": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}],
        },
    )
    assert extra["a-extra"]["Statement"] == [{"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": ["*"]}]


@pytest.mark.parametrize(
    "params,option",
    [
        ({"bucket": "UPPER"}, "bucket"),
        ({"bucket_prefixes": ["x/"]}, "bucket"),
        ({"bucket": "bkt", "bucket_prefixes": ["a/*"]}, "bucket_prefixes[0]"),
        ({"bucket": "bkt", "app_versions_prefix": "/v/"}, "app_versions_prefix"),
        ({"queue_arns": ["arn:aws:sqs:us-east-1:12:q"]}, "queue_arns[0]"),
        ({"log_group": "bad group name"}, "log_group"),
        ({"metrics_namespace": "AWS/EC2"}, "metrics_namespace"),
        ({"managed_policy_arns": ["arn:aws:iam::aws:role/x"]}, "managed_policy_arns[0]"),
        (
            {"extra_statements": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}]},
            "extra_statements[0].Principal",
        ),
        (
            {"extra_statements": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Bogus": 1}]},
            "extra_statements[0]",
        ),
        ({"extra_statements": [{"Effect": "Allow", "Action": [1], "Resource": "*"}]}, "extra_statements[0].Action"),
        (
            {"extra_statements": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": "x"}]},
            "extra_statements[0].Condition",
        ),
    ],
)
def test_bad_input_names_the_option(params, option):
    with pytest.raises(ValidationError) as err:
        instance_profile.validate(params)
    assert err.value.option == option


def test_good_input_passes():
    instance_profile.validate(
        {
            "bucket": "arn:aws:s3:::shop-assets",
            "bucket_prefixes": ["a/"],
            "queue_arns": ["arn:aws:sqs:us-east-1:123456789012:shop-worker.fifo"],
            "log_group": "arn:aws:logs:us-east-1:123456789012:log-group:/webstack/shop:*",
            "metrics_namespace": "Shop/Web",
            "managed_policy_arns": ["arn:aws:iam::123456789012:policy/team/Boundary"],
            "extra_statements": [{"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "*", "Condition": {}}],
        }
    )


def test_identity_layer_desired_state():
    layer = instance_profile.InstanceProfileLayer()
    ctx = Context("shop", "instance_profile", user_tags={"team": "a"})
    want = layer.desired(ctx, {"put_metrics": True, "managed_policy_arns": ["b", "a", "a"]}, {})
    role = want["iam_role"]["instance"]
    assert role.fields["role_name"] == "shop-instance" and role.fields["path"] == "/webstack/shop/"
    assert role.fields["managed_policy_arns"] == ["a", "b"]
    assert role.tags["webstack:layer"] == "instance_profile" and role.tags["team"] == "a"
    profile = want["instance_profile"]["instance"]
    assert profile.fields == {
        "instance_profile_name": "shop-instance",
        "path": "/webstack/shop/",
        "role_name": "shop-instance",
    }
    out = layer.outputs(ctx, {"put_metrics": True, "managed_policy_arns": []}, {"iam_role": {"instance": None}}, {})
    assert out["role_arn"] is None and out["policy_names"] == ["shop-metrics"]


def test_permissions_boundary_omitted_is_left_alone_and_empty_removes_it():
    layer = instance_profile.InstanceProfileLayer()
    ctx = Context("shop", "instance_profile")
    omitted = layer.desired(ctx, {"put_metrics": False}, {})["iam_role"]["instance"]
    assert "permissions_boundary" not in omitted.fields
    removed = layer.desired(ctx, {"put_metrics": False, "permissions_boundary": ""}, {})["iam_role"]["instance"]
    assert removed.fields["permissions_boundary"] is None
    assert iam.Role().equal("permissions_boundary", None, None)
    assert not iam.Role().equal("permissions_boundary", "arn:aws:iam::aws:policy/P", None)
    with pytest.raises(ValidationError) as err:
        instance_profile.validate({"permissions_boundary": "PowerUserAccess"})
    assert err.value.option == "permissions_boundary"


def test_default_bucket_is_the_static_assets_default_name_from_one_naming_rule():
    """default_bucket: the bucket the static_assets layer makes by default, its name built by s3's own rule, the
    account id from the existing role's ARN (no call) or else one STS call."""
    import botocore.session
    from botocore.stub import Stubber

    from ansible_collections.webstack.aws.plugins.module_utils._engine import Current
    from ansible_collections.webstack.aws.plugins.module_utils._kinds.s3 import default_bucket_name

    layer = instance_profile.InstanceProfileLayer()
    arn = "arn:aws:iam::210987654321:role/webstack/shop/shop-instance"
    current = {"iam_role": {"instance": Current("instance", "shop-instance", {}, {}, {"Arn": arn})}}
    ctx = Context("shop", "instance_profile")  # no client at all: any call would fail
    want = layer.desired(ctx, {"put_metrics": False, "default_bucket": True}, current)
    expected = default_bucket_name("shop", "210987654321")
    assert expected == "shop-assets-210987654321"
    statements = want["iam_role"]["instance"].fields["inline_policies"]["shop-bucket"]["Statement"]
    assert {s["Sid"]: s["Resource"] for s in statements}["ListEnvironmentPrefixes"] == ["arn:aws:s3:::" + expected]
    assert layer.outputs(ctx, {"put_metrics": False}, {}, current)["bucket"] == expected

    sts = botocore.session.get_session().create_client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    )
    ctx = Context("shop", "instance_profile", clients={"sts": sts})
    with Stubber(sts) as stub:  # a new role: the account id is read once
        stub.add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x"})
        want = layer.desired(ctx, {"put_metrics": False, "default_bucket": True}, {})
        stub.assert_no_pending_responses()
    assert (
        layer.bucket == "shop-assets-123456789012"
        and "shop-bucket" in want["iam_role"]["instance"].fields["inline_policies"]
    )
    # a bucket given wins; neither given: no bucket policy, no call
    layer.desired(Context("shop", "instance_profile"), {"bucket": "mine", "default_bucket": True}, {})
    assert layer.bucket == "mine"
    want = layer.desired(Context("shop", "instance_profile"), {"put_metrics": False}, {})
    assert layer.bucket is None and want["iam_role"]["instance"].fields["inline_policies"] == {}
    # prefixes need a bucket, which default_bucket provides
    instance_profile.validate({"default_bucket": True, "bucket_prefixes": ["a/"]})
    with pytest.raises(ValidationError, match="is required when bucket_prefixes"):
        instance_profile.validate({"bucket_prefixes": ["a/"]})
