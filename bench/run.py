"""Benchmark: an environment converged by webstack.aws vs. the same work with amazon.aws modules.

Scenarios: `network_firewall` (issue 2), `web_tier` (the whole web tier: network, firewall,
instance role, certificate, load balancer, Auto Scaling, DNS, alarms), `data_layers` (network and
firewall, then the queue, database, cache and static assets; the calls of the data-layer services are
also reported alone, the network and firewall part being the same work on both sides) and
`slow_layers` (the critical path: the first converge of `data_layers` on an emulator whose RDS,
ElastiCache and CloudFront resources stay pending for SLOW seconds, against one where they do not;
our slow layers are waited for together, so the difference should be about the longest delay; the
peer's one after the other, so about their sum - rounded up to its waiters' polling delays).

Both run side by side in one process against the same local emulator (its state reset between
runs), alternating which goes first each round. Measured per run: wall time, AWS API calls
(total and mutating, counted by the emulator's counting layer), tasks and module executions.
Reports medians over the rounds and the ratios; writes bench/results/<scenario>.json.

    make bench                      # every scenario, 5 rounds each
    .venv/bin/python bench/run.py --scenario web_tier --rounds 3
    .venv/bin/python bench/run.py --scenario slow_layers --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from awsemu import Emulator, summarize  # noqa: E402
from common import provenance, run_playbook  # noqa: E402

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
DATA_LAYERS = {
    "peer": os.path.join(ROOT, "bench", "peer", "data_layers.yml"),
    "definition": {
        "webstack_environment": {
            "name": "bench",
            "tier": "worker",
            "network": {"cidr_block": "10.30.0.0/16", "az_count": 2, "nat_gateways": "one_per_az"},
            # the peer's sizes; deletion protection off so that the teardown can delete the database
            "database": {
                "engine_version": "16.4",
                "instance_class": "db.t4g.micro",
                "allocated_storage": 20,
                "deletion_protection": False,
            },
            # one node, as the peer's single-node cluster (community.aws has no replication-group module)
            "cache": {"engine_version": "7.1", "node_type": "cache.t4g.micro", "replicas": 0},
        },
    },
    # network and firewall, then the queue and the three slow layers started together (as the role does)
    "ours": os.path.join(ROOT, "bench", "data_layers.yml"),
    "ours_down": os.path.join(ROOT, "bench", "data_layers_down.yml"),
    # the calls of these services are also counted alone: the network + firewall part is shared work
    "data_services": ("rds", "elasticache", "s3", "cloudfront", "sqs", "sts"),
}
SCENARIOS["data_layers"] = DATA_LAYERS
# the emulator holds new DB instances, cache groups / clusters and distributions pending this long (seconds)
SLOW = {"rds": 30, "elasticache": 20, "cloudfront": 10}
SCENARIOS["slow_layers"] = dict(DATA_LAYERS, slow=SLOW)
IMAGE_ID = "ami-1e749f67"
METRICS = ("seconds", "calls", "mutating", "changed", "tasks", "module_runs")
DATA_METRICS = ("data_calls", "data_mutating")


def measure(emu, playbook, extra_vars=None, data_services=None):
    emu.reset_calls()
    run = run_playbook(playbook, emu.endpoint, extra_vars=extra_vars)
    recorded = emu.calls()
    calls = summarize(recorded)
    tasks = run.results["__tasks__"]
    executed = [t for t in tasks if not t["result"].get("skipped")]
    module_runs = sum(len(t["result"].get("results", [])) or 1 for t in executed)
    figures = {
        "seconds": round(run.seconds, 2),
        "calls": calls["total"],
        "mutating": calls["mutating"],
        "changed": run.changed_count(),
        "tasks": len(executed),
        "module_runs": module_runs,
        "by_action": calls["by_action"],
    }
    if data_services:
        data = [call for call in recorded if call["service"] in data_services]
        figures["data_calls"] = len(data)
        figures["data_mutating"] = sum(1 for call in data if call["mutating"])
    return figures


def one_round(emu, scenario, ours_first):
    result = {}
    order = ["ours", "peer"] if ours_first else ["peer", "ours"]
    definition = dict(scenario["definition"], environment_show_summary=False)
    services = scenario.get("data_services")
    for side in order:
        emu.reset()
        if side == "ours":
            result["ours"] = {
                "first": measure(emu, scenario["ours"], definition, services),
                "noop": measure(emu, scenario["ours"], definition, services),
            }
            result["ours"]["teardown"] = measure(emu, scenario["ours_down"], definition, services)
        else:
            peer_vars = {"bench_image_id": IMAGE_ID}
            result["peer"] = {
                "first": measure(emu, scenario["peer"], peer_vars, services),
                "noop": measure(emu, scenario["peer"], peer_vars, services),
            }
    return result


def slow_round(emu, scenario, ours_first):
    """The first converge of each side on a fast emulator and on one holding the slow layers pending."""
    result = {}
    order = ["ours", "peer"] if ours_first else ["peer", "ours"]
    playbooks = {"ours": scenario["ours"], "peer": scenario["peer"]}
    extra_vars = {
        "ours": dict(scenario["definition"], environment_show_summary=False),
        "peer": {"bench_image_id": IMAGE_ID},
    }
    for side in order:
        result[side] = {}
        # alternate which condition goes first too
        for condition in ("fast", "slowed") if ours_first else ("slowed", "fast"):
            emu.reset()
            if condition == "slowed":
                emu.slow(**scenario["slow"])
            result[side][condition] = measure(emu, playbooks[side], extra_vars[side], scenario["data_services"])
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
    scenario = SCENARIOS[name]
    rounds = []
    with Emulator() as emu:
        for index in range(rounds_wanted):
            started = time.monotonic()
            play = slow_round if "slow" in scenario else one_round
            rounds.append(play(emu, scenario, ours_first=index % 2 == 0))
            print("round %d/%d done in %.0f s" % (index + 1, rounds_wanted, time.monotonic() - started), flush=True)
    report = dict(provenance(), scenario=name, rounds=rounds_wanted)
    if "slow" in scenario:
        report.update(slow_report(scenario, rounds))
    else:
        report.update(converge_report(scenario, rounds))
    report["raw"] = rounds
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    print("median of %d rounds; raw figures in %s" % (rounds_wanted, os.path.relpath(output, ROOT)))


def converge_report(scenario, rounds):
    metrics = METRICS + (DATA_METRICS if scenario.get("data_services") else ())
    table = []
    for phase in ("first", "noop"):
        row = {"phase": phase}
        for metric in metrics:
            ours, peer = median(rounds, "ours", phase, metric), median(rounds, "peer", phase, metric)
            row[metric] = {"ours": ours, "peer": peer, "ratio": round(ours / peer, 3) if peer else None}
        table.append(row)
    teardown_metrics = ("seconds", "calls", "mutating") + (DATA_METRICS if scenario.get("data_services") else ())
    teardown = dict((m, median(rounds, "ours", "teardown", m)) for m in teardown_metrics)
    print("\n| run | metric | webstack.aws | amazon.aws | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in table:
        for metric in metrics:
            cell = row[metric]
            print("| %s | %s | %s | %s | %s |" % (row["phase"], metric, cell["ours"], cell["peer"], cell["ratio"]))
    if scenario.get("data_services"):
        print("\ndata_calls / data_mutating: the calls to %s alone" % ", ".join(scenario["data_services"]))
    print("\nteardown (webstack.aws): %s" % teardown)
    return {"medians": table, "ours_teardown": teardown}


def slow_report(scenario, rounds):
    slow = scenario["slow"]
    expected = {"ours": max(slow.values()), "peer": sum(slow.values())}
    table = {}
    for side in ("ours", "peer"):
        fast = round(median(rounds, side, "fast", "seconds"), 2)
        slowed = round(median(rounds, side, "slowed", "seconds"), 2)
        differences = [r[side]["slowed"]["seconds"] - r[side]["fast"]["seconds"] for r in rounds]
        table[side] = {
            "fast": fast,
            "slowed": slowed,
            "difference": round(statistics.median(differences), 2),
            "expected_difference": expected[side],
            "calls_fast": round(median(rounds, side, "fast", "calls")),
            "calls_slowed": round(median(rounds, side, "slowed", "calls")),
        }
    print("\nemulator slowed: %s (seconds a new resource stays pending)" % slow)
    print("\n| first converge | fast (s) | slowed (s) | slowed - fast (s) | expected (s) | calls fast | calls slowed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for side, label in (
        ("ours", "webstack.aws (waits together: max)"),
        ("peer", "amazon.aws (one after the other: sum)"),
    ):
        row = table[side]
        print(
            "| %s | %s | %s | %s | %s | %s | %s |"
            % (
                label,
                row["fast"],
                row["slowed"],
                row["difference"],
                row["expected_difference"],
                row["calls_fast"],
                row["calls_slowed"],
            )
        )
    return {"slow": slow, "critical_path": table}


if __name__ == "__main__":
    main()
