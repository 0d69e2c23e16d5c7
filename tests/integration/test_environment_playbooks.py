"""playbooks/provision.yml and teardown.yml with the local inventory, as a user runs them: the whole web tier."""

from __future__ import annotations

import os

from awsemu import summarize
from common import ROOT, run_playbook

PROVISION = os.path.join(ROOT, "playbooks", "provision.yml")
TEARDOWN = os.path.join(ROOT, "playbooks", "teardown.yml")
LAYER_TASKS = (
    "Network (VPC, subnets, gateways, routes)",
    "Firewall (security-group chain)",
    "Identity (instance role and profile)",
    "DNS zone (found or created)",
    "Certificate (ACM, DNS-validated)",
    "Load balancer (ALB, processes, listeners, rules)",
    "Alarms (CloudWatch, log group, optional SNS topic)",
    "Compute (launch template, Auto Scaling group, scaling policies)",
    "DNS records (api alias and environment CNAME to the load balancer)",
)


def define(name, cidr="10.60.0.0/16", **network):
    return {
        "webstack_environment": {
            "name": name,
            "tier": "web",
            "domain": "%s.example.com" % name,
            "tags": {"owner": "tests"},
            "network": dict({"cidr_block": cidr, "nat_gateways": "single"}, **network),
            "instances": {
                "image_id": "ami-1e749f67",
                "instance_type": "t3.micro",
                "min_size": 2,
                "max_size": 3,
                "instance_refresh": False,
            },
        }
    }


def leftovers(aws, env):
    """Everything of the environment still in the account, read straight from each service."""
    flt = [{"Name": "tag:webstack:environment", "Values": [env]}]
    ec2 = aws.ec2
    found = (
        ec2.describe_vpcs(Filters=flt)["Vpcs"]
        + ec2.describe_subnets(Filters=flt)["Subnets"]
        + ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
        + ec2.describe_addresses(Filters=flt)["Addresses"]
        + ec2.describe_route_tables(Filters=flt)["RouteTables"]
        + ec2.describe_internet_gateways(Filters=flt)["InternetGateways"]
        + ec2.describe_launch_templates(Filters=flt)["LaunchTemplates"]
        + [n for n in ec2.describe_nat_gateways(Filter=flt)["NatGateways"] if n["State"] != "deleted"]
        + [
            i
            for r in ec2.describe_instances(Filters=flt)["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] not in ("terminated", "shutting-down")
        ]
    )
    found += [
        g
        for g in aws.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        if g["AutoScalingGroupName"] == env
    ]
    found += [lb for lb in aws.elbv2.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == env]
    found += [
        tg for tg in aws.elbv2.describe_target_groups()["TargetGroups"] if tg["TargetGroupName"].startswith(env + "-")
    ]
    found += aws.iam.list_roles(PathPrefix="/webstack/%s/" % env)["Roles"]
    found += aws.iam.list_instance_profiles(PathPrefix="/webstack/%s/" % env)["InstanceProfiles"]
    found += [
        c
        for c in aws.acm.list_certificates()["CertificateSummaryList"]
        if c["DomainName"].endswith("%s.example.com" % env)
    ]
    found += [z for z in aws.route53.list_hosted_zones()["HostedZones"] if z["Name"] == "%s.example.com." % env]
    found += aws.cloudwatch.describe_alarms(AlarmNamePrefix=env + "-")["MetricAlarms"]
    found += aws.logs.describe_log_groups(logGroupNamePrefix="/webstack/%s" % env)["logGroups"]
    found += [t for t in aws.sns.list_topics()["Topics"] if t["TopicArn"].endswith(":%s-alarms" % env)]
    return found


def test_plan_converge_noop_teardown(emulator, aws):
    env = define("play-web")
    emulator.reset_calls()
    plan = run_playbook(PROVISION, emulator.endpoint, "--check", "--diff", extra_vars=env)
    calls = summarize(emulator.calls())
    assert calls["mutating"] == 0, calls["by_action"]
    plans = {name: plan.task(name)["plan"] for name in LAYER_TASKS}
    assert all(plans.values()), [name for name, p in plans.items() if not p]
    alarms = [c["key"] for c in plans["Alarms (CloudWatch, log group, optional SNS topic)"]]
    assert "cpu-high" in alarms, alarms
    assert len(plans["Network (VPC, subnets, gateways, routes)"]) == 14  # single NAT
    assert leftovers(aws, "play-web") == []

    emulator.reset_calls()
    first = run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    outputs = first.task("Record what was converged")["ansible_facts"]["environment_outputs"]
    assert outputs["url"] == "https://api.play-web.example.com"
    assert outputs["network"]["vpc_id"].startswith("vpc-")
    assert outputs["load_balancer"]["dns_name"]
    assert outputs["certificate"]["status"] == "ISSUED"
    assert len(outputs["auto_scaling"]["instances"]) == 2
    assert aws.logs.describe_log_groups(logGroupNamePrefix="/webstack/play-web")["logGroups"]
    # the instances are registered in the target group (read back from AWS, not from our output)
    tg_arn = list(outputs["load_balancer"]["target_group_arns"].values())[0]
    health = aws.elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    in_group = {t["Target"]["Id"] for t in health}
    assert in_group == {i["instance_id"] for i in outputs["auto_scaling"]["instances"]}
    zone = outputs["dns"]["hosted_zone_id"]
    records = aws.route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    api = [r for r in records if r["Name"] == "api.play-web.example.com." and r["Type"] == "A"]
    assert api and api[0]["AliasTarget"]["DNSName"].rstrip(".").lower() == outputs["load_balancer"]["dns_name"].lower()
    # the plan check mode showed for the network is what the apply did
    assert (
        first.task("Network (VPC, subnets, gateways, routes)")["plan"]
        == plans["Network (VPC, subnets, gateways, routes)"]
    )
    assert first.changed_count() >= len(LAYER_TASKS)

    emulator.reset_calls()
    second = run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    calls = summarize(emulator.calls())
    assert second.changed_count() == 0, [n for n in LAYER_TASKS if second.task(n).get("changed")]
    assert calls["mutating"] == 0, calls["by_action"]

    down = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert down.task("Verify that nothing tagged with the environment remains")["msg"] == (
        "Nothing tagged webstack:environment=play-web remains."
    )
    assert leftovers(aws, "play-web") == []
    again = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert again.changed_count() == 0


def test_definition_errors_fail_before_any_aws_call(emulator):
    emulator.reset_calls()
    bad = define("play-bad", az_count=3, availability_zones=["us-east-1a"])
    run = run_playbook(PROVISION, emulator.endpoint, extra_vars=bad, check=False)
    assert run.returncode != 0
    assert "network.az_count must match" in run.stdout
    unknown = {"webstack_environment": {"name": "play-bad", "tier": "batch"}}
    run = run_playbook(PROVISION, emulator.endpoint, extra_vars=unknown, check=False)
    assert run.returncode != 0
    assert "tier" in run.stdout
    no_domain = define("play-bad")
    no_domain["webstack_environment"]["domain"] = ""
    run = run_playbook(PROVISION, emulator.endpoint, extra_vars=no_domain, check=False)
    assert run.returncode != 0
    assert "a web tier needs" in run.stdout
    assert emulator.calls() == []
