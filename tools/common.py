"""Helpers shared by the demo, the tests and the benchmarks: paths, the collection link, playbook runs."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
BIN = os.path.dirname(sys.executable)


def ensure_collection_link() -> str:
    """build/collections/ansible_collections/webstack/aws -> this checkout, so Ansible finds the collection."""
    parent = os.path.join(COLLECTIONS, "ansible_collections", "webstack")
    link = os.path.join(parent, "aws")
    os.makedirs(parent, exist_ok=True)
    if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(ROOT):
        return COLLECTIONS
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.relpath(ROOT, parent), link)
    return COLLECTIONS


def aws_env(endpoint: str) -> dict:
    """Environment for a playbook or client run against the emulator at ``endpoint``."""
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - a dummy key for the local emulator
        AWS_DEFAULT_REGION="us-east-1",
        ANSIBLE_COLLECTIONS_PATH=ensure_collection_link(),
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=BIN + os.pathsep + env.get("PATH", ""),
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    return env


class PlaybookRun:
    def __init__(self, returncode, stdout, stderr, seconds, results):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.results = results  # task name -> list of per-host results (json callback)

    @property
    def stats(self):
        return self.results.get("__stats__", {})

    def changed_count(self):
        return sum(host.get("changed", 0) for host in self.stats.values())

    def task(self, name):
        """The localhost result of the task called ``name`` (the last one, when it ran more than once)."""
        return self.task_record(name)["result"]

    def task_record(self, name):
        """Name, host, result and duration ({"start", "end"}, ISO 8601 UTC) of the task called ``name``."""
        found = [r for r in self.results.get("__tasks__", []) if r["name"] == name or r["name"].endswith(" : " + name)]
        if not found:
            raise KeyError("no task named %r ran; tasks: %s" % (name, [r["name"] for r in self.results["__tasks__"]]))
        return found[-1]


def run_playbook(playbook, endpoint, *args, extra_vars=None, inventory=None, json_output=True, check=True):
    """Run ansible-playbook against the emulator; with json_output, parse the json callback's output."""
    env = aws_env(endpoint)
    cmd = [os.path.join(BIN, "ansible-playbook"), playbook]
    cmd += ["-i", inventory or os.path.join(ROOT, "inventories", "local")]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    cmd += list(args)
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
        env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    seconds = time.monotonic() - started
    results = {}
    if json_output and proc.stdout.strip().startswith("{"):
        data = json.loads(proc.stdout)
        tasks = []
        for play in data.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    tasks.append(
                        {
                            "name": task["task"]["name"],
                            "host": host,
                            "result": result,
                            "duration": task["task"].get("duration", {}),
                        }
                    )
        results = {"__tasks__": tasks, "__stats__": data.get("stats", {})}
    run = PlaybookRun(proc.returncode, proc.stdout, proc.stderr, seconds, results)
    if check and proc.returncode != 0:
        raise RuntimeError(
            "ansible-playbook %s failed (%d):\n%s\n%s"
            % (playbook, proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:])
        )
    return run


TOOLS = ("ansible", "ansible-core", "boto3", "botocore", "moto", "pytest")


def provenance() -> dict:
    """What a result was measured on: the commit (and whether the tree had uncommitted changes), the date,
    the machine and the versions of the tools. Every file under bench/results/ records it."""

    def git(*args):
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    versions = {}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": "%s, %d cores, Python %s" % (platform.machine(), os.cpu_count(), platform.python_version()),
        "versions": versions,
    }
