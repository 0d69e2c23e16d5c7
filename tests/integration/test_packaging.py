"""The collection as a user gets it: `ansible-galaxy collection build`, installed into an empty collections
path, its modules listed by ansible-doc and run in check mode from the installed copy (not this checkout)."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile

import pytest
import yaml
from awsemu import summarize
from common import BIN, ROOT, aws_env

# What a user of the installed collection runs, and what must never ship (the project's own tooling).
SHIPPED = (
    "plugins/modules/network.py",
    "roles/environment/tasks/main.yml",
    "roles/platform/tasks/main.yml",
    "roles/platform/meta/argument_specs.yml",
    "playbooks/provision.yml",
    "meta/runtime.yml",
)
NOT_SHIPPED = (
    "tests/",
    "molecule/",
    "bench/",
    "tools/",
    "Makefile",
    "requirements.txt",
    "requirements.in",
    "pyproject.toml",
    "ansible.cfg",
    "agents/tests/",
    "inventories/local/",
    ".ci/",
    ".venv/",
    "build/",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The built tarball's members, and an empty collections path with only that tarball installed."""
    work = tmp_path_factory.mktemp("packaging")
    (work / "ansible.cfg").write_text("[defaults]\n")  # not this checkout's ansible.cfg
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning", ANSIBLE_CONFIG=str(work / "ansible.cfg"))
    subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(work), ROOT],
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    (tarball,) = work.glob("webstack-aws-*.tar.gz")
    with tarfile.open(tarball) as archive:
        members = archive.getnames()
    collections = work / "collections"
    subprocess.run(
        [
            os.path.join(BIN, "ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "--no-deps",
            "-p",
            str(collections),
            str(tarball),
        ],
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    return members, collections, work / "ansible.cfg"


def installed_env(endpoint, collections, config):
    """The emulator's environment, with the installed copy as the only webstack.aws Ansible can find
    (amazon.aws still comes from the `ansible` package on sys.path)."""
    env = aws_env(endpoint)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_CONFIG=str(config),
        PYTHONWARNINGS="ignore::DeprecationWarning",
    )
    return env


def test_tarball_ships_the_collection_and_not_the_project_tooling(installed):
    members, _collections, _config = installed
    for path in SHIPPED:
        assert path in members, path
    leaked = [m for m in members for bad in NOT_SHIPPED if m == bad.rstrip("/") or m.startswith(bad)]
    assert leaked == []


def test_installed_copy_lists_its_modules_and_runs_a_check_mode_play(installed, emulator, tmp_path):
    _members, collections, config = installed
    env = installed_env(emulator.endpoint, collections, config)
    listed = subprocess.run(
        [os.path.join(BIN, "ansible-doc"), "-l", "webstack.aws", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    modules = sorted(json.loads(listed.stdout))
    shipped = sorted("webstack.aws." + name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules")))
    assert modules == shipped
    doc = subprocess.run(
        [os.path.join(BIN, "ansible-doc"), "webstack.aws.network", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    # the installed copy, not this checkout, is what Ansible resolves (and so what the play below runs)
    filename = json.loads(doc.stdout)["webstack.aws.network"]["doc"]["filename"]
    assert filename.startswith(str(collections) + os.sep), filename

    play = tmp_path / "plan.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "plan a network from the installed collection",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "plan",
                            "webstack.aws.network": {"environment": "pkg-check", "cidr_block": "10.60.0.0/16"},
                            "register": "planned",
                        },
                    ],
                }
            ]
        )
    )
    emulator.reset_calls()
    ran = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "--check", "--diff", str(play)],
        env=dict(
            env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_PYTHON_INTERPRETER=os.path.join(BIN, "python")
        ),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    result = json.loads(ran.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["changed"] is True
    assert {change["kind"] for change in result["plan"]} >= {"vpc", "subnet", "nat_gateway"}
    calls = summarize(emulator.calls())
    assert calls["total"] > 0 and calls["mutating"] == 0  # the plan read AWS and changed nothing
