"""Run one webstack.aws task through real ansible-playbook against the test emulator, and count its AWS calls."""

from __future__ import annotations

import datetime
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


class Step:
    """One task of a batch: ``webstack.aws.<module>`` with ``args``, in check mode or not, expected to fail or not."""

    def __init__(self, module, args, check=False, diff=False, expect_failure=False):
        self.module = module
        self.args = args
        self.check = check
        self.diff = diff
        self.expect_failure = expect_failure


def _seconds(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC).timestamp()


def run_tasks(emulator, steps):
    """Several webstack.aws tasks, in order, in ONE ansible-playbook run (one Ansible start-up instead of one per
    task). Each task's AWS calls are the emulator's calls made between that task's start and end, as the json
    callback records them (the tasks run one after the other on localhost, so the windows do not overlap).
    A task expected to fail does not stop the ones after it. Returns one TaskRun per step."""
    tasks = []
    for number, step in enumerate(steps):
        tasks.append(
            {
                "name": "step %d" % number,
                "webstack.aws.%s" % step.module: step.args,
                "check_mode": step.check,
                "diff": step.diff,
                "ignore_errors": step.expect_failure,
            }
        )
    play = [{"name": "test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
        yaml.safe_dump(play, handle)
        path = handle.name
    emulator.reset_calls()
    try:
        run = run_playbook(path, emulator.endpoint, check=False)
    finally:
        os.unlink(path)
    calls = emulator.calls()
    runs = []
    for number, step in enumerate(steps):
        try:
            record = run.task_record("step %d" % number)
        except KeyError:
            raise AssertionError(
                "step %d (%s) did not run; ansible-playbook exited %d:\n%s\n%s"
                % (number, step.module, run.returncode, run.stdout[-6000:], run.stderr[-3000:])
            ) from None
        begin, end = _seconds(record["duration"]["start"]), _seconds(record["duration"]["end"])
        result = record["result"]
        if step.expect_failure:
            assert result.get("failed"), "expected a failure, got: %s" % json.dumps(result)[:2000]
        else:
            assert not result.get("failed"), json.dumps(result)[:4000]
        runs.append(TaskRun(result, summarize([c for c in calls if begin <= c["time"] <= end]), run))
    return runs


def run_task(emulator, module, args, check=False, diff=False, expect_failure=False):
    """One task ``webstack.aws.<module>`` with ``args``; returns its result and the AWS calls it made."""
    return run_tasks(emulator, [Step(module, args, check=check, diff=diff, expect_failure=expect_failure)])[0]


_FAILING_BATCHES = {}


def failing_case(emulator, module, cases, args):
    """The run of ``args``, one of ``cases`` (the argument sets of a parametrized bad-input test), each expected
    to fail: the first case asked for runs them all in one playbook (once per test process), the others read
    their result. Each run's calls are its own, so "failed before any AWS call" is checked case by case."""
    key = (emulator.endpoint, module, json.dumps(cases, sort_keys=True))
    if key not in _FAILING_BATCHES:
        _FAILING_BATCHES[key] = run_tasks(emulator, [Step(module, case, expect_failure=True) for case in cases])
    return _FAILING_BATCHES[key][cases.index(args)]


def quartet(emulator, module, args):
    """check -> apply -> check again -> apply again, in one playbook run.  Returns the four runs after the
    common assertions: check mode changes nothing and predicts exactly what the apply does; the second
    round is a no-op."""
    first_check, apply, second_check, again = run_tasks(
        emulator,
        [
            Step(module, args, check=True, diff=True),
            Step(module, args),
            Step(module, args, check=True, diff=True),
            Step(module, args),
        ],
    )
    assert first_check.calls["mutating"] == 0, first_check.calls
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
    assert second_check.changed is False, second_check.plan
    assert second_check.plan == []
    assert second_check.calls["mutating"] == 0
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
