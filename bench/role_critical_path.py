"""The whole environment's provisioning through the role (playbooks/provision.yml) on the emulator, with the slow
resources made slow (RDS 30 s, ElastiCache 20 s, CloudFront 10 s) and not, alternating, medians of N rounds.

Two things are measured:

- wall time, fast vs slowed: the role starts the three together and waits for them together, so the difference
  is at most the slowest delay (30 s), less when other layers converge meanwhile, and not the sum (60 s);
- the critical path, in the slowed runs: when compute (the Auto Scaling group and its instances) finished,
  relative to when the slowest data layer finished. Identity, compute and the load balancer's DNS records do
  not need the slow layers' outputs, so the role converges them while the slow layers are being created, and
  compute must finish BEFORE the slowest layer does; only the CDN alias records wait for the distribution.
  On real AWS that takes the instances' start (minutes) off the critical path.

Times are seconds from the playbook's first task: a task's end from the json callback's task durations, a slow
layer's finish from the emulator's log (its module's last call to the layer's service: the poll that found the
resource ready), its creation likewise (the create call; the emulator holds it pending for the delay from then).

    .venv/bin/python bench/role_critical_path.py --rounds 3 [--slow rds=30 elasticache=20 cloudfront=10]

Exits 1 when, in the median slowed run, compute did not finish before the slowest layer.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from awsemu import Emulator  # noqa: E402
from common import provenance, run_playbook  # noqa: E402

SLOW = {"rds": 30, "elasticache": 20, "cloudfront": 10}
# slow layer -> (its service in the emulator's log, the call that creates its slow resource)
SLOW_LAYERS = {
    "database": ("rds", "CreateDBInstance"),
    "cache": ("elasticache", "CreateReplicationGroup"),
    "static_assets": ("cloudfront", "CreateDistributionWithTags"),
}
TASKS = {
    "identity": "Identity (instance role and profile)",
    "compute": "Compute (launch template, Auto Scaling group, scaling policies)",
    "dns_records": "DNS records (api alias and environment CNAME to the load balancer)",
    "wait": "Wait for the slow layers together",
    "cdn_records": "DNS records of the CDN aliases (alias records to the distribution)",
}
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


def stamp(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC).timestamp()


def timeline(run, calls):
    """Seconds from the first task's start: each task of TASKS ended (None when it did not run), each slow layer
    created and finished, the playbook's last task ended."""
    records = [r for r in run.results["__tasks__"] if r["duration"].get("start")]
    start = min(stamp(r["duration"]["start"]) for r in records)
    ended = {}
    for key, name in TASKS.items():
        found = [r for r in records if r["name"].endswith(name) and not r["result"].get("skipped")]
        ended[key] = round(stamp(found[-1]["duration"]["end"]) - start, 2) if found else None
    created, finished = {}, {}
    for layer, (service, create) in SLOW_LAYERS.items():
        times = [c["time"] for c in calls if c["service"] == service]
        made = [c["time"] for c in calls if c["service"] == service and c["action"] == create]
        finished[layer] = round(max(times) - start, 2) if times else None
        created[layer] = round(min(made) - start, 2) if made else None
    slowest = max(finished, key=lambda layer: finished[layer] or 0)
    return {
        "tasks_ended": ended,
        "slow_created": created,
        "slow_finished": finished,
        "slowest_layer": slowest,
        "slowest_finished": finished[slowest],
        # > 0: compute finished this many seconds before the slowest layer did
        "compute_lead": round(finished[slowest] - ended["compute"], 2),
        "playbook_finished": round(max(stamp(r["duration"]["end"]) for r in records) - start, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results", "role_critical_path.json"))
    parser.add_argument(
        "--slow",
        metavar="SERVICE=SECONDS",
        nargs="+",
        default=["%s=%d" % item for item in sorted(SLOW.items())],
        help="how long the emulator holds new resources pending (default: %(default)s)",
    )
    args = parser.parse_args()
    slow = dict((name, int(value)) for name, value in (item.split("=", 1) for item in args.slow))
    load_before = os.getloadavg()
    seconds = {"fast": [], "slowed": []}
    timelines = []
    provision = os.path.join(ROOT, "playbooks", "provision.yml")
    with Emulator() as emu:
        for index in range(args.rounds):
            for condition in ("fast", "slowed") if index % 2 == 0 else ("slowed", "fast"):
                emu.reset()
                if condition == "slowed":
                    emu.slow(**slow)
                run = run_playbook(provision, emu.endpoint, extra_vars=DEFINITION)
                seconds[condition].append(round(run.seconds, 2))
                line = "round %d %s: %.1f s" % (index + 1, condition, run.seconds)
                if condition == "slowed":
                    timelines.append(timeline(run, emu.calls()))
                    last = timelines[-1]
                    line += "; compute finished at %.1f s, the slowest (%s) at %.1f s: lead %.1f s" % (
                        last["tasks_ended"]["compute"],
                        last["slowest_layer"],
                        last["slowest_finished"],
                        last["compute_lead"],
                    )
                print(line, flush=True)
    fast, slowed = statistics.median(seconds["fast"]), statistics.median(seconds["slowed"])
    compute = statistics.median(t["tasks_ended"]["compute"] for t in timelines)
    slowest = statistics.median(t["slowest_finished"] for t in timelines)
    lead = statistics.median(t["compute_lead"] for t in timelines)
    report = dict(
        provenance(),
        # the machine is shared: its load (1, 5, 15 min) before and after tells how noisy the wall times are
        load_average={"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        slow=slow,
        rounds=args.rounds,
        seconds=seconds,
        median_fast=fast,
        median_slowed=slowed,
        difference=round(slowed - fast, 2),
        slowest=max(slow.values()),
        sum=sum(slow.values()),
        critical_path={
            "median_compute_finished": compute,
            "median_slowest_finished": slowest,
            "median_compute_lead": lead,
            "compute_before_slowest": lead > 0,
            "slowed_runs": timelines,
        },
    )
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    print(
        "provision.yml, median of %d: fast %.1f s, slowed %.1f s, difference %.1f s (slowest %d s, sum %d s)"
        % (args.rounds, fast, slowed, slowed - fast, max(slow.values()), sum(slow.values()))
    )
    print(
        "slowed: compute finished at %.1f s, the slowest layer at %.1f s: compute %s by %.1f s"
        % (compute, slowest, "first" if lead > 0 else "LAST", abs(lead))
    )
    return 0 if lead > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
