"""`make demo`: converge the example environment on a local AWS emulator, show it, prove a re-run is a no-op.

Steps: start the emulator on a free loopback port -> plan (--check --diff) on the empty account ->
converge -> converge again (must report no change and make no mutating AWS call) -> list what is
tagged with the environment -> tear down and verify nothing remains -> stop the emulator.
`--keep` leaves the environment and the emulator running (stop it with `make emulator-stop`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awsemu import DEFAULT_STATE_DIR, Emulator, summarize  # noqa: E402
from common import BIN, ROOT, aws_env  # noqa: E402


def playbook(name, endpoint, *args):
    cmd = [os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", name), *args]
    print("\n$ " + " ".join(["ansible-playbook", "playbooks/" + name, *args]), flush=True)
    proc = subprocess.run(cmd, env=aws_env(endpoint), cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise SystemExit("demo: playbooks/%s failed (exit %d)" % (name, proc.returncode))


def calls_line(emu):
    summary = summarize(emu.calls())
    emu.reset_calls()
    return "AWS API calls: %d in all, %d mutating" % (summary["total"], summary["mutating"]), summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only show the plan on an empty account")
    parser.add_argument("--keep", action="store_true", help="leave the environment and the emulator running")
    args = parser.parse_args()
    os.makedirs(DEFAULT_STATE_DIR, exist_ok=True)
    emu = Emulator(log_path=os.path.join(DEFAULT_STATE_DIR, "demo-server.log")).start()
    print("local AWS emulator: %s" % emu.endpoint, flush=True)
    try:
        playbook("provision.yml", emu.endpoint, "--check", "--diff")
        line, summary = calls_line(emu)
        print("== plan on an empty account: %s" % line)
        if summary["mutating"]:
            raise SystemExit("demo: check mode made mutating calls: %s" % summary["by_action"])
        if args.check:
            return
        playbook("provision.yml", emu.endpoint)
        print("== first converge: %s" % calls_line(emu)[0])
        playbook("provision.yml", emu.endpoint)
        line, summary = calls_line(emu)
        print("== second converge (expect changed=0): %s" % line)
        if summary["mutating"]:
            raise SystemExit("demo: the second converge made mutating calls: %s" % summary["by_action"])
        if args.keep:
            with open(os.path.join(DEFAULT_STATE_DIR, "pid"), "w", encoding="utf-8") as handle:
                handle.write("%d\n" % emu.proc.pid)
            with open(os.path.join(DEFAULT_STATE_DIR, "endpoint"), "w", encoding="utf-8") as handle:
                handle.write(emu.endpoint + "\n")
            print("\nThe emulator keeps running at %s; `make emulator-stop` stops it." % emu.endpoint)
            emu.proc = None
            return
        playbook("teardown.yml", emu.endpoint)
        print("== teardown: %s" % calls_line(emu)[0])
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
