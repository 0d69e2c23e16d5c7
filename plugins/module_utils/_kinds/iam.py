# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM resource kinds: the instances' role (with its inline and managed policies) and instance profile.

Both live under the environment's own path, ``/webstack/<environment>/``, so one ListRoles and one
ListInstanceProfiles with that PathPrefix find every one of them.  IAM's list calls leave tags out, so
the one role and the one profile of a layer are then read with GetRole / GetInstanceProfile.

Policy documents are compared semantically (``normalise_policy``): statement, action and resource
order, single strings versus lists, action case and whitespace never make a change.
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import unquote

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = Exception

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_RESOURCE,
    Current,
    Kind,
    not_found,
    owned,
    tag_dict,
    tag_list,
)

POLICY_VERSION = "2012-10-17"
EC2_TRUST_POLICY = {
    "Version": POLICY_VERSION,
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

# IAM is eventually consistent: a role or profile made a moment ago can be unknown to the next IAM call.
EVENTUAL_CONSISTENCY_CODES = ("NoSuchEntity",)

# What a consumer of a new instance profile (a launch template, an Auto Scaling group, RunInstances) may
# get for about ten seconds after the profile was created on real AWS.  Retry these when the message
# names the instance profile (see ``profile_not_ready``).
PROFILE_NOT_READY_CODES = ("InvalidParameterValue", "ValidationError")
PROFILE_NOT_READY_WORDS = ("iaminstanceprofile", "instance profile")
# The same as a LayerSpec.retry_messages value: a layer that launches with a fresh profile sets
# ``retry_messages = iam.PROFILE_NOT_READY``.
PROFILE_NOT_READY = tuple((code, words) for code in PROFILE_NOT_READY_CODES for words in PROFILE_NOT_READY_WORDS)

_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def profile_not_ready(code, message):
    """Whether an EC2 / Auto Scaling error means the instance profile has not propagated yet."""
    text = (message or "").lower()
    return code in PROFILE_NOT_READY_CODES and any(word in text for word in PROFILE_NOT_READY_WORDS)


def path_for(environment):
    return "/webstack/%s/" % environment


def decode_policy(document):
    """A policy document as a dict, whether given as a dict, JSON text or URL-encoded JSON text."""
    if document is None or isinstance(document, dict):
        return document
    text = document.strip()
    if text.startswith("%"):
        text = unquote(text)
    return json.loads(text)


def _as_sorted_list(value, lower=False):
    values = [value] if isinstance(value, str) else list(value or [])
    if lower:
        values = [v.lower() for v in values]
    return sorted(set(values))


def _normalise_principal(principal):
    if not isinstance(principal, dict):
        return principal  # "*"
    return dict((k, _as_sorted_list(v)) for k, v in sorted(principal.items()))


def _normalise_condition(condition):
    return dict(
        (operator, dict((key, _as_sorted_list(value)) for key, value in sorted(tests.items())))
        for operator, tests in sorted((condition or {}).items())
    )


def normalise_statement(statement, fold_case=False):
    result = {}
    for key, value in statement.items():
        if key in ("Action", "NotAction"):
            result[key] = _as_sorted_list(value, lower=fold_case)
        elif key in _LIST_KEYS:
            result[key] = _as_sorted_list(value)
        elif key in ("Principal", "NotPrincipal"):
            result[key] = _normalise_principal(value)
        elif key == "Condition":
            if value:
                result[key] = _normalise_condition(value)
        elif key == "Sid":
            if value:
                result[key] = value
        else:
            result[key] = value
    return result


def normalise_policy(document, fold_case=False):
    """A canonical form of a policy document: equal documents give equal results.

    Statements, actions, resources and condition values sorted, strings made one-item lists, empty
    Sid and Condition dropped.  ``fold_case`` also lowercases actions (IAM ignores their case): used to
    compare, not to write, so the documents in AWS keep the case they were given in."""
    document = decode_policy(document)
    if document is None:
        return None
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    normalised = [normalise_statement(s, fold_case) for s in statements]
    unique = dict((json.dumps(s, sort_keys=True), s) for s in normalised)
    result = {"Version": document.get("Version", "2008-10-17"), "Statement": [unique[k] for k in sorted(unique)]}
    if document.get("Id"):
        result["Id"] = document["Id"]
    return result


def policies_equal(before, after):
    return normalise_policy(before, fold_case=True) == normalise_policy(after, fold_case=True)


def _key_for(ctx, name, tags):
    key = tags.get(TAG_RESOURCE)
    if key:
        return key
    prefix = ctx.environment + "-"
    return name[len(prefix) :] if name.startswith(prefix) else name


@dataclasses.dataclass
class ProfileState:
    """Instance profile name -> the role it was given in this run (what wait_created expects to see)."""

    profile_roles: dict = dataclasses.field(default_factory=dict)


class Role(Kind):
    """An IAM role: trust policy, description, inline policies {name: document}, managed policy ARNs."""

    name = "iam_role"
    unordered = ("managed_policy_arns",)
    create_only = ("role_name", "path")
    updatable = ("assume_role_policy", "description", "inline_policies", "managed_policy_arns", "permissions_boundary")

    def read(self, ctx):
        found = []
        for listed in ctx.paginate("iam", "list_roles", "Roles", PathPrefix=path_for(ctx.environment)):
            role = ctx.call("iam", "get_role", RoleName=listed["RoleName"])["Role"]
            tags = tag_dict(role.get("Tags"))
            if not owned(ctx, tags, adopt_untagged=True):  # the path says whose it is
                continue
            name = role["RoleName"]
            inline = {}
            for policy_name in ctx.paginate("iam", "list_role_policies", "PolicyNames", RoleName=name):
                answer = ctx.call("iam", "get_role_policy", RoleName=name, PolicyName=policy_name)
                inline[policy_name] = normalise_policy(answer["PolicyDocument"])
            attached = ctx.paginate("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=name)
            fields = {
                "role_name": name,
                "path": role["Path"],
                "assume_role_policy": normalise_policy(role.get("AssumeRolePolicyDocument")),
                "description": role.get("Description") or "",
                "inline_policies": inline,
                "managed_policy_arns": sorted(p["PolicyArn"] for p in attached),
                "permissions_boundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            }
            found.append(Current(_key_for(ctx, name, tags), name, fields, tags, role))
        return found

    def equal(self, field, before, after):
        if field == "assume_role_policy":
            return policies_equal(before, after)
        if field == "inline_policies":
            before, after = before or {}, after or {}
            return sorted(before) == sorted(after) and all(policies_equal(before[n], after[n]) for n in after)
        if field in ("description", "permissions_boundary"):
            return (before or "") == (after or "")
        return super().equal(field, before, after)

    def create(self, ctx, key, fields, tags):
        params = dict(
            Path=fields["path"],
            RoleName=fields["role_name"],
            AssumeRolePolicyDocument=json.dumps(fields["assume_role_policy"], sort_keys=True),
            Tags=tag_list(tags),
        )
        if fields.get("description"):
            params["Description"] = fields["description"]
        if fields.get("permissions_boundary"):
            params["PermissionsBoundary"] = fields["permissions_boundary"]
        role = ctx.call("iam", "create_role", **params)["Role"]
        ctx.remember(self.name, key, role)
        empty = Current(key, role["RoleName"], {"inline_policies": {}, "managed_policy_arns": []})
        self.update(ctx, empty, fields, ["inline_policies", "managed_policy_arns"])
        return role["RoleName"]

    def update(self, ctx, current, fields, changed):
        name = current.id
        if "assume_role_policy" in changed:
            ctx.call(
                "iam",
                "update_assume_role_policy",
                RoleName=name,
                PolicyDocument=json.dumps(fields["assume_role_policy"], sort_keys=True),
            )
        if "description" in changed:
            ctx.call("iam", "update_role", RoleName=name, Description=fields.get("description") or "")
        if "permissions_boundary" in changed:
            if fields.get("permissions_boundary"):
                ctx.call(
                    "iam",
                    "put_role_permissions_boundary",
                    RoleName=name,
                    PermissionsBoundary=fields["permissions_boundary"],
                )
            else:
                ctx.call("iam", "delete_role_permissions_boundary", RoleName=name)
        if "inline_policies" in changed:
            have, want = current.fields.get("inline_policies") or {}, fields.get("inline_policies") or {}
            for policy_name in sorted(want):
                if policy_name not in have or not policies_equal(have[policy_name], want[policy_name]):
                    ctx.call(
                        "iam",
                        "put_role_policy",
                        RoleName=name,
                        PolicyName=policy_name,
                        PolicyDocument=json.dumps(want[policy_name], sort_keys=True),
                    )
            for policy_name in sorted(set(have) - set(want)):
                ctx.call("iam", "delete_role_policy", RoleName=name, PolicyName=policy_name)
        if "managed_policy_arns" in changed:
            have = set(current.fields.get("managed_policy_arns") or [])
            want = set(fields.get("managed_policy_arns") or [])
            for arn in sorted(want - have):
                ctx.call("iam", "attach_role_policy", RoleName=name, PolicyArn=arn)
            for arn in sorted(have - want):
                ctx.call("iam", "detach_role_policy", RoleName=name, PolicyArn=arn)

    def delete(self, ctx, current):
        name = current.id
        # A role still in an instance profile (one made by hand, say) cannot be deleted.
        for profile in ctx.paginate("iam", "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name):
            ctx.call(
                "iam",
                "remove_role_from_instance_profile",
                InstanceProfileName=profile["InstanceProfileName"],
                RoleName=name,
            )
        for policy_name in sorted(current.fields.get("inline_policies") or {}):
            ctx.call("iam", "delete_role_policy", RoleName=name, PolicyName=policy_name)
        for arn in sorted(current.fields.get("managed_policy_arns") or []):
            ctx.call("iam", "detach_role_policy", RoleName=name, PolicyArn=arn)
        ctx.call("iam", "delete_role", RoleName=name)

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call("iam", "tag_role", RoleName=current.id, Tags=tag_list(add))
        if remove:
            ctx.call("iam", "untag_role", RoleName=current.id, TagKeys=list(remove))


class InstanceProfile(Kind):
    """An instance profile holding one role.  Waited for until IAM shows the role in it."""

    name = "instance_profile"
    create_only = ("instance_profile_name", "path")
    updatable = ("role_name",)

    def read(self, ctx):
        found = []
        listed = ctx.paginate("iam", "list_instance_profiles", "InstanceProfiles", PathPrefix=path_for(ctx.environment))
        for item in listed:
            profile = ctx.call("iam", "get_instance_profile", InstanceProfileName=item["InstanceProfileName"])
            profile = profile["InstanceProfile"]
            tags = tag_dict(profile.get("Tags"))
            if not owned(ctx, tags, adopt_untagged=True):  # the path says whose it is
                continue
            roles = [r["RoleName"] for r in profile.get("Roles", [])]
            fields = {
                "instance_profile_name": profile["InstanceProfileName"],
                "path": profile["Path"],
                "role_name": roles[0] if roles else None,
            }
            name = profile["InstanceProfileName"]
            found.append(Current(_key_for(ctx, name, tags), name, fields, tags, profile))
        return found

    def create(self, ctx, key, fields, tags):
        profile = ctx.call(
            "iam",
            "create_instance_profile",
            InstanceProfileName=fields["instance_profile_name"],
            Path=fields["path"],
            Tags=tag_list(tags),
        )["InstanceProfile"]
        ctx.remember(self.name, key, profile)
        name = profile["InstanceProfileName"]
        if fields.get("role_name"):
            ctx.call("iam", "add_role_to_instance_profile", InstanceProfileName=name, RoleName=fields["role_name"])
        ctx.state(ProfileState).profile_roles[name] = fields.get("role_name")
        return name

    def update(self, ctx, current, fields, changed):
        name = current.id
        if current.fields.get("role_name"):
            ctx.call(
                "iam",
                "remove_role_from_instance_profile",
                InstanceProfileName=name,
                RoleName=current.fields["role_name"],
            )
        if fields.get("role_name"):
            ctx.call("iam", "add_role_to_instance_profile", InstanceProfileName=name, RoleName=fields["role_name"])
            if ctx.wait:
                ctx.state(ProfileState).profile_roles[name] = fields["role_name"]
                self.wait_created(ctx, [name])

    def wait_created(self, ctx, ids):
        """IAM is eventually consistent: wait until GetInstanceProfile shows the role in each new profile,
        so the launch template that uses it next does not fail on a profile IAM does not know yet."""
        expected = ctx.state(ProfileState).profile_roles

        def pending():
            still = []
            for name in ids:
                try:
                    profile = ctx.call("iam", "get_instance_profile", InstanceProfileName=name)["InstanceProfile"]
                except ClientError as exc:  # NoSuchEntity right after the create
                    if not not_found(exc, "NoSuchEntity"):
                        raise
                    still.append("instance profile %s (not visible yet)" % name)
                    continue
                roles = [r["RoleName"] for r in profile.get("Roles", [])]
                want = expected.get(name)
                if want and want not in roles:
                    still.append("instance profile %s (role %s not in it yet)" % (name, want))
            return still

        ctx.poll("the instance profile to show its role", pending, interval=1.0, max_interval=5.0)

    def delete(self, ctx, current):
        name = current.id
        profile = current.raw or {}
        roles = [r["RoleName"] for r in profile.get("Roles", [])] or (
            [current.fields["role_name"]] if current.fields.get("role_name") else []
        )
        for role_name in roles:
            ctx.call("iam", "remove_role_from_instance_profile", InstanceProfileName=name, RoleName=role_name)
        ctx.call("iam", "delete_instance_profile", InstanceProfileName=name)

    def set_tags(self, ctx, current, add, remove):
        if add:
            ctx.call("iam", "tag_instance_profile", InstanceProfileName=current.id, Tags=tag_list(add))
        if remove:
            ctx.call("iam", "untag_instance_profile", InstanceProfileName=current.id, TagKeys=list(remove))
