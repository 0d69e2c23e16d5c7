"""EC2 kinds (``_kinds/ec2.py``) without an emulator: security-group rules (EC2's IpPermissions <-> one rule per
source), and the launch template's normalisation and its read against botocore's Stubber."""

from __future__ import annotations

import base64

import botocore.session
from botocore.stub import ANY, Stubber

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Unknown
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import (
    LaunchTemplate,
    SecurityGroup,
    build_data,
    decode_user_data,
    layer_filters,
    normalise_data,
    permissions_from_rules,
    rules_from_permissions,
)


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


def test_launch_template_instance_tags_with_the_old_layer_name_are_the_same_layer():
    """An environment made when the layer was tagged compute: no new template version (and so no instance
    refresh) only for that; any other difference still counts."""
    kind = LaunchTemplate()
    old = {"webstack:environment": "shop", "webstack:layer": "compute", "team": "web"}
    new = dict(old, **{"webstack:layer": "auto_scaling"})
    assert kind.equal("instance_tags", old, new)
    assert not kind.equal("instance_tags", old, dict(new, team="platform"))
    assert not kind.equal("instance_tags", dict(old, **{"webstack:layer": "network"}), new)


def test_layer_filters_ask_for_the_layer_by_every_name_it_had():
    assert layer_filters(Context("shop", "auto_scaling")) == [
        {"Name": "tag:webstack:environment", "Values": ["shop"]},
        {"Name": "tag:webstack:layer", "Values": ["auto_scaling", "compute"]},
    ]
    assert layer_filters(Context("shop", "security_groups"))[1]["Values"] == ["security_groups", "firewall"]
    assert layer_filters(Context("shop", "network"))[1]["Values"] == ["network"]
    assert layer_filters(Context("shop", None)) == [{"Name": "tag:webstack:environment", "Values": ["shop"]}]


def test_user_data_that_is_not_ours_is_kept_as_is():
    assert decode_user_data(base64.b64encode(b"echo").decode()) == "echo"
    assert decode_user_data("!!not base64!!") == "!!not base64!!"
    assert decode_user_data(None) is None


def test_launch_template_read_is_three_calls_and_trusts_describe_tags():
    client = botocore.session.get_session().create_client(
        "ec2",
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="stubbed",  # noqa: S106 - never sent: the Stubber answers
    )
    ctx = Context("shop", "auto_scaling", clients={"ec2": client})
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


PERMS = [
    {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
    },
    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "1"}]},
    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
]


def test_flatten_and_group_round_trip():
    rules = rules_from_permissions(PERMS)
    assert len(rules) == 4
    assert {"protocol": "tcp", "from_port": 80, "to_port": 80, "group_id": "sg-1", "description": ""} in rules
    again = rules_from_permissions(permissions_from_rules(rules))
    assert again == rules


def test_grouping_makes_one_permission_per_protocol_and_port():
    perms = permissions_from_rules(rules_from_permissions(PERMS))
    assert [(p["IpProtocol"], p.get("FromPort")) for p in perms] == [("-1", None), ("tcp", 80), ("tcp", 443)]
    https = perms[2]
    assert https["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "https"}]
    assert https["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]


def test_rule_order_does_not_matter_but_content_does():
    kind = SecurityGroup()
    rules = rules_from_permissions(PERMS)
    assert kind.equal("ingress", rules, list(reversed(rules)))
    changed = [dict(r) for r in rules]
    changed[0]["description"] = "other"
    assert not kind.equal("ingress", rules, changed)


def test_a_rule_on_a_group_not_created_yet_never_matches():
    kind = SecurityGroup()
    rules = [{"protocol": "tcp", "from_port": 80, "to_port": 80, "group_id": "sg-1", "description": ""}]
    pending = [dict(rules[0], group_id=Unknown("security_group load_balancer"))]
    assert not kind.equal("ingress", rules, pending)
