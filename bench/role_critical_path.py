"""The whole environment's provisioning wall time through the role (playbooks/provision.yml), with the slow
resources made slow (RDS 30 s, ElastiCache 20 s, CloudFront 10 s) and not, alternating, medians of N rounds.

The role starts the three together and waits for them together, so the difference should be at most the
slowest (30 s), and less when other layers (certificate, load balancer, alarms) run meanwhile, not the sum (60 s).

    .venv/bin/python bench/role_critical_path.py --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from awsemu import Emulator  # noqa: E402
from common import run_playbook  # noqa: E402

SLOW = {"rds": 30, "elasticache": 20, "cloudfront": 10}
DEFINITION = {
    "environment_show_summary": False,
    "webstack_environment": {
        "name": "wall",
        "tier": "web",
        "domain": "wall.example.com",
        "network": {"cidr_block": "10.60.0.0/16", "nat_gateways": "single"},
        "instances": {"image_id": "ami-1e749f67", "min_size": 2, "max_size": 3, "instance_refresh": False},
        "database": {"deletion_protection": False},
        "static_assets": {"aliases": ["cdn.wall.example.com"]},
    },
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results", "role_critical_path.json"))
    args = parser.parse_args()
    seconds = {"fast": [], "slowed": []}
    provision = os.path.join(ROOT, "playbooks", "provision.yml")
    with Emulator() as emu:
        for index in range(args.rounds):
            for condition in ("fast", "slowed") if index % 2 == 0 else ("slowed", "fast"):
                emu.reset()
                if condition == "slowed":
                    emu.slow(**SLOW)
                run = run_playbook(provision, emu.endpoint, extra_vars=DEFINITION)
                seconds[condition].append(round(run.seconds, 2))
                print("round %d %s: %.1f s" % (index + 1, condition, run.seconds), flush=True)
    fast, slowed = statistics.median(seconds["fast"]), statistics.median(seconds["slowed"])
    report = {
        "slow": SLOW,
        "rounds": args.rounds,
        "seconds": seconds,
        "median_fast": fast,
        "median_slowed": slowed,
        "difference": round(slowed - fast, 2),
        "slowest": max(SLOW.values()),
        "sum": sum(SLOW.values()),
    }
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    print(
        "provision.yml, median of %d: fast %.1f s, slowed %.1f s, difference %.1f s (slowest %d s, sum %d s)"
        % (args.rounds, fast, slowed, slowed - fast, max(SLOW.values()), sum(SLOW.values()))
    )


if __name__ == "__main__":
    main()
