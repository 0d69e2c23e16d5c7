"""Benchmark: an environment converged by webstack.aws vs. the same work with amazon.aws modules.

Scenarios: `network_firewall` (issue 2) and `web_tier` (the whole web tier: network, firewall,
instance role, certificate, load balancer, Auto Scaling, DNS, alarms).

Both run side by side in one process against the same local emulator (its state reset between
runs), alternating which goes first each round. Measured per run: wall time, AWS API calls
(total and mutating, counted by the emulator's counting layer), tasks and module executions.
Reports medians over the rounds and the ratios; writes bench/results/network_firewall.json.

    make bench                      # both scenarios, 5 rounds each
    .venv/bin/python bench/run.py --scenario web_tier --rounds 3
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
SCENARIOS = {
    "network_firewall": {
        "peer": os.path.join(ROOT, "bench", "peer", "network_firewall.yml"),
        "definition": {
            "webstack_environment": {
                "name": "bench",
                "tier": "web",
                "network": {"cidr_block": "10.30.0.0/16", "az_count": 2, "nat_gateways": "one_per_az"},
            },
        },
        # only the network and firewall layers of the role
        "ours": os.path.join(ROOT, "bench", "network_firewall.yml"),
        "ours_down": os.path.join(ROOT, "bench", "network_firewall_down.yml"),
    },
    "web_tier": {
        "peer": os.path.join(ROOT, "bench", "peer", "web_tier.yml"),
        "definition": {
            "webstack_environment": {
                "name": "bench",
                "tier": "web",
                "domain": "bench.example.com",
                "network": {"cidr_block": "10.30.0.0/16", "az_count": 2, "nat_gateways": "one_per_az"},
                "identity": {"managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]},
                "instances": {
                    "image_id": "ami-1e749f67",
                    "instance_type": "t3.micro",
                    "min_size": 2,
                    "max_size": 4,
                    "desired_capacity": 2,
                    "cpu_target_value": 60,
                    "instance_refresh": False,
                },
            },
        },
        "ours": OURS,
        "ours_down": OURS_DOWN,
    },
}
IMAGE_ID = "ami-1e749f67"


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


def one_round(emu, scenario, ours_first):
    result = {}
    order = ["ours", "peer"] if ours_first else ["peer", "ours"]
    definition = dict(scenario["definition"], environment_show_summary=False)
    for side in order:
        emu.reset()
        if side == "ours":
            result["ours"] = {
                "first": measure(emu, scenario["ours"], definition),
                "noop": measure(emu, scenario["ours"], definition),
            }
            result["ours"]["teardown"] = measure(emu, scenario["ours_down"], definition)
        else:
            peer_vars = {"bench_image_id": IMAGE_ID}
            result["peer"] = {
                "first": measure(emu, scenario["peer"], peer_vars),
                "noop": measure(emu, scenario["peer"], peer_vars),
            }
    return result


def median(rounds, side, phase, metric):
    return statistics.median(r[side][phase][metric] for r in rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS) + ["all"], default="all")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", help="where to write the raw figures (default bench/results/<scenario>.json)")
    args = parser.parse_args()
    for name in sorted(SCENARIOS) if args.scenario == "all" else [args.scenario]:
        run_scenario(name, args.rounds, args.output or os.path.join(ROOT, "bench", "results", name + ".json"))


def run_scenario(name, rounds_wanted, output):
    print("== %s" % name, flush=True)
    rounds = []
    with Emulator() as emu:
        for index in range(rounds_wanted):
            started = time.monotonic()
            rounds.append(one_round(emu, SCENARIOS[name], ours_first=index % 2 == 0))
            print("round %d/%d done in %.0f s" % (index + 1, rounds_wanted, time.monotonic() - started), flush=True)
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
        "scenario": name,
        "rounds": rounds_wanted,
        "medians": table,
        "ours_teardown": teardown,
        "raw": rounds,
    }
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    print("\n| run | metric | webstack.aws | amazon.aws | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in table:
        for metric in ("seconds", "calls", "mutating", "changed", "tasks", "module_runs"):
            cell = row[metric]
            print("| %s | %s | %s | %s | %s |" % (row["phase"], metric, cell["ours"], cell["peer"], cell["ratio"]))
    print("\nteardown (webstack.aws): %s" % teardown)
    print("median of %d rounds; raw figures in %s" % (rounds_wanted, os.path.relpath(output, ROOT)))


if __name__ == "__main__":
    main()
