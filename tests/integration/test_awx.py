"""AWX: the execution environment definition builds its context offline (ansible-builder create), and every job
template of awx/job_templates.yml runs through ansible-runner - what AWX runs - with a private data dir the way
AWX sets one up (inventory, extra vars from the survey, credentials injected as environment variables), against
the emulator. The event stream is read as AWX reads it: the jobs succeed, and no event holds the secret key."""

from __future__ import annotations

import json
import os
import subprocess

import ansible_runner
import pytest
import yaml
from awsemu import summarize
from common import BIN, ROOT, ensure_collection_link

SECRET = "awx-injected-secret-key-4711"  # noqa: S105 - the dummy key the AWS credential injects
TEMPLATES = os.path.join(ROOT, "awx", "job_templates.yml")


def templates():
    with open(TEMPLATES, encoding="utf-8") as handle:
        return {t["name"]: t for t in yaml.safe_load(handle)["webstack_awx_job_templates"]}


def definition(name):
    """A small web tier (no NAT, no data layers): what the inventory's group_vars would hold."""
    return {
        "name": name,
        "tier": "web",
        "domain": "awx.example.com",
        "api_name": "api-" + name.rsplit("-", 1)[1],  # two environments of one domain, each its own API name
        "create_zone": True,
        "network": {"cidr_block": "10.80.0.0/16" if name.endswith("blue") else "10.81.0.0/16", "nat_gateways": "none"},
        "instances": {"image_id": "ami-1e749f67", "instance_type": "t3.micro", "min_size": 1, "max_size": 1,
                      "instance_refresh": False},
        "database": {"enabled": False},
        "cache": {"enabled": False},
        "static_assets": {"enabled": False},
    }  # fmt: skip


class Awx:
    """One AWX-like job launcher: a private data dir per job, the inventory's vars, the survey's extra vars."""

    def __init__(self, emulator, tmp_path):
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.jobs = 0

    def launch(self, template_name, environment, survey=None, verbosity=0):
        template = templates()[template_name]
        asked = {question["variable"] for question in template["survey"]}
        assert set(survey or {}) == asked, "answer exactly the survey's questions"
        self.jobs += 1
        private = self.tmp_path / ("job%d" % self.jobs)
        (private / "inventory" / "group_vars").mkdir(parents=True)
        (private / "inventory" / "hosts.yml").write_text(
            yaml.safe_dump({"webstack_controller": {"hosts": {"localhost": {
                "ansible_connection": "local", "ansible_python_interpreter": os.path.join(BIN, "python")}}}})
        )  # fmt: skip
        (private / "inventory" / "group_vars" / "all.yml").write_text(
            yaml.safe_dump({"webstack_environment": definition(environment)})
        )
        self.emulator.reset_calls()
        runner = ansible_runner.run(
            private_data_dir=str(private),
            project_dir=ROOT,
            playbook=template["playbook"],  # relative to the project, as in AWX
            inventory=str(private / "inventory"),
            # the AWS credential and the endpoint credential, injected as AWX injects them
            envvars={
                "AWS_ACCESS_KEY_ID": "AKIAAWXTEST",
                "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL": self.emulator.endpoint,
                "AWS_DEFAULT_REGION": "us-east-1",
                "ANSIBLE_COLLECTIONS_PATH": ensure_collection_link(),
                "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
                "PYTHONWARNINGS": "ignore::DeprecationWarning",
                "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),  # the execution environment's tools
            },
            extravars=dict(survey or {}),
            cmdline=("--check" if template["job_type"] == "check" else "")
            + (" --diff" if template["diff_mode"] else ""),
            verbosity=verbosity,
            quiet=True,
        )
        events = list(runner.events)
        return runner, events, summarize(self.emulator.calls())


@pytest.mark.long
def test_every_job_template_runs_under_ansible_runner(emulator, tmp_path):
    awx = Awx(emulator, tmp_path)
    ran = set()

    def ok(template, environment, survey=None, verbosity=0):
        runner, events, calls = awx.launch(template, environment, survey, verbosity)
        stdout = runner.stdout.read()
        assert runner.status == "successful" and runner.rc == 0, stdout[-4000:]
        assert not any(SECRET in json.dumps(event) for event in events), "the secret key is in an event"
        assert SECRET not in stdout
        assert any(e["event"] == "playbook_on_stats" for e in events)
        ran.add(template)
        return runner, events, calls

    _runner, events, calls = ok("webstack plan", "awx-blue", verbosity=3)
    assert calls["total"] > 0 and calls["mutating"] == 0  # a check job changes nothing
    planned = [e for e in events if e["event"] == "runner_on_ok" and e["event_data"].get("res", {}).get("plan")]
    assert planned, "the plan is in the event stream"
    ok("webstack provision", "awx-blue")
    ok("webstack provision", "awx-green")
    _runner, _events, again = ok("webstack provision", "awx-blue")
    assert again["mutating"] == 0
    ok("webstack swap", "awx-blue", {"webstack_swap_with": "awx-green", "webstack_swapped": "true"})
    ok("webstack swap", "awx-blue", {"webstack_swap_with": "awx-green", "webstack_swapped": "false"})

    # a wrong confirmation stops the teardown before any AWS call
    runner, _events, calls = awx.launch("webstack teardown", "awx-green", {"webstack_teardown_confirm": "awx-blue"})
    assert runner.status == "failed" and calls["total"] == 0
    ok("webstack teardown", "awx-green", {"webstack_teardown_confirm": "awx-green"})
    ok("webstack teardown", "awx-blue", {"webstack_teardown_confirm": "awx-blue"})
    assert ran == set(templates())


def test_job_templates_name_real_playbooks_and_survey_variables_they_use():
    for template in templates().values():
        path = os.path.join(ROOT, template["playbook"])
        assert os.path.isfile(path), template["playbook"]
        assert template["job_type"] in ("run", "check")
        with open(path, encoding="utf-8") as handle:
            playbook = handle.read()
        for question in template["survey"]:
            assert question["variable"] in playbook, (template["name"], question["variable"])


def test_execution_environment_context_builds_offline(tmp_path):
    out = os.path.join(ROOT, "build", "ee-collections")
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", out, ROOT],
        env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    context = tmp_path / "context"
    built = subprocess.run(
        [os.path.join(BIN, "ansible-builder"), "create", "-f", os.path.join(ROOT, "meta", "execution-environment.yml"),
         "-c", str(context), "--output-filename", "Containerfile"],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==2.19.14" in containerfile and "ansible-runner==2.4.3" in containerfile
    assert (context / "_build" / "collections" / "webstack-aws-0.1.0.tar.gz").is_file()
    python = (context / "_build" / "requirements.txt").read_text()
    assert "boto3==1.44.8" in python and "ansible==12.3.0" in python
