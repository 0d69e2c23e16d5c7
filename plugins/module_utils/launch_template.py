# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EC2 launch template of an environment's instances, converged version by version.

The template's fields are compared with the *default version's* LaunchTemplateData, normalised to a
flat dict (AWS defaults filled in, lists sorted, user data decoded), so a run with nothing to change
never makes a new version.  A change makes one new version (CreateLaunchTemplateVersion with a
ClientToken) and makes it the default (ModifyLaunchTemplate); the Auto Scaling group follows
``$Default``.
"""

from __future__ import annotations

import base64
import binascii

from ansible_collections.webstack.aws.plugins.module_utils.ec2 import (
    Ec2Kind,
    client_token,
    layer_filters,
)
from ansible_collections.webstack.aws.plugins.module_utils.engine import tag_dict

# The launch template's key in the compute layer (one template per environment).
TEMPLATE_KEY = "launch_template"

# What the template's instances and their volumes are tagged with (the Auto Scaling group adds its
# own propagated tags on top).
TAGGED_AT_LAUNCH = ("instance", "volume")

# Normalised fields, in the order they are shown.
FIELDS = (
    "image_id",
    "instance_type",
    "iam_instance_profile",
    "security_group_ids",
    "metadata_http_tokens",
    "metadata_hop_limit",
    "root_device_name",
    "root_volume_size",
    "root_volume_type",
    "root_volume_encrypted",
    "user_data",
    "instance_tags",
)


def encode_user_data(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii") if text else None


def decode_user_data(value):
    """Plain text of base64 user data (AWS returns it encoded); None when absent or empty."""
    if not value:
        return None
    try:
        return base64.b64decode(value).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return value  # not ours (binary or gzip): compared as is, so it differs and is replaced


def normalise_data(data):
    """A flat, comparable dict of the LaunchTemplateData fields this collection manages."""
    data = data or {}
    profile = data.get("IamInstanceProfile") or {}
    metadata = data.get("MetadataOptions") or {}
    root = next((m for m in data.get("BlockDeviceMappings") or [] if m.get("Ebs")), {})
    ebs = root.get("Ebs") or {}
    tags = {}
    for spec in data.get("TagSpecifications") or []:
        if spec.get("ResourceType") == "instance":
            tags = tag_dict(spec.get("Tags"))
    size = ebs.get("VolumeSize")
    return {
        "image_id": data.get("ImageId"),
        "instance_type": data.get("InstanceType"),
        "iam_instance_profile": profile.get("Arn") or profile.get("Name"),
        "security_group_ids": sorted(data.get("SecurityGroupIds") or []),
        "metadata_http_tokens": metadata.get("HttpTokens") or "optional",
        "metadata_hop_limit": int(metadata.get("HttpPutResponseHopLimit") or 1),
        "root_device_name": root.get("DeviceName"),
        "root_volume_size": int(size) if size is not None else None,
        "root_volume_type": ebs.get("VolumeType"),
        "root_volume_encrypted": bool(ebs.get("Encrypted", False)),
        "user_data": decode_user_data(data.get("UserData")),
        "instance_tags": tags,
    }


def build_data(fields):
    """LaunchTemplateData for CreateLaunchTemplate / CreateLaunchTemplateVersion from the flat fields."""
    data = {
        "ImageId": fields["image_id"],
        "InstanceType": fields["instance_type"],
        "MetadataOptions": {
            "HttpTokens": fields["metadata_http_tokens"],
            "HttpPutResponseHopLimit": fields["metadata_hop_limit"],
            "HttpEndpoint": "enabled",
        },
        "BlockDeviceMappings": [
            {
                "DeviceName": fields["root_device_name"],
                "Ebs": {
                    "VolumeSize": fields["root_volume_size"],
                    "VolumeType": fields["root_volume_type"],
                    "Encrypted": bool(fields["root_volume_encrypted"]),
                    "DeleteOnTermination": True,
                },
            }
        ],
    }
    profile = fields.get("iam_instance_profile")
    if profile:
        data["IamInstanceProfile"] = {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}
    if fields.get("security_group_ids"):
        data["SecurityGroupIds"] = list(fields["security_group_ids"])
    if fields.get("user_data"):
        data["UserData"] = encode_user_data(fields["user_data"])
    tags = fields.get("instance_tags") or {}
    if tags:
        data["TagSpecifications"] = [
            {"ResourceType": resource, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
            for resource in TAGGED_AT_LAUNCH
        ]
    return data


class LaunchTemplate(Ec2Kind):
    """One launch template per environment, named after it; updates make a new default version."""

    name = "launch_template"
    unordered = ("security_group_ids",)
    create_only = ("launch_template_name",)
    updatable = FIELDS

    def read(self, ctx):
        found = []
        templates = ctx.describe("ec2", "describe_launch_templates", "LaunchTemplates", Filters=layer_filters(ctx))
        tags = self._tags(ctx, [t["LaunchTemplateId"] for t in templates])
        for template in templates:
            versions = ctx.call(
                "ec2",
                "describe_launch_template_versions",
                LaunchTemplateId=template["LaunchTemplateId"],
                Versions=["$Default"],
            ).get("LaunchTemplateVersions", [])
            data = versions[0].get("LaunchTemplateData") if versions else {}
            fields = normalise_data(data)
            fields["launch_template_name"] = template["LaunchTemplateName"]
            raw = {
                "LaunchTemplateId": template["LaunchTemplateId"],
                "LaunchTemplateName": template["LaunchTemplateName"],
                "DefaultVersionNumber": template.get("DefaultVersionNumber"),
                "LatestVersionNumber": template.get("LatestVersionNumber"),
            }
            template_tags = tags.get(template["LaunchTemplateId"], tag_dict(template.get("Tags")))
            found.append(self.current(ctx, template["LaunchTemplateId"], template_tags, fields, raw))
        return found

    def _tags(self, ctx, ids):
        """The templates' tags from one DescribeTags call for all of them.  DescribeLaunchTemplates also has
        them, but some endpoints (moto 5.2.5) keep answering the tags given at creation there after
        CreateTags / DeleteTags, which would plan the same tag change forever; DescribeTags is right on both."""
        if not ids:
            return {}
        tags = dict((i, {}) for i in ids)
        for tag in ctx.describe(
            "ec2",
            "describe_tags",
            "Tags",
            Filters=[
                {"Name": "resource-type", "Values": ["launch-template"]},
                {"Name": "resource-id", "Values": list(ids)},
            ],
        ):
            tags.setdefault(tag["ResourceId"], {})[tag["Key"]] = tag["Value"]
        return tags

    def equal(self, field, before, after):
        if field == "user_data":
            return (before or None) == (after or None)
        if field == "instance_tags":
            return (before or {}) == (after or {})
        return super().equal(field, before, after)

    def create(self, ctx, key, fields, tags):
        template = ctx.call(
            "ec2",
            "create_launch_template",
            LaunchTemplateName=fields["launch_template_name"],
            LaunchTemplateData=build_data(fields),
            VersionDescription="webstack: created",
            ClientToken=client_token(),
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
            ],
        )["LaunchTemplate"]
        ctx.remember(
            self.name,
            key,
            {
                "LaunchTemplateId": template["LaunchTemplateId"],
                "LaunchTemplateName": template["LaunchTemplateName"],
                "DefaultVersionNumber": template.get("DefaultVersionNumber", 1),
                "LatestVersionNumber": template.get("LatestVersionNumber", 1),
            },
        )
        return template["LaunchTemplateId"]

    def update(self, ctx, current, fields, changed):
        version = ctx.call(
            "ec2",
            "create_launch_template_version",
            LaunchTemplateId=current.id,
            LaunchTemplateData=build_data(fields),
            VersionDescription="webstack: %s" % ", ".join(sorted(changed))[:200],
            ClientToken=client_token(),
        )["LaunchTemplateVersion"]
        number = version["VersionNumber"]
        ctx.call("ec2", "modify_launch_template", LaunchTemplateId=current.id, DefaultVersion=str(number))
        ctx.remember(
            self.name,
            current.key,
            dict(current.raw or {}, DefaultVersionNumber=number, LatestVersionNumber=number),
        )

    def delete(self, ctx, current):
        ctx.call("ec2", "delete_launch_template", LaunchTemplateId=current.id)
