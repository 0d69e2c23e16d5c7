"""webstack.aws.load_balancer through ansible-playbook on the emulator."""

from __future__ import annotations

import boto3
import pytest
from helpers import failing_case, network_with_groups, quartet, remove_network_with_groups, run_task

ENV = "lbt"


@pytest.fixture(scope="module")
def prereq(emulator):
    made = network_with_groups(emulator, ENV, "10.61.0.0/16", ["load_balancer", "instance"])
    group_ids = made["security_groups"]["group_ids"]
    acm = boto3.client(
        "acm",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    certificate = acm.request_certificate(DomainName="lbt.example.com")["CertificateArn"]
    yield {
        "vpc_id": made["network"]["vpc_id"],
        "subnets": made["network"]["subnet_ids"]["public"],
        "security_groups": [group_ids["load_balancer"]],
        "instance_group": group_ids["instance"],
        "certificate_arn": certificate,
    }
    elbv2 = boto3.client(
        "elbv2",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    for lb in elbv2.describe_load_balancers()["LoadBalancers"]:  # a failed test may leave protection on
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
        )
    run_task(emulator, "load_balancer", {"environment": ENV, "state": "absent"})
    remove_network_with_groups(emulator, ENV)


def base(prereq, **more):
    args = {"environment": ENV, "vpc_id": prereq["vpc_id"], "subnets": prereq["subnets"]}
    args["security_groups"] = prereq["security_groups"]
    args.update(more)
    return args


def tags_of(aws, arn):
    found = aws.elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    return dict((t["Key"], t["Value"]) for t in found)


def attributes(aws, arn, target_group=False):
    if target_group:
        found = aws.elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    else:
        found = aws.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return dict((a["Key"], a["Value"]) for a in found)


def rules_on(aws, listener_arn):
    found = aws.elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]
    return sorted(
        (
            int(r["Priority"]),
            r["Conditions"][0].get("PathPatternConfig", r["Conditions"][0].get("HostHeaderConfig"))["Values"],
            r["Actions"][0]["Type"],
        )
        for r in found
        if not r["IsDefault"]
    )


def mutating(run, *actions):
    return dict((a, run.calls["by_action"].get("elasticloadbalancing:%s" % a, 0)) for a in actions)


def test_http_then_processes_rules_https_and_delete(emulator, aws, prereq):
    # -- create: HTTP only, one default process, Elastic Beanstalk's defaults -------------------------
    args = base(prereq)
    runs = quartet(emulator, "load_balancer", args)
    assert runs.first_check.actions() == [
        ("create", "target_group", "default"),
        ("create", "load_balancer", "load_balancer"),
        ("create", "listener", "http"),
    ]
    out = runs.apply.result["load_balancer"]
    check_out = runs.first_check.result["load_balancer"]
    assert check_out["arn"] is None and check_out["target_group_arns"] == {"default": None}
    lb = aws.elbv2.describe_load_balancers(Names=[ENV])["LoadBalancers"][0]
    assert out["arn"] == lb["LoadBalancerArn"] and out["dns_name"] == lb["DNSName"]
    assert out["canonical_hosted_zone_id"] == lb["CanonicalHostedZoneId"]
    assert out["dimension"] == "app/%s/%s" % (ENV, lb["LoadBalancerArn"].rsplit("/", 1)[1])
    assert lb["Scheme"] == "internet-facing" and lb["Type"] == "application"
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(prereq["subnets"])
    assert lb["SecurityGroups"] == prereq["security_groups"]
    tags = tags_of(aws, lb["LoadBalancerArn"])
    assert tags["webstack:environment"] == ENV and tags["webstack:layer"] == "load_balancer"
    assert tags["webstack:resource"] == "load_balancer" and tags["Name"] == "lbt-load-balancer"
    tg = aws.elbv2.describe_target_groups(Names=["lbt-default"])["TargetGroups"][0]
    assert out["target_group_arns"] == {"default": tg["TargetGroupArn"]}
    assert out["target_groups"]["default"]["dimension"].startswith("targetgroup/lbt-default/")
    assert (tg["Port"], tg["Protocol"], tg["TargetType"], tg["HealthCheckPath"]) == (80, "HTTP", "instance", "/")
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"]) == (15, 5)
    assert (tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"], tg["Matcher"]["HttpCode"]) == (3, 5, "200")
    assert attributes(aws, tg["TargetGroupArn"], True)["deregistration_delay.timeout_seconds"] == "20"
    assert tags_of(aws, tg["TargetGroupArn"])["webstack:resource"] == "default"
    (listener,) = aws.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    assert listener["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    assert out["listener_arns"] == {"http": listener["ListenerArn"]}
    assert tags_of(aws, listener["ListenerArn"])["webstack:resource"] == "http"
    # the no-op run reads with one call per kind of thing
    reads = runs.again.calls["by_action"]
    assert (
        reads.get("elasticloadbalancing:DescribeLoadBalancers") == 1
        and reads.get("elasticloadbalancing:DescribeTags") == 1
    )
    assert (
        reads.get("elasticloadbalancing:DescribeListeners") == 1
        and reads.get("elasticloadbalancing:DescribeTargetGroups") == 1
    )

    # a target registered (by the auto_scaling layer, later) shows up with its health
    aws.elbv2.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "i-0123456789abcdef0"}])

    # -- update in place: attributes, health check, groups, a second process, rules -------------------
    rules = [
        {"name": "api", "conditions": {"path_patterns": ["/api/*"]}, "forward": "api"},
        {"conditions": {"path_patterns": ["/old/*"]}, "fixed_response": {"status_code": "410", "message_body": "gone"}},
        {"name": "admin", "conditions": {"host_headers": ["admin.example.com"]}, "forward": "default"},
    ]
    update = base(
        prereq,
        idle_timeout=120,
        deletion_protection=True,
        access_logs={"bucket": "lbt-logs", "prefix": "alb"},
        processes=[
            {"name": "default", "health_check_path": "/health", "matcher": "200-299", "stickiness": True},
            {"name": "api", "port": 8080, "health_check_path": "/api/health"},
        ],
        rules=rules,
        tags={"team": "web"},
        security_groups=prereq["security_groups"] + [prereq["instance_group"]],
    )
    runs = quartet(emulator, "load_balancer", update)
    targets = runs.apply.result["load_balancer"]["targets"]
    assert targets["api"] == [] and [(t["id"], t["port"], t["state"]) for t in targets["default"]] == [
        ("i-0123456789abcdef0", 80, "healthy")
    ]
    actions = runs.first_check.actions()
    assert ("update", "target_group", "default") in actions and ("create", "target_group", "api") in actions
    assert ("update", "load_balancer", "load_balancer") in actions
    assert [a for a in actions if a[1] == "listener_rule"] == [
        ("create", "listener_rule", "http-rule-api"),
        ("create", "listener_rule", [a[2] for a in actions if a[1] == "listener_rule"][1]),
        ("create", "listener_rule", "http-rule-admin"),
    ]
    assert not [a for a in actions if a[0] in ("replace", "delete")]
    assert aws.elbv2.describe_load_balancers(Names=[ENV])["LoadBalancers"][0]["LoadBalancerArn"] == out["arn"]
    lb_attrs = attributes(aws, out["arn"])
    assert lb_attrs["idle_timeout.timeout_seconds"] == "120"
    assert lb_attrs["deletion_protection.enabled"] == "true"
    assert (lb_attrs["access_logs.s3.enabled"], lb_attrs["access_logs.s3.bucket"]) == ("true", "lbt-logs")
    tg = aws.elbv2.describe_target_groups(Names=["lbt-default"])["TargetGroups"][0]
    assert tg["TargetGroupArn"] == out["target_group_arns"]["default"]  # updated in place
    assert (tg["HealthCheckPath"], tg["Matcher"]["HttpCode"]) == ("/health", "200-299")
    assert attributes(aws, tg["TargetGroupArn"], True)["stickiness.enabled"] == "true"
    assert tags_of(aws, out["arn"])["team"] == "web"
    lb = aws.elbv2.describe_load_balancers(Names=[ENV])["LoadBalancers"][0]
    assert sorted(lb["SecurityGroups"]) == sorted(prereq["security_groups"] + [prereq["instance_group"]])
    assert mutating(runs.apply, "SetSecurityGroups", "SetSubnets") == {"SetSecurityGroups": 1, "SetSubnets": 0}
    assert rules_on(aws, out["listener_arns"]["http"]) == [
        (1, ["/api/*"], "forward"),
        (2, ["/old/*"], "fixed-response"),
        (3, ["admin.example.com"], "forward"),
    ]
    # only the attributes that differed were sent
    assert mutating(runs.apply, "ModifyLoadBalancerAttributes")["ModifyLoadBalancerAttributes"] == 1
    # the environment inventory (what teardown verifies) sees every resource of the layer
    info = run_task(emulator, "environment_info", {"environment": ENV, "layer": "load_balancer"})
    found = sorted((r["kind"], r["key"]) for r in info.result["resources"])
    assert found == sorted(
        [("load_balancer", "load_balancer"), ("target_group", "default"), ("target_group", "api")]
        + [("listener", "http")]
        + [("listener_rule", a[2]) for a in actions if a[1] == "listener_rule"]
    )

    # -- reorder and modify: priorities move, a named rule changes in place, nothing is re-made ---------
    reordered = dict(
        update,
        rules=[
            dict(rules[2], conditions={"host_headers": ["admin.example.org"]}),
            rules[0],
            dict(rules[1], fixed_response={"status_code": "404", "message_body": "moved"}),
        ],
    )
    runs = quartet(emulator, "load_balancer", reordered)
    assert {a[0] for a in runs.first_check.actions()} == {"update"}
    counts = mutating(runs.apply, "SetRulePriorities", "ModifyRule", "CreateRule", "DeleteRule")
    assert counts["SetRulePriorities"] >= 1 and counts["ModifyRule"] == 2
    assert counts["CreateRule"] == 0 and counts["DeleteRule"] == 0
    assert rules_on(aws, out["listener_arns"]["http"]) == [
        (1, ["admin.example.org"], "forward"),
        (2, ["/api/*"], "forward"),
        (3, ["/old/*"], "fixed-response"),
    ]

    # -- HTTPS: port 80 redirects, 443 serves with the certificate; the rules move with the traffic -----
    https = dict(reordered, certificate_arn=prereq["certificate_arn"])
    runs = quartet(emulator, "load_balancer", https)
    actions = runs.first_check.actions()
    assert ("update", "listener", "http") in actions and ("create", "listener", "https") in actions
    assert sorted(a[0] for a in actions if a[1] == "listener_rule") == ["create"] * 3 + ["delete"] * 3
    listeners = {item["Port"]: item for item in aws.elbv2.describe_listeners(LoadBalancerArn=out["arn"])["Listeners"]}
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS" and redirect["RedirectConfig"]["Port"] == "443"
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == prereq["certificate_arn"]
    assert rules_on(aws, listeners[80]["ListenerArn"]) == []
    assert len(rules_on(aws, listeners[443]["ListenerArn"])) == 3

    # -- delete: refused while deletion protection is on, before any change ----------------------------
    refused = run_task(emulator, "load_balancer", {"environment": ENV, "state": "absent"}, expect_failure=True)
    assert (
        "has deletion protection on" in refused.result["msg"] and "deletion_protection: false" in refused.result["msg"]
    )
    assert refused.calls["mutating"] == 0
    unprotect = run_task(
        emulator,
        "load_balancer",
        dict(https, deletion_protection=False, ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06"),
    )
    assert sorted(a[:2] for a in unprotect.actions()) == [("update", "listener"), ("update", "load_balancer")]
    assert mutating(unprotect, "ModifyListener", "ModifyLoadBalancerAttributes") == {
        "ModifyListener": 1,
        "ModifyLoadBalancerAttributes": 1,
    }
    listener = aws.elbv2.describe_listeners(ListenerArns=[listeners[443]["ListenerArn"]])["Listeners"][0]
    assert listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"
    runs = quartet(emulator, "load_balancer", {"environment": ENV, "state": "absent"})
    kinds = [a[1] for a in runs.first_check.actions()]
    assert kinds == ["listener_rule"] * 3 + ["listener"] * 2 + ["load_balancer"] + ["target_group"] * 2
    assert runs.apply.result["load_balancer"] == {}
    with pytest.raises(aws.elbv2.exceptions.LoadBalancerNotFoundException):
        aws.elbv2.describe_load_balancers(Names=[ENV])
    remaining = aws.elbv2.describe_target_groups()["TargetGroups"]
    assert [g["TargetGroupName"] for g in remaining if g["TargetGroupName"].startswith(ENV + "-")] == []


def test_process_replacement_makes_the_new_group_first(emulator, aws, prereq):
    args = base(prereq, rules=[{"name": "all", "conditions": {"path_patterns": ["/*"]}, "forward": "default"}])
    run_task(emulator, "load_balancer", args)
    moved = dict(args, processes=[{"name": "default", "port": 8080}])
    refused = run_task(emulator, "load_balancer", moved, expect_failure=True)
    assert "allow_replacement=true" in refused.result["msg"] and "port 80 -> 8080" in refused.result["msg"]
    assert refused.calls["mutating"] == 0
    runs = quartet(emulator, "load_balancer", dict(moved, allow_replacement=True))
    assert runs.first_check.actions() == [
        ("replace", "target_group", "default"),
        ("update", "listener", "http"),
        ("update", "listener_rule", "http-rule-all"),
    ]
    applied = runs.apply.result["applied"]
    assert (
        applied[0] == "replace target_group default" and applied[-1] == "replace target_group default: old one deleted"
    )
    out = runs.apply.result["load_balancer"]
    (tg,) = [g for g in aws.elbv2.describe_target_groups()["TargetGroups"] if g["TargetGroupName"].startswith("lbt-")]
    assert (tg["TargetGroupName"], tg["Port"], tg["TargetGroupArn"]) == (
        "lbt-default-r",
        8080,
        out["target_group_arns"]["default"],
    )
    (listener,) = aws.elbv2.describe_listeners(LoadBalancerArn=out["arn"])["Listeners"]
    assert listener["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    # a renamed process: the listener and the rule move to the new group before the old one is deleted
    renamed = dict(
        moved,
        processes=[{"name": "web", "port": 8080}],
        rules=[{"name": "all", "conditions": {"path_patterns": ["/*"]}, "forward": "web"}],
    )
    apply = run_task(emulator, "load_balancer", renamed)
    assert apply.actions() == [
        ("delete", "target_group", "default"),
        ("create", "target_group", "web"),
        ("update", "listener", "http"),
        ("update", "listener_rule", "http-rule-all"),
    ]
    assert apply.result["applied"][-1] == "update listener_rule http-rule-all (action)"
    names = [g["TargetGroupName"] for g in aws.elbv2.describe_target_groups()["TargetGroups"]]
    assert [n for n in names if n.startswith("lbt-")] == ["lbt-web"]
    again = run_task(emulator, "load_balancer", renamed)
    assert again.changed is False and again.calls["mutating"] == 0

    # HTTPS and back: the rule follows the serving listener both ways
    run_task(emulator, "load_balancer", dict(renamed, certificate_arn=prereq["certificate_arn"]))
    back = run_task(emulator, "load_balancer", renamed)
    assert back.actions() == [
        ("delete", "listener_rule", "https-rule-all"),
        ("delete", "listener", "https"),
        ("update", "listener", "http"),
        ("create", "listener_rule", "http-rule-all"),
    ]
    (listener,) = aws.elbv2.describe_listeners(LoadBalancerArn=out["arn"])["Listeners"]
    assert listener["DefaultActions"][0]["Type"] == "forward" and listener["Port"] == 80
    assert rules_on(aws, listener["ListenerArn"]) == [(1, ["/*"], "forward")]
    settled = run_task(emulator, "load_balancer", renamed, check=True)
    assert settled.changed is False and settled.calls["mutating"] == 0
    run_task(emulator, "load_balancer", {"environment": ENV, "state": "absent"})


BAD_INPUTS = [
    ({"environment": "a-very-long-environment-name-over-32"}, "ALB names are at most 32"),
    ({"processes": [{"name": "default", "health_check_path": "health"}]}, "must start with '/'"),
    ({"ssl_policy": "ELBSecurityPolicy-Nope"}, "ssl_policy: 'ELBSecurityPolicy-Nope' is not a predefined"),
    ({"rules": [{"conditions": {"path_patterns": ["/a"]}, "forward": "nope"}]}, "rules[0].forward: 'nope'"),
    (
        {
            "rules": [
                {"priority": 5, "conditions": {"path_patterns": ["/a"]}, "forward": "default"},
                {"priority": 3, "conditions": {"path_patterns": ["/b"]}, "forward": "default"},
            ]
        },
        "rules[1].priority: 3 is not above",
    ),
    ({"subnets": ["subnet-1"]}, "at least two availability zones"),
]


def bad_case(args, words):
    """The module arguments of one bad-input case."""
    return dict(
        {"environment": "lbt-bad", "vpc_id": "vpc-1", "subnets": ["subnet-1", "subnet-2"], "security_groups": ["sg-1"]},
        **args,
    )


@pytest.mark.parametrize("args,words", BAD_INPUTS)
def test_bad_input_fails_before_any_aws_call(emulator, args, words):
    out = failing_case(emulator, "load_balancer", [bad_case(*case) for case in BAD_INPUTS], bad_case(args, words))
    assert words in out.result["msg"]
    assert out.calls["total"] == 0, out.calls


def test_check_mode_on_a_fresh_environment_plans_everything_unknown(emulator):
    args = {
        "environment": "lbt-fresh",
        "vpc_id": None,
        "subnets": [None, None],
        "security_groups": [None],
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/not-made-yet",
        "rules": [{"name": "api", "conditions": {"path_patterns": ["/api/*"]}, "forward": "default"}],
    }
    plan = run_task(emulator, "load_balancer", args, check=True, diff=True)
    assert plan.changed and plan.calls["mutating"] == 0
    assert plan.actions() == [
        ("create", "target_group", "default"),
        ("create", "load_balancer", "load_balancer"),
        ("create", "listener", "https"),
        ("create", "listener", "http"),
        ("create", "listener_rule", "https-rule-api"),
    ]
    lb = plan.plan[1]["fields"]
    assert lb["vpc_id"]["after"] == "(known after apply: vpc_id from the network layer)"
    assert lb["subnets"]["after"] == "(known after apply: public subnet ids from the network layer)"
    assert plan.result["load_balancer"]["arn"] is None
    assert plan.result["load_balancer"]["listener_arns"] == {"http": None, "https": None}
    assert "listener https" in plan.result["diff"]["after"]
