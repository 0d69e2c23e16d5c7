"""The environment role's wiring: every option a definition may set reaches its module, and every option the
tasks read is documented. Compares roles/environment/meta/argument_specs.yml, the role's task files and the
modules' own documentation (what ``ansible-doc --json`` gives, so doc fragments are included)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "environment")
sys.path.insert(0, os.path.join(ROOT, "tools"))

from common import BIN, aws_env  # noqa: E402

# role section -> the module it configures
SECTIONS = {
    "network": "network",
    "firewall": "security_groups",
    "identity": "instance_profile",
    "load_balancer": "load_balancer",
    "instances": "auto_scaling",
    "alarms": "alarms",
    "database": "database",
    "cache": "cache",
    "static_assets": "static_assets",
    "queue": "queue",
}
# Options every layer module has, set by the role from the definition's top level (or left to the module).
COMMON = {"environment", "state", "tags", "purge_tags", "wait", "wait_timeout", "allow_replacement"}
AUTH = {"access_key", "secret_key", "session_token", "profile", "endpoint_url", "aws_ca_bundle", "validate_certs",
        "aws_config", "debug_botocore_endpoint_logs", "region"}  # fmt: skip
# Module options the role computes from other layers' outputs or other parts of the definition, never offered
# as a section option (each with where its value comes from).
COMPUTED = {
    "security_groups": {"vpc_id", "database_port", "cache_port"},  # the network; database.port and cache.port
    # the alarms layer's log group; default_bucket: whether the static assets (their default bucket name) are enabled
    "instance_profile": {"log_group", "default_bucket"},
    "load_balancer": {"vpc_id", "subnets", "security_groups", "certificate_arn"},
    "auto_scaling": {
        "instance_profile",
        "security_group_ids",
        "subnet_ids",
        "target_group_arns",
        "load_balancer_arn",
        "health_check_type",
    },  # fmt: skip
    "alarms": {"load_balancer", "target_group", "auto_scaling_group", "queue", "dead_letter_queue", "create_log_group"},
    "database": {"subnets", "security_groups"},
    "cache": {"subnets", "security_groups"},
    "static_assets": {"certificate_arn"},
    "network": set(),
    "queue": set(),
}
# Module options the role leaves at the module's default, and why.
NOT_OFFERED = {
    # every group of the chain is kept: a disabled data layer's resources may still use its group
    ("security_groups", "groups"),
}
# Section options that are the role's own (not a module option).
ROLE_ONLY = {("database", "enabled"), ("cache", "enabled"), ("static_assets", "enabled")}
REFERENCE = re.compile(r"__environment_def\.(\w+)(?:\.(\w+))?")


@pytest.fixture(scope="module")
def module_options():
    names = ["webstack.aws.%s" % module for module in sorted(set(SECTIONS.values()))]
    env = dict(aws_env("http://127.0.0.1:9"), PYTHONWARNINGS="ignore")
    out = subprocess.run(
        [os.path.join(BIN, "ansible-doc"), "--json", *names], env=env, capture_output=True, text=True, check=True
    )
    return {name.split(".")[-1]: set(doc["doc"]["options"]) - AUTH for name, doc in json.loads(out.stdout).items()}


@pytest.fixture(scope="module")
def definition():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    return spec["argument_specs"]["main"]["options"]["webstack_environment"]["options"]


def task_files():
    tasks = {}
    folder = os.path.join(ROLE, "tasks")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            tasks[name] = handle.read()
    return tasks


def module_tasks(filename):
    """(module, args) of every webstack.aws task in one task file."""
    with open(os.path.join(ROLE, "tasks", filename), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    found = []
    for task in tasks:
        for key, value in task.items():
            if key.startswith("webstack.aws."):
                found.append((key.split(".")[-1], value))
    return found


def test_every_option_the_tasks_read_is_documented(definition):
    undocumented = set()
    for name, text in task_files().items():
        for section, option in REFERENCE.findall(text):
            if section not in definition:
                undocumented.add("%s: %s" % (name, section))
            elif (
                option
                and definition[section].get("type") == "dict"
                and option not in definition[section].get("options", {})
            ):
                undocumented.add("%s: %s.%s" % (name, section, option))
    assert sorted(undocumented) == []


def test_every_section_option_is_used(definition):
    text = "\n".join(task_files().values())
    used = set(REFERENCE.findall(text))
    unused = [
        "%s.%s" % (section, option)
        for section in SECTIONS
        for option in definition[section].get("options", {})
        if (section, option) not in used
    ]
    assert unused == []


def test_every_section_option_reaches_its_module_under_its_own_name(definition, module_options):
    calls = module_tasks("present.yml") + module_tasks("absent.yml")  # a teardown-only option reaches absent.yml
    missing = []
    for section, module in SECTIONS.items():
        for option in definition[section].get("options", {}):
            if (section, option) in ROLE_ONLY:
                continue
            assert option in module_options[module], "%s.%s is not an option of %s" % (section, option, module)
            passed = " ".join(str(args.get(option, "")) for name, args in calls if name == module)
            if "__environment_def.%s.%s" % (section, option) not in passed:
                missing.append("%s.%s -> %s" % (section, option, module))
    assert missing == []


def test_every_module_option_is_offered_or_computed(definition, module_options):
    present = dict(module_tasks("present.yml"))
    not_offered = []
    for section, module in SECTIONS.items():
        offered = set(definition[section].get("options", {}))
        for option in sorted(module_options[module] - COMMON - COMPUTED[module] - offered):
            if (module, option) not in NOT_OFFERED:
                not_offered.append("%s.%s" % (section, option))
        for option in COMPUTED[module]:
            assert option in present[module], "%s: %s is computed by the role but not passed" % (module, option)
    assert not_offered == []


def test_the_database_and_cache_ports_are_the_ones_the_firewall_opens():
    present = dict(module_tasks("present.yml"))
    assert "__environment_def.database.port" in present["database"]["port"]
    assert "__environment_def.database.port" in present["security_groups"]["database_port"]
    assert "__environment_def.cache.port" in present["cache"]["port"]
    assert "__environment_def.cache.port" in present["security_groups"]["cache_port"]
