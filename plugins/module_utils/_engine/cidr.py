# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carving subnets out of a VPC CIDR, stably.

The VPC range is split into four equal tier blocks (public, private, database, and one kept
spare), and each tier block into ``AZ_SLOTS`` equal subnets, one slot per availability zone.
A subnet's range depends only on its tier and its AZ's position, so adding an AZ later never
moves an existing subnet.  A /16 VPC gives /21 subnets (2,043 usable addresses each).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError

TIERS = ("public", "private", "database")
AZ_SLOTS = 8
TIER_BITS = 2  # four tier blocks
SLOT_BITS = 3  # eight AZ slots per tier
SMALLEST_SUBNET = 28


def carve(vpc_cidr, az_count, option="cidr_block"):
    """{tier: [cidr of AZ 0, cidr of AZ 1, ...]} for ``az_count`` AZs."""
    network = ipaddress.ip_network(vpc_cidr, strict=True)
    prefix = network.prefixlen + TIER_BITS + SLOT_BITS
    if prefix > SMALLEST_SUBNET:
        largest = SMALLEST_SUBNET - TIER_BITS - SLOT_BITS
        raise ValidationError(
            option,
            "%s is too small to carve 3 tiers x %d AZ slots into subnets of at least /%d; use a /%d or larger VPC, "
            "or give the subnets explicitly in 'subnets'" % (vpc_cidr, AZ_SLOTS, SMALLEST_SUBNET, largest),
        )
    if not 1 <= az_count <= AZ_SLOTS:
        raise ValidationError("az_count", "%r is out of range; use 1 to %d" % (az_count, AZ_SLOTS))
    blocks = list(network.subnets(new_prefix=network.prefixlen + TIER_BITS))
    result = {}
    for index, tier in enumerate(TIERS):
        slots = list(blocks[index].subnets(new_prefix=prefix))
        result[tier] = [str(slot) for slot in slots[:az_count]]
    return result
