"""A bad environment definition is refused by the role's preflight before any AWS call: every problem at once,
each under its path in the definition (``webstack_environment.<section>.<option>``). The whole matrix runs through
the role in one ansible-playbook run; the emulator's counter must stay at zero."""

from __future__ import annotations

import copy
import json
import os
import tempfile

import pytest
import yaml
from common import run_playbook

PASSWORD = "short"  # noqa: S105 - a bad test password, checked never to be shown
ROOT = "webstack_environment"


def base(tier="web"):
    definition = {
        "name": "pre-bad",
        "tier": tier,
        "domain": "pre-bad.example.com" if tier == "web" else "",
        "network": {"cidr_block": "10.70.0.0/16", "nat_gateways": "single"},
        "instances": {"image_id": "ami-1e749f67", "instance_type": "t3.micro", "min_size": 1, "max_size": 2},
    }
    return definition


def case(changes, tier="web", drop=()):
    definition = base(tier)
    for path, value in changes.items():
        where = definition
        parts = path.split(".")
        for part in parts[:-1]:
            where = where.setdefault(part, {})
        where[parts[-1]] = value
    for path in drop:
        parts = path.split(".")
        where = definition
        for part in parts[:-1]:
            where = where[part]
        del where[parts[-1]]
    return definition


# (definition, the paths the refusal must name); the role's argument spec refuses wrong types and choices first
# (it names the option), the preflight everything else, under the option's full path.
MATRIX = [
    (case({"name": "Bad_Name"}), ["name"]),
    (case({"name": "a-very-long-environment-name-for-alb"}), [ROOT + ".name"]),
    (case({"tier": "batch"}), ["tier"]),
    (case({"domain": ""}), [ROOT + ".domain"]),
    (case({"domain": "bad_domain..com"}), [ROOT + ".domain"]),
    (case({"network.cidr_block": "10.0.0.0/33"}), [ROOT + ".network.cidr_block"]),
    (case({"network.cidr_block": "10.0.0.0/24"}), [ROOT + ".network.cidr_block"]),
    (case({"network.az_count": 9}), [ROOT + ".network.az_count"]),
    (case({"network.az_count": 3, "network.availability_zones": ["us-east-1a"]}), [ROOT + ".network.az_count"]),
    (case({"network.nat_gateways": "two"}), ["nat_gateways"]),
    (case({"firewall.load_balancer_ports": []}), [ROOT + ".firewall.load_balancer_ports"]),
    (case({"firewall.instance_port": 70000}), [ROOT + ".firewall.instance_port"]),
    (
        case({"firewall.extra_ingress": [{"group": "instance", "port": 22, "cidr": "10.0.0.300/32"}]}),
        [ROOT + ".firewall.extra_ingress"],
    ),
    (case({"load_balancer.ssl_policy": "ELBSecurityPolicy-Nope"}), [ROOT + ".load_balancer.ssl_policy"]),
    (case({"load_balancer.idle_timeout": 5000}), [ROOT + ".load_balancer.idle_timeout"]),
    (
        case({"load_balancer.processes": [{"name": "default", "health_check_path": "health"}]}),
        [ROOT + ".load_balancer.processes"],
    ),
    (
        case({"load_balancer.rules": [{"conditions": {"path_patterns": ["/a"]}, "forward": "nope"}]}),
        [ROOT + ".load_balancer.rules[0].forward"],
    ),
    (
        case({"load_balancer.processes": [{"name": "default", "port": 8080}]}),
        [ROOT + ".load_balancer.processes[0].port"],
    ),
    (case({"load_balancer.access_logs": {"bucket": "Bad_Bucket"}}), [ROOT + ".load_balancer.access_logs.bucket"]),
    (case({}, drop=["instances.image_id"]), [ROOT + ".instances.image_id"]),
    (case({"instances.image_id": "ubuntu-22.04"}), [ROOT + ".instances.image_id"]),
    (case({"instances.instance_type": "t3micro"}), [ROOT + ".instances.instance_type"]),
    (case({"instances.min_size": 3, "instances.max_size": 2}), [ROOT + ".instances.min_size"]),
    (case({"instances.metadata_hop_limit": 99}), [ROOT + ".instances.metadata_hop_limit"]),
    (
        case({"alarms.create_topic": True, "alarms.subscriptions": [{"protocol": "email", "endpoint": "nobody"}]}),
        [ROOT + ".alarms.subscriptions"],
    ),
    (case({"alarms.log_retention_days": 8}), [ROOT + ".alarms.log_retention_days"]),
    (case({"database.instance_class": "t3.micro"}), [ROOT + ".database.instance_class"]),
    (case({"database.backup_retention": 36}), [ROOT + ".database.backup_retention"]),
    (case({"database.backup_window": "3:00-03:30"}), [ROOT + ".database.backup_window"]),
    (case({"database.master_password": PASSWORD}), [ROOT + ".database.master_password"]),
    (case({"database.allocated_storage": 10}), [ROOT + ".database.allocated_storage"]),
    (case({"database.port": 80}), [ROOT + ".database.port"]),
    (case({"cache.replicas": 6}), [ROOT + ".cache.replicas"]),
    (case({"cache.node_type": "t4g.micro"}), [ROOT + ".cache.node_type"]),
    (case({"cache.auth_token": "short-token"}), [ROOT + ".cache.auth_token"]),
    (case({"cache.maintenance_window": "sun:05:00-sun:05:30"}), [ROOT + ".cache.maintenance_window"]),
    (case({"static_assets.bucket": "Bad_Bucket"}), [ROOT + ".static_assets.bucket"]),
    (case({"static_assets.aliases": ["cdn.other.org"]}), [ROOT + ".static_assets.aliases[0]"]),
    (case({"identity.managed_policy_arns": ["not-an-arn"]}), [ROOT + ".identity.managed_policy_arns"]),
    (case({"identity.extra_statements": [{"Effect": "Maybe", "Action": "s3:GetObject"}]}), [ROOT + ".identity"]),
    (case({"load_balancer.idle_timeout": 60}, tier="worker"), [ROOT + ".load_balancer"]),
    (case({"queue.max_receive_count": 5}), [ROOT + ".queue"]),
    (case({"queue.max_receive_count": 0}, tier="worker"), [ROOT + ".queue.max_receive_count"]),
    (case({"queue.visibility_timeout": 50000}, tier="worker"), [ROOT + ".queue.visibility_timeout"]),
    (case({"static_assets.aliases": ["cdn.x.example.com"]}, tier="worker"), [ROOT + ".static_assets.aliases"]),
    # several problems in several layers: all of them at once
    (
        case({"network.cidr_block": "10.0.0.0/33", "database.backup_retention": 36, "cache.replicas": 6}),
        [ROOT + ".network.cidr_block", ROOT + ".database.backup_retention", ROOT + ".cache.replicas"],
    ),
]


@pytest.fixture(scope="module")
def refusals(emulator):
    """Each case through the role (include_role in a block whose rescue records the failure), in one run."""
    tasks = []
    for number, (definition, _paths) in enumerate(MATRIX):
        tasks.append(
            {
                "name": "case %d" % number,
                "block": [
                    {
                        "name": "include the role",
                        "ansible.builtin.include_role": {"name": "webstack.aws.environment"},
                        "vars": {"webstack_environment": definition},
                    },
                    {
                        "name": "not refused",
                        "ansible.builtin.set_fact": {"__accepted": "{{ __accepted + [%d] }}" % number},
                    },
                ],
                "rescue": [
                    {
                        "name": "record the refusal",
                        "ansible.builtin.set_fact": {
                            "__refused": "{{ __refused | combine({'%d': ansible_failed_result.msg}) }}" % number
                        },
                    }
                ],
            }
        )
    tasks.append(
        {
            "name": "what was refused",
            "ansible.builtin.debug": {"msg": {"refused": "{{ __refused }}", "accepted": "{{ __accepted }}"}},
        }
    )
    play = [
        {
            "name": "preflight matrix",
            "hosts": "webstack_controller",
            "gather_facts": False,
            "environment": "{{ webstack_aws_environment | default({}) }}",
            "vars": {"__refused": {}, "__accepted": []},
            "tasks": tasks,
        }
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
        yaml.safe_dump(play, handle)
        path = handle.name
    emulator.reset_calls()
    try:
        run = run_playbook(path, emulator.endpoint)
    finally:
        os.unlink(path)
    return run, emulator.calls()


def test_no_aws_call_at_all(refusals):
    _run, calls = refusals
    assert calls == []


def test_every_bad_definition_is_refused(refusals):
    run, _calls = refusals
    answer = run.task("what was refused")["msg"]
    assert answer["accepted"] == []
    assert len(answer["refused"]) == len(MATRIX) >= 40


@pytest.mark.parametrize("number", range(len(MATRIX)))
def test_each_refusal_names_its_paths(refusals, number):
    run, _calls = refusals
    message = run.task("what was refused")["msg"]["refused"][str(number)]
    for path in MATRIX[number][1]:
        assert path in message, (MATRIX[number][0], message)


def test_no_secret_is_shown(refusals):
    run, _calls = refusals
    assert '"%s"' % PASSWORD not in run.stdout and "'%s'" % PASSWORD not in run.stdout
    assert "short-token" not in run.stdout + run.stderr


def test_the_matrix_cases_are_distinct():
    assert len({json.dumps(d, sort_keys=True) for d, _p in MATRIX}) == len(MATRIX)
    assert all(copy.deepcopy(d) == d for d, _p in MATRIX)
