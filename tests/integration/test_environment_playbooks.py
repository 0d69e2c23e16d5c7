"""playbooks/provision.yml and teardown.yml with the local inventory, as a user runs them: the whole web tier, the
worker tier, and what keeps users' data safe (final snapshots, refused deletes, secrets never printed)."""

from __future__ import annotations

import os

import pytest
from awsemu import summarize
from common import ROOT, run_playbook

PROVISION = os.path.join(ROOT, "playbooks", "provision.yml")
TEARDOWN = os.path.join(ROOT, "playbooks", "teardown.yml")
LAYER_TASKS = (
    "Network (VPC, subnets, gateways, routes)",
    "Firewall (security-group chain)",
    "Database (RDS PostgreSQL) - started",
    "Cache (ElastiCache Redis replication group) - started",
    "Static assets (S3 bucket behind CloudFront) - started",
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
    found += aws.rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [env]}])["DBInstances"]
    found += [g for g in aws.rds.describe_db_subnet_groups()["DBSubnetGroups"] if g["DBSubnetGroupName"] == env]
    found += [
        g
        for g in aws.rds.describe_db_parameter_groups()["DBParameterGroups"]
        if g["DBParameterGroupName"].startswith(env)
    ]
    found += [
        g for g in aws.elasticache.describe_replication_groups()["ReplicationGroups"] if g["ReplicationGroupId"] == env
    ]
    found += [
        g
        for g in aws.elasticache.describe_cache_subnet_groups()["CacheSubnetGroups"]
        if g["CacheSubnetGroupName"] == env
    ]
    found += [b for b in aws.s3.list_buckets()["Buckets"] if b["Name"].startswith(env + "-assets-")]
    distributions = aws.cloudfront.list_distributions()["DistributionList"].get("Items", [])
    found += [d for d in distributions if d["Comment"] == "webstack %s static assets" % env]
    found += list(aws.sqs.list_queues(QueueNamePrefix=env + "-").get("QueueUrls", []))
    found += [t for t in aws.sns.list_topics()["Topics"] if t["TopicArn"].endswith(":%s-alarms" % env)]
    return found


PASSWORD = "Db-pass-never-shown-41"  # noqa: S105 - a test secret, checked never to be printed
TOKEN = "Cache-token-never-shown-42"  # noqa: S105 - likewise


def final_snapshots(aws, env):
    return [
        s["DBSnapshotIdentifier"]
        for s in aws.rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        if s["DBSnapshotIdentifier"].startswith(env + "-final-")
    ]


@pytest.mark.long
def test_plan_converge_noop_teardown(emulator, aws):
    env = define("play-web")
    env["webstack_environment"]["database"] = {"deletion_protection": False}
    env["webstack_environment"]["static_assets"] = {"aliases": ["cdn.play-web.example.com"]}
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
    assert first.changed_count() >= 10
    # the data layers: read back from AWS
    database = outputs["database"]
    assert database["endpoint"] and database["port"] == 5432 and database["secret_arn"]
    described = aws.rds.describe_db_instances(DBInstanceIdentifier="play-web")["DBInstances"][0]
    assert described["DeletionProtection"] is False and described["PubliclyAccessible"] is False
    assert outputs["cache"]["primary_endpoint"]
    assert outputs["static_assets"]["url"] == "https://cdn.play-web.example.com"
    cdn = [r for r in records if r["Name"] == "cdn.play-web.example.com." and r["Type"] == "A"]
    assert cdn and cdn[0]["AliasTarget"]["DNSName"].rstrip(".") == outputs["static_assets"]["distribution_domain"]
    assert outputs["queue"] is None  # a web tier has no worker queue

    emulator.reset_calls()
    second = run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    calls = summarize(emulator.calls())
    assert second.changed_count() == 0, [n for n in LAYER_TASKS if second.task(n).get("changed")]
    assert calls["mutating"] == 0, calls["by_action"]

    down = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert down.task("Verify that nothing tagged with the environment remains")["msg"].startswith(
        "Nothing tagged webstack:environment=play-web remains"
    )
    assert leftovers(aws, "play-web") == []
    assert len(final_snapshots(aws, "play-web")) == 1  # the database's final snapshot is kept
    again = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert again.changed_count() == 0


@pytest.mark.long
def test_worker_tier_keeps_data_safe(emulator, aws, tmp_path):
    """A worker tier with its queue; deletion protection and a bucket with objects refuse teardown before anything is
    deleted; secrets never printed, even at -vvv; the final snapshot outlives the environment."""
    assets = tmp_path / "assets"
    (assets / "css").mkdir(parents=True)
    (assets / "index.html").write_text("<h1>worker</h1>")
    (assets / "css" / "site.css").write_text("h1 { color: red }")
    env = define("play-work", cidr="10.61.0.0/16")
    env["webstack_environment"].update(
        tier="worker",
        domain="",
        database={"master_password": PASSWORD, "port": 5433},
        cache={"auth_token": TOKEN, "port": 6380},
        static_assets={"source": str(assets)},
        queue={"max_receive_count": 5},
        alarms={"queue_age": {"threshold": 600}},
    )
    emulator.reset_calls()
    plan = run_playbook(PROVISION, emulator.endpoint, "--check", "--diff", "-vvv", extra_vars=env, json_output=False)
    assert summarize(emulator.calls())["mutating"] == 0
    first = run_playbook(PROVISION, emulator.endpoint, "--diff", "-vvv", extra_vars=env, json_output=False)
    for run in (plan, first):
        assert PASSWORD not in run.stdout + run.stderr
        assert TOKEN not in run.stdout + run.stderr
    queue_url = aws.sqs.get_queue_url(QueueName="play-work-worker")["QueueUrl"]
    attributes = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert '"maxReceiveCount":5' in attributes["RedrivePolicy"].replace(" ", "")
    role_policies = aws.iam.list_role_policies(RoleName="play-work-instance")["PolicyNames"]
    documents = [
        aws.iam.get_role_policy(RoleName="play-work-instance", PolicyName=name)["PolicyDocument"]
        for name in role_policies
    ]
    assert queue_url.rsplit("/", 1)[1] in str(documents)  # the instances may use the queue
    # one port per data layer, used by the layer and opened by the firewall alike
    assert aws.rds.describe_db_instances(DBInstanceIdentifier="play-work")["DBInstances"][0]["Endpoint"]["Port"] == 5433
    cache = aws.elasticache.describe_replication_groups(ReplicationGroupId="play-work")["ReplicationGroups"][0]
    assert cache["NodeGroups"][0]["PrimaryEndpoint"]["Port"] == 6380
    groups = aws.ec2.describe_security_groups(Filters=[{"Name": "tag:webstack:environment", "Values": ["play-work"]}])
    opened = {g["GroupName"]: sorted(p["FromPort"] for p in g["IpPermissions"]) for g in groups["SecurityGroups"]}
    assert opened["play-work-database"] == [5433] and opened["play-work-cache"] == [6380]
    # a worker tier's queue alarms exist, with the definition's threshold
    alarms = {a["AlarmName"]: a for a in aws.cloudwatch.describe_alarms(AlarmNamePrefix="play-work-")["MetricAlarms"]}
    assert alarms["play-work-queue-age"]["Threshold"] == 600
    assert "play-work-dead-letter-depth" in alarms
    bucket = [b["Name"] for b in aws.s3.list_buckets()["Buckets"] if b["Name"].startswith("play-work-assets-")][0]
    head = aws.s3.head_object(Bucket=bucket, Key="css/site.css")
    assert head["ContentType"].startswith("text/css")

    emulator.reset_calls()
    second = run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    assert second.changed_count() == 0
    assert summarize(emulator.calls())["mutating"] == 0

    # deletion protection is on by default: teardown refuses before deleting anything at all
    emulator.reset_calls()
    refused = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env, check=False)
    assert refused.returncode != 0
    assert "has deletion protection on, so it is neither deleted nor replaced; nothing was changed" in refused.stdout
    assert summarize(emulator.calls())["mutating"] == 0
    assert aws.rds.describe_db_instances(DBInstanceIdentifier="play-work")["DBInstances"]

    # protection off: now the bucket still holds objects, and teardown refuses without static_assets.force
    env["webstack_environment"]["database"]["deletion_protection"] = False
    run_playbook(PROVISION, emulator.endpoint, extra_vars=env)
    emulator.reset_calls()
    refused = run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env, check=False)
    assert refused.returncode != 0 and "still holds objects (or old versions of them); nothing was changed" in (
        refused.stdout
    )
    assert summarize(emulator.calls())["mutating"] == 0
    assert aws.s3.head_object(Bucket=bucket, Key="index.html")

    env["webstack_environment"]["static_assets"]["force"] = True
    run_playbook(TEARDOWN, emulator.endpoint, extra_vars=env)
    assert leftovers(aws, "play-work") == []
    assert len(final_snapshots(aws, "play-work")) == 1
