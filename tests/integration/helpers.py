"""Run one webstack.aws task through real ansible-playbook against the test emulator, and count its AWS calls."""

from __future__ import annotations

import json
import os
import tempfile

import yaml
from awsemu import summarize
from common import run_playbook


class Quartet:
    def __init__(self, first_check, apply, second_check, again):
        self.first_check = first_check
        self.apply = apply
        self.second_check = second_check
        self.again = again


class TaskRun:
    def __init__(self, result, calls, run):
        self.result = result
        self.calls = calls  # summarize(): total, mutating, by_action
        self.run = run

    @property
    def changed(self):
        return self.result.get("changed")

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def plan(self):
        return self.result.get("plan", [])

    def actions(self):
        return [(c["action"], c["kind"], c["key"]) for c in self.plan]


def run_task(emulator, module, args, check=False, diff=False, expect_failure=False):
    """One task ``webstack.aws.<module>`` with ``args``; returns its result and the AWS calls it made."""
    play = [
        {
            "name": "test",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "task under test",
                    "webstack.aws.%s" % module: args,
                    "register": "out",
                    "ignore_errors": expect_failure,
                }
            ],
        }
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
        yaml.safe_dump(play, handle)
        path = handle.name
    flags = []
    if check:
        flags.append("--check")
    if diff:
        flags.append("--diff")
    emulator.reset_calls()
    try:
        run = run_playbook(path, emulator.endpoint, *flags, check=not expect_failure)
    finally:
        os.unlink(path)
    result = run.task("task under test")
    calls = summarize(emulator.calls())
    if expect_failure:
        assert result.get("failed"), "expected a failure, got: %s" % json.dumps(result)[:2000]
    else:
        assert not result.get("failed"), json.dumps(result)[:4000]
    return TaskRun(result, calls, run)


def quartet(emulator, module, args):
    """check -> apply -> check again -> apply again.  Returns the four runs after the common assertions:
    check mode changes nothing and predicts exactly what the apply does; the second round is a no-op."""
    first_check = run_task(emulator, module, args, check=True, diff=True)
    assert first_check.calls["mutating"] == 0, first_check.calls
    apply = run_task(emulator, module, args)
    # exact prediction: the same plan, every planned change applied and nothing else
    assert apply.plan == first_check.plan
    assert apply.changed == first_check.changed
    planned = ["%s %s %s" % (c["action"], c["kind"], c["key"]) for c in apply.plan]
    done = [" ".join(step.split(" ")[:3]).rstrip(":") for step in apply.result["applied"]]
    replaced = sum(1 for c in apply.plan if c["action"] == "replace")
    assert sorted(set(done)) == sorted(planned), (planned, apply.result["applied"])
    assert len(done) == len(planned) + replaced, apply.result["applied"]
    if first_check.changed:
        assert apply.calls["mutating"] > 0
    else:
        assert apply.calls["mutating"] == 0
    second_check = run_task(emulator, module, args, check=True, diff=True)
    assert second_check.changed is False, second_check.plan
    assert second_check.plan == []
    assert second_check.calls["mutating"] == 0
    again = run_task(emulator, module, args)
    assert again.changed is False, again.plan
    assert again.plan == [] and again.result["applied"] == []
    assert again.calls["mutating"] == 0, again.calls["by_action"]
    return Quartet(first_check, apply, second_check, again)


def network_with_groups(emulator, environment, cidr, groups):
    """A two-zone network without NAT and the firewall's groups, the prerequisites of the layers above them.
    Returns the network and security_groups layers' outputs: {"network": ..., "security_groups": ...}."""
    net = run_task(
        emulator, "network", {"environment": environment, "cidr_block": cidr, "nat_gateways": "none", "az_count": 2}
    )
    args = {"environment": environment, "vpc_id": net.result["network"]["vpc_id"], "groups": list(groups)}
    firewall = run_task(emulator, "security_groups", args)
    return {"network": net.result["network"], "security_groups": firewall.result["security_groups"]}


def remove_network_with_groups(emulator, environment):
    run_task(emulator, "security_groups", {"environment": environment, "state": "absent"})
    run_task(emulator, "network", {"environment": environment, "state": "absent"})
