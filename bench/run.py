"""Benchmark: network + firewall converged by webstack.aws vs. the same work with amazon.aws modules.

Both run side by side in one process against the same local emulator (its state reset between
runs), alternating which goes first each round. Measured per run: wall time, AWS API calls
(total and mutating, counted by the emulator's counting layer), tasks and module executions.
Reports medians over the rounds and the ratios; writes bench/results/network_firewall.json.

    make bench                      # 5 rounds
    .venv/bin/python bench/run.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from awsemu import Emulator, summarize  # noqa: E402
from common import run_playbook  # noqa: E402

OURS = os.path.join(ROOT, "playbooks", "provision.yml")
OURS_DOWN = os.path.join(ROOT, "playbooks", "teardown.yml")
PEER = os.path.join(ROOT, "bench", "peer", "network_firewall.yml")
DEFINITION = {
    "webstack_environment": {
        "name": "bench",
        "tier": "web",
        "network": {"cidr_block": "10.30.0.0/16", "az_count": 2, "nat_gateways": "one_per_az"},
    },
    "environment_show_summary": False,
}


def measure(emu, playbook, extra_vars=None):
    emu.reset_calls()
    run = run_playbook(playbook, emu.endpoint, extra_vars=extra_vars)
    calls = summarize(emu.calls())
    tasks = run.results["__tasks__"]
    executed = [t for t in tasks if not t["result"].get("skipped")]
    module_runs = sum(len(t["result"].get("results", [])) or 1 for t in executed)
    return {
        "seconds": round(run.seconds, 2),
        "calls": calls["total"],
        "mutating": calls["mutating"],
        "changed": run.changed_count(),
        "tasks": len(executed),
        "module_runs": module_runs,
        "by_action": calls["by_action"],
    }


def one_round(emu, ours_first):
    result = {}
    order = ["ours", "peer"] if ours_first else ["peer", "ours"]
    for side in order:
        emu.reset()
        if side == "ours":
            result["ours"] = {"first": measure(emu, OURS, DEFINITION), "noop": measure(emu, OURS, DEFINITION)}
            result["ours"]["teardown"] = measure(emu, OURS_DOWN, DEFINITION)
        else:
            result["peer"] = {"first": measure(emu, PEER), "noop": measure(emu, PEER)}
    return result


def median(rounds, side, phase, metric):
    return statistics.median(r[side][phase][metric] for r in rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results", "network_firewall.json"))
    args = parser.parse_args()
    rounds = []
    with Emulator() as emu:
        for index in range(args.rounds):
            started = time.monotonic()
            rounds.append(one_round(emu, ours_first=index % 2 == 0))
            print("round %d/%d done in %.0f s" % (index + 1, args.rounds, time.monotonic() - started), flush=True)
    table = []
    for phase in ("first", "noop"):
        row = {"phase": phase}
        for metric in ("seconds", "calls", "mutating", "changed", "tasks", "module_runs"):
            ours, peer = median(rounds, "ours", phase, metric), median(rounds, "peer", phase, metric)
            row[metric] = {"ours": ours, "peer": peer, "ratio": round(ours / peer, 3) if peer else None}
        table.append(row)
    teardown = dict((m, median(rounds, "ours", "teardown", m)) for m in ("seconds", "calls", "mutating"))
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": "%s, %d cores, Python %s" % (platform.machine(), os.cpu_count(), platform.python_version()),
        "rounds": args.rounds,
        "medians": table,
        "ours_teardown": teardown,
        "raw": rounds,
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    print("\n| run | metric | webstack.aws | amazon.aws | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in table:
        for metric in ("seconds", "calls", "mutating", "changed", "tasks", "module_runs"):
            cell = row[metric]
            print("| %s | %s | %s | %s | %s |" % (row["phase"], metric, cell["ours"], cell["peer"], cell["ratio"]))
    print("\nteardown (webstack.aws): %s" % teardown)
    print("median of %d rounds; raw figures in %s" % (args.rounds, os.path.relpath(args.output, ROOT)))


if __name__ == "__main__":
    main()
