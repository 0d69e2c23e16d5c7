# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything tagged with an environment, across layers: what teardown verifies is gone."""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils.acm import Certificate
from ansible_collections.webstack.aws.plugins.module_utils.autoscaling import AutoScalingGroup
from ansible_collections.webstack.aws.plugins.module_utils.cloudwatch import Alarm, LogGroup, Topic
from ansible_collections.webstack.aws.plugins.module_utils.ec2 import (
    ElasticIp,
    InternetGateway,
    NatGateway,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from ansible_collections.webstack.aws.plugins.module_utils.elbv2 import (
    Listener,
    ListenerRule,
    LoadBalancer,
    TargetGroup,
)
from ansible_collections.webstack.aws.plugins.module_utils.engine import TAG_LAYER
from ansible_collections.webstack.aws.plugins.module_utils.iam import InstanceProfile, Role
from ansible_collections.webstack.aws.plugins.module_utils.launch_template import LaunchTemplate
from ansible_collections.webstack.aws.plugins.module_utils.route53 import HostedZone

# Every kind the collection creates, by the service that owns it (one filtered call each).
KINDS = {
    "acm": (Certificate,),
    "autoscaling": (AutoScalingGroup,),
    "cloudwatch": (Alarm,),
    "ec2": (Vpc, InternetGateway, Subnet, ElasticIp, NatGateway, RouteTable, SecurityGroup, LaunchTemplate),
    "elbv2": (TargetGroup, LoadBalancer, Listener, ListenerRule),
    "iam": (Role, InstanceProfile),
    "logs": (LogGroup,),
    "route53": (HostedZone,),
    "sns": (Topic,),
}


def read_environment(ctx):
    """A list of {kind, key, id, layer, tags} for every resource tagged with ctx.environment."""
    found = []
    for service in sorted(KINDS):
        for kind_class in KINDS[service]:
            kind = kind_class()
            for item in kind.read(ctx):
                found.append(
                    {
                        "kind": kind.name,
                        "key": item.key,
                        "id": item.id,
                        "layer": item.tags.get(TAG_LAYER),
                        "tags": item.tags,
                    }
                )
    return found
