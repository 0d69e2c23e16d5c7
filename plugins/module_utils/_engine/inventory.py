# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything tagged with an environment, across layers: what teardown verifies is gone."""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils._engine import TAG_LAYER, layer_name
from ansible_collections.webstack.aws.plugins.module_utils._kinds.acm import Certificate
from ansible_collections.webstack.aws.plugins.module_utils._kinds.autoscaling import AutoScalingGroup
from ansible_collections.webstack.aws.plugins.module_utils._kinds.cloudfront import Distribution, OriginAccessControl
from ansible_collections.webstack.aws.plugins.module_utils._kinds.cloudwatch import Alarm, LogGroup, Topic
from ansible_collections.webstack.aws.plugins.module_utils._kinds.ec2 import (
    ElasticIp,
    InternetGateway,
    LaunchTemplate,
    NatGateway,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elasticache import CacheSubnetGroup, ReplicationGroup
from ansible_collections.webstack.aws.plugins.module_utils._kinds.elbv2 import (
    Listener,
    ListenerRule,
    LoadBalancer,
    TargetGroup,
)
from ansible_collections.webstack.aws.plugins.module_utils._kinds.iam import InstanceProfile, Role
from ansible_collections.webstack.aws.plugins.module_utils._kinds.rds import DBInstance, ParameterGroup, SubnetGroup
from ansible_collections.webstack.aws.plugins.module_utils._kinds.route53 import HostedZone
from ansible_collections.webstack.aws.plugins.module_utils._kinds.s3 import Bucket
from ansible_collections.webstack.aws.plugins.module_utils._kinds.sqs import SqsQueue

# Every kind the collection creates, by the service that owns it (one filtered call each).  A service with no
# kinds is one some kind needs a client of (the assets bucket's default name holds the account id, from STS).
# Not listed, on purpose: final snapshots (RDS, ElastiCache) - teardown keeps them.
KINDS = {
    "acm": (Certificate,),
    "autoscaling": (AutoScalingGroup,),
    "cloudfront": (OriginAccessControl, Distribution),
    "cloudwatch": (Alarm,),
    "elasticache": (CacheSubnetGroup, ReplicationGroup),
    "ec2": (Vpc, InternetGateway, Subnet, ElasticIp, NatGateway, RouteTable, SecurityGroup, LaunchTemplate),
    "elbv2": (TargetGroup, LoadBalancer, Listener, ListenerRule),
    "iam": (Role, InstanceProfile),
    "logs": (LogGroup,),
    "rds": (SubnetGroup, ParameterGroup, DBInstance),
    "route53": (HostedZone,),
    "s3": (Bucket,),
    "sns": (Topic,),
    "sqs": (SqsQueue,),
    "sts": (),
}


def read_environment(ctx):
    """A list of {kind, key, id, layer, tags} for every resource tagged with ctx.environment (of ctx.layer only,
    when set); ``layer`` is the layer's name today, also for a resource still tagged with a legacy one."""
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
                        "layer": layer_name(item.tags.get(TAG_LAYER)),  # a legacy tag value by today's name
                        "tags": item.tags,
                    }
                )
    return found
