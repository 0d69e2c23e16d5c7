# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network layer: VPC, subnets in three tiers per AZ, internet gateway, NAT gateways, routes."""

from __future__ import annotations

import ipaddress

from ansible_collections.webstack.aws.plugins.module_utils._engine import Desired, Ref, cidr, validation
from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import (
    EVENTUAL_CONSISTENCY_CODES,
    ElasticIp,
    InternetGateway,
    NatGateway,
    NetworkState,
    RouteTable,
    Subnet,
    Vpc,
)

TIERS = cidr.TIERS
NAT_MODES = ("one_per_az", "single", "none")


def argument_spec():
    return dict(
        cidr_block=dict(type="str", default="10.0.0.0/16"),
        az_count=dict(type="int"),
        availability_zones=dict(type="list", elements="str"),
        subnets=dict(
            type="dict",
            options=dict(
                public=dict(type="list", elements="str", required=True),
                private=dict(type="list", elements="str", required=True),
                database=dict(type="list", elements="str", required=True),
            ),
        ),
        nat_gateways=dict(type="str", default="one_per_az", choices=list(NAT_MODES)),
        enable_dns_support=dict(type="bool", default=True),
        enable_dns_hostnames=dict(type="bool", default=True),
        map_public_ip_on_launch=dict(type="bool", default=False),
        allow_replacement=dict(type="bool", default=False),
    )


def validate(params):
    """Everything that can be checked without AWS.  Returns {tier: [cidr per AZ]}."""
    vpc = validation.ipv4_network(params["cidr_block"], "cidr_block")
    zones = params.get("availability_zones")
    if zones is not None:
        if not zones:
            raise ValidationError("availability_zones", "give at least one availability zone, or omit it")
        if len(set(zones)) != len(zones):
            raise ValidationError("availability_zones", "lists a zone twice: %s" % ", ".join(zones))
        if params.get("az_count") not in (None, len(zones)):
            raise ValidationError(
                "az_count",
                "is %s but availability_zones lists %d zones; give one or the other" % (params["az_count"], len(zones)),
            )
    count = len(zones) if zones else zone_count(params)
    validation.in_range(count, "az_count", 1, cidr.AZ_SLOTS)
    explicit = params.get("subnets")
    if not explicit:
        return cidr.carve(params["cidr_block"], count)
    labelled = []
    for tier in TIERS:
        blocks = explicit.get(tier) or []
        option = "subnets.%s" % tier
        if len(blocks) != count:
            raise ValidationError(
                option,
                "lists %d CIDR blocks but there are %d availability zones; give one per zone" % (len(blocks), count),
            )
        for index, block in enumerate(blocks):
            net = validation.ipv4_network(block, option, min_prefix=16, max_prefix=28)
            if not net.subnet_of(vpc):
                raise ValidationError(option, "%s is outside the VPC's %s; pick a range inside it" % (block, vpc))
            labelled.append(("%s[%d]" % (option, index), net))
    validation.no_overlaps(labelled, "subnets")
    return dict((tier, [str(ipaddress.ip_network(b)) for b in explicit[tier]]) for tier in TIERS)


def zone_count(params):
    return params.get("az_count") if params.get("az_count") is not None else 2


def choose_zones(ctx, params, current=None):
    """The AZs to use: the ones given (checked to exist), or the first ``az_count`` of the region.

    When the public subnets already span exactly ``az_count`` zones, those zones are kept without asking
    EC2 again (one call less on every run that changes nothing, and no zone ever moves under a subnet)."""
    if not params.get("availability_zones") and current:
        count = zone_count(params)
        existing = sorted(
            {
                subnet.fields["availability_zone"]
                for key, subnet in current.get("subnet", {}).items()
                if key.startswith("public-")
            }
        )
        if len(existing) == count:
            return existing
    answer = ctx.call(
        "ec2",
        "describe_availability_zones",
        Filters=[{"Name": "state", "Values": ["available"]}, {"Name": "zone-type", "Values": ["availability-zone"]}],
    )
    available = sorted(z["ZoneName"] for z in answer["AvailabilityZones"])
    wanted = params.get("availability_zones")
    if wanted:
        unknown = [z for z in wanted if z not in available]
        if unknown:
            raise ValidationError(
                "availability_zones",
                "%s not available in this region (it has %s)" % (", ".join(unknown), ", ".join(available)),
            )
        return list(wanted)
    count = zone_count(params)
    if count > len(available):
        raise ValidationError(
            "az_count",
            "%d is more than the %d availability zones this region has (%s); lower it"
            % (count, len(available), ", ".join(available)),
        )
    return available[:count]


class NetworkLayer(LayerSpec):
    layer = "network"
    result_key = "network"
    services = ("ec2",)
    retry_codes = EVENTUAL_CONSISTENCY_CODES

    def kinds(self):
        return [Vpc(), InternetGateway(), Subnet(), ElasticIp(), NatGateway(), RouteTable()]

    def validate(self, params, check_mode):
        self.blocks = validate(params)

    def desired(self, ctx, params, current):
        zones = choose_zones(ctx, params, current)
        self.zones = zones
        tags = ctx.tags_for
        vpc = Ref("vpc", "vpc")
        want = {"vpc": {}, "internet_gateway": {}, "subnet": {}, "elastic_ip": {}, "nat_gateway": {}, "route_table": {}}
        want["vpc"]["vpc"] = Desired(
            {
                "cidr_block": params["cidr_block"],
                "enable_dns_support": params["enable_dns_support"],
                "enable_dns_hostnames": params["enable_dns_hostnames"],
            },
            tags("vpc"),
        )
        want["internet_gateway"]["igw"] = Desired({"vpc_id": vpc}, tags("igw"))
        for tier in TIERS:
            for index, zone in enumerate(zones):
                key = "%s-%s" % (tier, zone)
                want["subnet"][key] = Desired(
                    {
                        "vpc_id": vpc,
                        "cidr_block": self.blocks[tier][index],
                        "availability_zone": zone,
                        "map_public_ip_on_launch": params["map_public_ip_on_launch"] if tier == "public" else False,
                    },
                    dict(tags(key), **{"webstack:tier": tier}),
                )
        nat_zones = {"one_per_az": zones, "single": zones[:1], "none": []}[params["nat_gateways"]]
        for zone in nat_zones:
            want["elastic_ip"]["nat-%s" % zone] = Desired({"domain": "vpc"}, tags("nat-%s" % zone))
            want["nat_gateway"]["nat-%s" % zone] = Desired(
                {
                    "subnet_id": Ref("subnet", "public-%s" % zone),
                    "allocation_id": Ref("elastic_ip", "nat-%s" % zone),
                },
                tags("nat-%s" % zone),
            )
        want["route_table"]["public"] = Desired(
            {
                "vpc_id": vpc,
                "routes": {"0.0.0.0/0": Ref("internet_gateway", "igw")},
                "subnet_ids": [Ref("subnet", "public-%s" % z) for z in zones],
            },
            tags("public"),
        )
        for zone in zones:
            routes = {}
            if nat_zones:
                nat_zone = zone if zone in nat_zones else nat_zones[0]
                routes["0.0.0.0/0"] = Ref("nat_gateway", "nat-%s" % nat_zone)
            want["route_table"]["private-%s" % zone] = Desired(
                {
                    "vpc_id": vpc,
                    "routes": routes,
                    "subnet_ids": [Ref("subnet", "private-%s" % zone)],
                },
                tags("private-%s" % zone),
            )
        want["route_table"]["database"] = Desired(
            {
                "vpc_id": vpc,
                "routes": {},
                "subnet_ids": [Ref("subnet", "database-%s" % z) for z in zones],
            },
            tags("database"),
        )
        self.want = want
        return want

    def outputs(self, ctx, params, ids, current):
        zones = self.zones
        subnets = dict((tier, {}) for tier in TIERS)
        for tier in TIERS:
            for index, zone in enumerate(zones):
                key = "%s-%s" % (tier, zone)
                subnets[tier][zone] = {"id": ids.get("subnet", {}).get(key), "cidr_block": self.blocks[tier][index]}
        public_ips = dict(ctx.state(NetworkState).public_ips)
        for address in current.get("elastic_ip", {}).values():
            public_ips.setdefault(address.id, address.fields.get("public_ip"))
        nat_ids = dict(
            (key[len("nat-") :], value)
            for key, value in ids.get("nat_gateway", {}).items()
            if key in self.want["nat_gateway"]
        )
        eips = dict(
            (key[len("nat-") :], {"allocation_id": value, "public_ip": public_ips.get(value)})
            for key, value in ids.get("elastic_ip", {}).items()
            if key in self.want["elastic_ip"]
        )
        return {
            "environment": ctx.environment,
            "vpc_id": ids.get("vpc", {}).get("vpc"),
            "cidr_block": params["cidr_block"],
            "availability_zones": zones,
            "subnets": subnets,
            "subnet_ids": dict((tier, [subnets[tier][z]["id"] for z in zones]) for tier in TIERS),
            "internet_gateway_id": ids.get("internet_gateway", {}).get("igw"),
            "nat_gateway_ids": nat_ids,
            "elastic_ips": eips,
            "route_table_ids": dict(
                (k, v) for k, v in ids.get("route_table", {}).items() if k in self.want["route_table"]
            ),
        }
