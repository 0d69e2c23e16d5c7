# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 resource kinds: VPC, internet gateway, subnet, Elastic IP, NAT gateway, route table, security group,
launch template.

Each reads every resource of its layer with one call filtered by the environment and layer tags,
tags at creation (TagSpecifications) so an interrupted run never orphans anything, and uses a
ClientToken where the API offers one so a retried create never makes a duplicate.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import uuid

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    TAG_ENVIRONMENT,
    TAG_LAYER,
    TAG_RESOURCE,
    Current,
    EngineError,
    Kind,
    layer_tag_values,
    tag_dict,
    with_layer_name,
)

# A just-created EC2 id can be unknown to the next call for a moment (eventual consistency).
EVENTUAL_CONSISTENCY_CODES = (
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidAllocationID.NotFound",
    "InvalidNatGatewayID.NotFound",
    "NatGatewayNotFound",
)


def tag_specifications(resource_type, tags):
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}]


def layer_filters(ctx):
    """Filters for this environment's resources of this layer (of every layer when ctx.layer is None)."""
    filters = [{"Name": "tag:%s" % TAG_ENVIRONMENT, "Values": [ctx.environment]}]
    if ctx.layer:
        filters.append({"Name": "tag:%s" % TAG_LAYER, "Values": list(layer_tag_values(ctx.layer))})
    return filters


def client_token():
    """A fresh token per create: botocore's own retries of that one call reuse it (no duplicate),
    and a later run finds what an interrupted create made by its tags instead."""
    return uuid.uuid4().hex


@dataclasses.dataclass
class NetworkState:
    """What the network kinds pass each other during a run."""

    public_ips: dict = dataclasses.field(default_factory=dict)  # allocation id -> public IP, of the addresses made now
    # subnet id -> association id (route table read)
    route_table_associations: dict = dataclasses.field(default_factory=dict)


class Ec2Kind(Kind):
    """Shared EC2 plumbing: tags by CreateTags / DeleteTags, key from the webstack:resource tag."""

    def current(self, ctx, resource_id, tags, fields, raw=None):
        return Current(tags.get(TAG_RESOURCE, resource_id), resource_id, fields, tags, raw)

    def set_tags(self, ctx, current, add, remove):
        if add:
            tags = [{"Key": k, "Value": v} for k, v in add.items()]
            ctx.call("ec2", "create_tags", Resources=[current.id], Tags=tags)
        if remove:
            ctx.call("ec2", "delete_tags", Resources=[current.id], Tags=[{"Key": k} for k in remove])


class Vpc(Ec2Kind):
    name = "vpc"
    create_only = ("cidr_block",)
    updatable = ("enable_dns_support", "enable_dns_hostnames")

    def read(self, ctx):
        found = []
        for vpc in ctx.paginate("ec2", "describe_vpcs", "Vpcs", Filters=layer_filters(ctx)):
            fields = {"cidr_block": vpc["CidrBlock"]}
            # DNS settings are not in DescribeVpcs: one DescribeVpcAttribute per setting.
            for field, attribute, key in (
                ("enable_dns_support", "enableDnsSupport", "EnableDnsSupport"),
                ("enable_dns_hostnames", "enableDnsHostnames", "EnableDnsHostnames"),
            ):
                answer = ctx.call("ec2", "describe_vpc_attribute", VpcId=vpc["VpcId"], Attribute=attribute)
                fields[field] = answer[key]["Value"]
            found.append(self.current(ctx, vpc["VpcId"], tag_dict(vpc.get("Tags")), fields, vpc))
        return found

    def create(self, ctx, key, fields, tags):
        vpc = ctx.call(
            "ec2", "create_vpc", CidrBlock=fields["cidr_block"], TagSpecifications=tag_specifications("vpc", tags)
        )["Vpc"]
        defaults = {"enable_dns_support": True, "enable_dns_hostnames": False}
        changed = [f for f in self.updatable if fields[f] != defaults[f]]
        self._modify(ctx, vpc["VpcId"], fields, changed)
        return vpc["VpcId"]

    def _modify(self, ctx, vpc_id, fields, changed):
        # ModifyVpcAttribute takes one attribute per call, and support must be on before hostnames.
        for field, param in (
            ("enable_dns_support", "EnableDnsSupport"),
            ("enable_dns_hostnames", "EnableDnsHostnames"),
        ):
            if field in changed:
                ctx.call("ec2", "modify_vpc_attribute", VpcId=vpc_id, **{param: {"Value": fields[field]}})

    def update(self, ctx, current, fields, changed):
        self._modify(ctx, current.id, fields, changed)

    def delete(self, ctx, current):
        ctx.call("ec2", "delete_vpc", VpcId=current.id)


class InternetGateway(Ec2Kind):
    name = "internet_gateway"
    updatable = ("vpc_id",)

    def read(self, ctx):
        found = []
        for igw in ctx.paginate("ec2", "describe_internet_gateways", "InternetGateways", Filters=layer_filters(ctx)):
            attached = [a["VpcId"] for a in igw.get("Attachments", []) if a.get("State") in ("available", "attached")]
            fields = {"vpc_id": attached[0] if attached else None}
            found.append(self.current(ctx, igw["InternetGatewayId"], tag_dict(igw.get("Tags")), fields, igw))
        return found

    def create(self, ctx, key, fields, tags):
        igw = ctx.call(
            "ec2", "create_internet_gateway", TagSpecifications=tag_specifications("internet-gateway", tags)
        )["InternetGateway"]
        ctx.call("ec2", "attach_internet_gateway", InternetGatewayId=igw["InternetGatewayId"], VpcId=fields["vpc_id"])
        return igw["InternetGatewayId"]

    def update(self, ctx, current, fields, changed):
        if current.fields.get("vpc_id"):
            ctx.call("ec2", "detach_internet_gateway", InternetGatewayId=current.id, VpcId=current.fields["vpc_id"])
        if fields.get("vpc_id"):
            ctx.call("ec2", "attach_internet_gateway", InternetGatewayId=current.id, VpcId=fields["vpc_id"])

    def delete(self, ctx, current):
        if current.fields.get("vpc_id"):
            ctx.call("ec2", "detach_internet_gateway", InternetGatewayId=current.id, VpcId=current.fields["vpc_id"])
        ctx.call("ec2", "delete_internet_gateway", InternetGatewayId=current.id)


class Subnet(Ec2Kind):
    name = "subnet"
    create_only = ("vpc_id", "cidr_block", "availability_zone")
    updatable = ("map_public_ip_on_launch",)

    def read(self, ctx):
        found = []
        for subnet in ctx.paginate("ec2", "describe_subnets", "Subnets", Filters=layer_filters(ctx)):
            fields = {
                "vpc_id": subnet["VpcId"],
                "cidr_block": subnet["CidrBlock"],
                "availability_zone": subnet["AvailabilityZone"],
                "map_public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False),
            }
            found.append(self.current(ctx, subnet["SubnetId"], tag_dict(subnet.get("Tags")), fields, subnet))
        return found

    def create(self, ctx, key, fields, tags):
        subnet = ctx.call(
            "ec2",
            "create_subnet",
            VpcId=fields["vpc_id"],
            CidrBlock=fields["cidr_block"],
            AvailabilityZone=fields["availability_zone"],
            TagSpecifications=tag_specifications("subnet", tags),
        )["Subnet"]
        if fields.get("map_public_ip_on_launch"):
            self._modify(ctx, subnet["SubnetId"], fields)
        return subnet["SubnetId"]

    def _modify(self, ctx, subnet_id, fields):
        ctx.call(
            "ec2",
            "modify_subnet_attribute",
            SubnetId=subnet_id,
            MapPublicIpOnLaunch={"Value": bool(fields["map_public_ip_on_launch"])},
        )

    def update(self, ctx, current, fields, changed):
        self._modify(ctx, current.id, fields)

    def delete(self, ctx, current):
        ctx.call("ec2", "delete_subnet", SubnetId=current.id)


class ElasticIp(Ec2Kind):
    name = "elastic_ip"
    create_only = ("domain",)

    def read(self, ctx):
        found = []
        for address in ctx.paginate("ec2", "describe_addresses", "Addresses", Filters=layer_filters(ctx)):
            fields = {"domain": address.get("Domain", "vpc"), "public_ip": address.get("PublicIp")}
            found.append(self.current(ctx, address["AllocationId"], tag_dict(address.get("Tags")), fields, address))
        return found

    def equal(self, field, before, after):
        return field == "public_ip" or before == after

    def create(self, ctx, key, fields, tags):
        answer = ctx.call(
            "ec2", "allocate_address", Domain="vpc", TagSpecifications=tag_specifications("elastic-ip", tags)
        )
        ctx.state(NetworkState).public_ips[answer["AllocationId"]] = answer.get("PublicIp")
        return answer["AllocationId"]

    def delete(self, ctx, current):
        ctx.call("ec2", "release_address", AllocationId=current.id)


class NatGateway(Ec2Kind):
    name = "nat_gateway"
    create_only = ("subnet_id", "allocation_id")
    LIVE = ("pending", "available", "failed")

    def read(self, ctx):
        found = []
        filters = layer_filters(ctx) + [{"Name": "state", "Values": list(self.LIVE)}]
        for nat in ctx.paginate("ec2", "describe_nat_gateways", "NatGateways", Filter=filters):
            addresses = nat.get("NatGatewayAddresses") or [{}]
            fields = {"subnet_id": nat["SubnetId"], "allocation_id": addresses[0].get("AllocationId")}
            if nat.get("State") == "failed":
                fields["state"] = "failed"  # differs from the desired 'available': replaced
            found.append(self.current(ctx, nat["NatGatewayId"], tag_dict(nat.get("Tags")), fields, nat))
        return found

    def equal(self, field, before, after):
        if field == "state":
            return before in (None, "pending", "available")
        return before == after

    def create(self, ctx, key, fields, tags):
        nat = ctx.call(
            "ec2",
            "create_nat_gateway",
            SubnetId=fields["subnet_id"],
            AllocationId=fields["allocation_id"],
            ClientToken=client_token(),
            TagSpecifications=tag_specifications("natgateway", tags),
        )
        return nat["NatGateway"]["NatGatewayId"]

    def delete(self, ctx, current):
        ctx.call("ec2", "delete_nat_gateway", NatGatewayId=current.id)

    def _states(self, ctx, ids):
        nats = ctx.paginate("ec2", "describe_nat_gateways", "NatGateways", NatGatewayIds=list(ids))
        return dict((n["NatGatewayId"], n.get("State")) for n in nats)

    def wait_created(self, ctx, ids):
        def pending():
            states = self._states(ctx, ids)
            failed = [i for i, s in states.items() if s == "failed"]
            if failed:
                raise EngineError("NAT gateway(s) %s failed to become available" % ", ".join(failed))
            return ["NAT gateway %s (%s)" % (i, s) for i, s in sorted(states.items()) if s != "available"]

        ctx.poll("NAT gateways to become available", pending)

    def wait_deleted(self, ctx, ids):
        # Always waited: the Elastic IPs and subnets cannot go before the NAT gateways are gone.
        def pending():
            states = self._states(ctx, ids)
            return ["NAT gateway %s (%s)" % (i, s) for i, s in sorted(states.items()) if s != "deleted"]

        ctx.poll("NAT gateways to be deleted", pending)


class RouteTable(Ec2Kind):
    """A route table with its routes ({destination: target id}) and subnet associations."""

    name = "route_table"
    unordered = ("subnet_ids",)
    create_only = ("vpc_id",)
    updatable = ("routes", "subnet_ids")
    TARGETS = (("igw-", "GatewayId"), ("nat-", "NatGatewayId"))

    def read(self, ctx):
        found = []
        associations = ctx.state(NetworkState).route_table_associations
        for table in ctx.paginate("ec2", "describe_route_tables", "RouteTables", Filters=layer_filters(ctx)):
            routes = {}
            for route in table.get("Routes", []):
                if route.get("Origin") == "CreateRouteTable" or "DestinationCidrBlock" not in route:
                    continue
                routes[route["DestinationCidrBlock"]] = route.get("NatGatewayId") or route.get("GatewayId")
            subnet_ids = []
            for assoc in table.get("Associations", []):
                if assoc.get("SubnetId") and not assoc.get("Main"):
                    subnet_ids.append(assoc["SubnetId"])
                    associations[assoc["SubnetId"]] = assoc["RouteTableAssociationId"]
            fields = {"vpc_id": table["VpcId"], "routes": routes, "subnet_ids": sorted(subnet_ids)}
            found.append(self.current(ctx, table["RouteTableId"], tag_dict(table.get("Tags")), fields, table))
        return found

    def create(self, ctx, key, fields, tags):
        table = ctx.call(
            "ec2",
            "create_route_table",
            VpcId=fields["vpc_id"],
            ClientToken=client_token(),
            TagSpecifications=tag_specifications("route-table", tags),
        )["RouteTable"]
        empty = {"vpc_id": fields["vpc_id"], "routes": {}, "subnet_ids": []}
        self.update(ctx, Current(key, table["RouteTableId"], empty), fields, ["routes", "subnet_ids"])
        return table["RouteTableId"]

    def _target(self, target):
        for prefix, param in self.TARGETS:
            if target.startswith(prefix):
                return {param: target}
        return {"GatewayId": target}

    def update(self, ctx, current, fields, changed):
        associations = ctx.state(NetworkState).route_table_associations
        if "routes" in changed:
            have, want = current.fields.get("routes") or {}, fields.get("routes") or {}
            for destination in sorted(set(have) - set(want)):
                ctx.call("ec2", "delete_route", RouteTableId=current.id, DestinationCidrBlock=destination)
            for destination, target in sorted(want.items()):
                if destination not in have:
                    ctx.call(
                        "ec2",
                        "create_route",
                        RouteTableId=current.id,
                        DestinationCidrBlock=destination,
                        **self._target(target),
                    )
                elif have[destination] != target:
                    ctx.call(
                        "ec2",
                        "replace_route",
                        RouteTableId=current.id,
                        DestinationCidrBlock=destination,
                        **self._target(target),
                    )
        if "subnet_ids" in changed:
            have, want = set(current.fields.get("subnet_ids") or []), set(fields.get("subnet_ids") or [])
            for subnet_id in sorted(have - want):
                association = associations.pop(subnet_id, None)
                if association:
                    ctx.call("ec2", "disassociate_route_table", AssociationId=association)
            for subnet_id in sorted(want - have):
                association = associations.get(subnet_id)
                if association:  # explicitly associated with another of our tables: move it
                    answer = ctx.call(
                        "ec2", "replace_route_table_association", AssociationId=association, RouteTableId=current.id
                    )
                    associations[subnet_id] = answer["NewAssociationId"]
                else:
                    answer = ctx.call("ec2", "associate_route_table", RouteTableId=current.id, SubnetId=subnet_id)
                    associations[subnet_id] = answer["AssociationId"]

    def delete(self, ctx, current):
        associations = ctx.state(NetworkState).route_table_associations
        for subnet_id in current.fields.get("subnet_ids") or []:
            association = associations.get(subnet_id)
            if association:
                ctx.call("ec2", "disassociate_route_table", AssociationId=association)
                associations.pop(subnet_id, None)
        ctx.call("ec2", "delete_route_table", RouteTableId=current.id)


def rule_key(rule):
    return (
        rule["protocol"],
        rule.get("from_port") if rule.get("from_port") is not None else -1,
        rule.get("to_port") if rule.get("to_port") is not None else -1,
        rule.get("cidr") or "",
        str(rule.get("group_id") or ""),
        rule.get("description") or "",
    )


def normalise_rules(rules):
    return sorted(rules or [], key=rule_key)


def rules_from_permissions(permissions):
    """Flatten EC2 IpPermissions into one dict per (protocol, ports, source)."""
    rules = []
    for perm in permissions or []:
        protocol = str(perm.get("IpProtocol"))
        base = {"protocol": protocol}
        if protocol != "-1":
            base["from_port"] = perm.get("FromPort")
            base["to_port"] = perm.get("ToPort")
        for item in perm.get("IpRanges", []):
            rules.append(dict(base, cidr=item["CidrIp"], description=item.get("Description", "")))
        for item in perm.get("Ipv6Ranges", []):
            rules.append(dict(base, cidr=item["CidrIpv6"], description=item.get("Description", "")))
        for item in perm.get("UserIdGroupPairs", []):
            rules.append(dict(base, group_id=item["GroupId"], description=item.get("Description", "")))
        for item in perm.get("PrefixListIds", []):
            rules.append(dict(base, cidr=item["PrefixListId"], description=item.get("Description", "")))
    return normalise_rules(rules)


def permissions_from_rules(rules):
    """Group rules back into as few IpPermissions as possible (one per protocol and port range)."""
    grouped = {}
    for rule in normalise_rules(rules):
        key = (rule["protocol"], rule.get("from_port"), rule.get("to_port"))
        perm = grouped.get(key)
        if perm is None:
            perm = {"IpProtocol": rule["protocol"]}
            if rule["protocol"] != "-1":
                perm["FromPort"], perm["ToPort"] = rule["from_port"], rule["to_port"]
            grouped[key] = perm
        entry_description = {"Description": rule["description"]} if rule.get("description") else {}
        if rule.get("group_id"):
            perm.setdefault("UserIdGroupPairs", []).append(dict(GroupId=rule["group_id"], **entry_description))
        elif rule["cidr"].startswith("pl-"):
            perm.setdefault("PrefixListIds", []).append(dict(PrefixListId=rule["cidr"], **entry_description))
        elif ":" in rule["cidr"]:
            perm.setdefault("Ipv6Ranges", []).append(dict(CidrIpv6=rule["cidr"], **entry_description))
        else:
            perm.setdefault("IpRanges", []).append(dict(CidrIp=rule["cidr"], **entry_description))
    return [grouped[key] for key in sorted(grouped, key=lambda k: (k[0], k[1] if k[1] is not None else -1))]


class SecurityGroup(Ec2Kind):
    """A security group whose ingress and egress rules converge exactly."""

    name = "security_group"
    create_only = ("vpc_id", "group_name", "description")
    updatable = ("ingress", "egress")
    ORDER = ("load_balancer", "instance", "database", "cache")

    def sort_keys(self, keys):
        return sorted(keys, key=lambda k: (self.ORDER.index(k) if k in self.ORDER else len(self.ORDER), k))

    def read(self, ctx):
        found = []
        for group in ctx.paginate("ec2", "describe_security_groups", "SecurityGroups", Filters=layer_filters(ctx)):
            fields = {
                "vpc_id": group.get("VpcId"),
                "group_name": group["GroupName"],
                "description": group.get("Description"),
                "ingress": rules_from_permissions(group.get("IpPermissions")),
                "egress": rules_from_permissions(group.get("IpPermissionsEgress")),
            }
            found.append(self.current(ctx, group["GroupId"], tag_dict(group.get("Tags")), fields, group))
        return found

    def equal(self, field, before, after):
        if field in ("ingress", "egress"):
            return [rule_key(r) for r in normalise_rules(before)] == [rule_key(r) for r in normalise_rules(after)]
        return before == after

    def create(self, ctx, key, fields, tags):
        group_id = ctx.call(
            "ec2",
            "create_security_group",
            GroupName=fields["group_name"],
            VpcId=fields["vpc_id"],
            Description=fields["description"],
            TagSpecifications=tag_specifications("security-group", tags),
        )["GroupId"]
        # A new group comes with AWS's default egress rule (all traffic to 0.0.0.0/0).
        default_egress = [{"protocol": "-1", "cidr": "0.0.0.0/0", "description": ""}]
        empty = dict(fields, ingress=[], egress=default_egress)
        self.update(ctx, Current(key, group_id, empty), fields, ["ingress", "egress"])
        return group_id

    def update(self, ctx, current, fields, changed):
        for field, authorize, revoke in (
            ("ingress", "authorize_security_group_ingress", "revoke_security_group_ingress"),
            ("egress", "authorize_security_group_egress", "revoke_security_group_egress"),
        ):
            if field not in changed:
                continue
            have = dict((rule_key(r), r) for r in current.fields.get(field) or [])
            want = dict((rule_key(r), r) for r in fields.get(field) or [])
            stray = [have[k] for k in sorted(set(have) - set(want))]
            missing = [want[k] for k in sorted(set(want) - set(have))]
            if stray:
                ctx.call("ec2", revoke, GroupId=current.id, IpPermissions=permissions_from_rules(stray))
            if missing:
                ctx.call("ec2", authorize, GroupId=current.id, IpPermissions=permissions_from_rules(missing))

    def delete(self, ctx, current):
        ctx.call("ec2", "delete_security_group", GroupId=current.id)


# -- the launch template -----------------------------------------------------------------------------
# The EC2 launch template of an environment's instances, converged version by version.
#
# The template's fields are compared with the *default version's* LaunchTemplateData, normalised to a
# flat dict (AWS defaults filled in, lists sorted, user data decoded), so a run with nothing to change
# never makes a new version.  A change makes one new version (CreateLaunchTemplateVersion with a
# ClientToken) and makes it the default (ModifyLaunchTemplate); the Auto Scaling group follows
# ``$Default``.

# The launch template's key in the auto_scaling layer (one template per environment).
TEMPLATE_KEY = "launch_template"

# What the template's instances and their volumes are tagged with (the Auto Scaling group adds its
# own propagated tags on top).
TAGGED_AT_LAUNCH = ("instance", "volume")

# Normalised fields, in the order they are shown.
LAUNCH_TEMPLATE_FIELDS = (
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
    updatable = LAUNCH_TEMPLATE_FIELDS

    def read(self, ctx):
        found = []
        templates = ctx.paginate("ec2", "describe_launch_templates", "LaunchTemplates", Filters=layer_filters(ctx))
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
        for tag in ctx.paginate(
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
            # A legacy webstack:layer value (compute) is the same layer: renaming it is no reason for a new
            # template version and an instance refresh; the group's propagated tags name the layer anew anyway.
            return with_layer_name(before) == with_layer_name(after)
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
