"""Worker daemon throughput: webstack-sqsd vs a naive loop vs the emulator's own receive/delete limit.

Everything runs on this machine: the AWS emulator (tools/awsemu.py, moto on loopback) in one process, the
daemon (its console entry point) in another, and the local application plus this harness in a third.

    python bench/worker/run.py                      # the full run recorded in docs/benchmarks-worker.md
    python bench/worker/run.py --sizes 1000 --repeats 1 --naive 200   # a quick look

For each application (answers 200 at once, or after 50 ms) and each queue size it measures:
- ``emulator``: one thread in a tight ReceiveMessage(10) / DeleteMessageBatch loop, no HTTP: the ceiling the
  emulator itself puts on any consumer (measured once per size; it does not depend on the application);
- ``daemon``: webstack-sqsd with HttpConnections=50, from its first POST until every message was answered 200
  (``rate``) and until the queue is empty, i.e. every delete done (``rate_acked``); its CPU time and peak RSS
  from /proc;
- ``naive``: receive one, POST it (keep-alive connection), delete one, in a loop, from a queue of the same
  size but stopping after ``--naive`` messages (the loop's rate is steady; the count is recorded).
Medians of ``--repeats`` runs are reported.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awsemu import Emulator  # noqa: E402
from common import provenance  # noqa: E402
from fastemu import FastEmulator  # noqa: E402

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}.items():
    os.environ[_name] = _value
CLK_TCK = os.sysconf("SC_CLK_TCK")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        now = time.monotonic()
        with app.lock:
            if app.first is None:
                app.first = now
        if app.delay:
            time.sleep(app.delay)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with app.lock:
            app.ok += 1
            app.last = time.monotonic()
            msgid = self.headers.get("X-Aws-Sqsd-Msgid")
            if msgid:
                if msgid in app.ids:
                    app.duplicates.append(self.headers.get("X-Aws-Sqsd-Receive-Count"))
                app.ids.add(msgid)


class App:
    def __init__(self, delay: float):
        self.delay = delay
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.server.app = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.reset()

    def reset(self):
        with self.lock:
            self.ok = 0
            self.ids = set()
            self.duplicates = []
            self.first = None
            self.last = None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def fill(sqs, url: str, count: int) -> None:
    def batch(start):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"n": start + i, "pad": "x" * 200})}
            for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, count, 10)))


def depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def new_queue(sqs) -> str:
    return sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]


def emulator_limit(sqs, count: int) -> dict:
    url = new_queue(sqs)
    fill(sqs, url, count)
    done = 0
    began = time.monotonic()
    while done < count:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            continue
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
        done += len(messages)
    elapsed = time.monotonic() - began
    sqs.delete_queue(QueueUrl=url)
    return {"messages": count, "seconds": round(elapsed, 3), "rate": round(count / elapsed, 1)}


def naive(sqs, app: App, count: int, queue_size: int) -> dict:
    """Process ``count`` messages from a queue holding ``queue_size`` (moto's costs grow with the queue)."""
    url = new_queue(sqs)
    fill(sqs, url, queue_size)
    app.reset()
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    done = 0
    began = time.monotonic()
    while done < count:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            conn.request("POST", "/", body=message["Body"].encode(), headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                done += 1
    elapsed = time.monotonic() - began
    conn.close()
    sqs.delete_queue(QueueUrl=url)
    rate = round(count / elapsed, 1)
    return {"messages": count, "queue_size": queue_size, "seconds": round(elapsed, 3), "rate": rate}


def _proc_sample(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, current RSS kB, peak RSS kB) of a process."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    rss = hwm = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return cpu, rss, hwm


def daemon(sqs, emulator: Emulator, app: App, count: int, connections: int, entry_point: str) -> dict:
    url = new_queue(sqs)
    fill(sqs, url, count)
    app.reset()
    emulator.reset_calls()
    env = dict(os.environ)
    env.update(
        {
            "WEBSTACK_SQSD_WORKER_QUEUE_URL": url,
            "WEBSTACK_SQSD_PORT": str(app.port),
            "WEBSTACK_SQSD_HOST": "127.0.0.1",
            "WEBSTACK_SQSD_HTTP_CONNECTIONS": str(connections),
            "WEBSTACK_SQSD_ENDPOINT_URL": emulator.endpoint,
            "WEBSTACK_SQSD_REGION": "us-east-1",
            "WEBSTACK_SQSD_WAIT_TIME_SECONDS": "1",
            "WEBSTACK_SQSD_LOG_LEVEL": "warning",
            "WEBSTACK_SQSD_INSTANCE_ID": "i-bench",
        }
    )
    proc = subprocess.Popen(
        [entry_point], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    started = time.monotonic()
    peak_rss = 0
    acked_at = None
    try:
        while True:
            time.sleep(0.1)
            cpu, rss, hwm = _proc_sample(proc.pid)
            peak_rss = max(peak_rss, rss)
            with app.lock:
                ok = app.ok
            with app.lock:
                distinct = len(app.ids)
            if distinct >= count and depth(sqs, url) == 0:
                acked_at = time.monotonic()
                break
            if time.monotonic() - started > 600 or proc.poll() is not None:
                raise RuntimeError(f"daemon run did not finish: {ok}/{count} delivered")
        cpu, rss, hwm = _proc_sample(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    calls = emulator.calls()
    sqs_calls = [call for call in calls if call["service"] == "sqs" and call["action"] != "GetQueueAttributes"]
    with app.lock:
        first, last, ok, duplicates = app.first, app.last, app.ok, list(app.duplicates)
    sqs.delete_queue(QueueUrl=url)
    return {
        "messages": count,
        "delivered_200": ok,
        "duplicate_deliveries": len(duplicates),
        "duplicate_receive_counts": sorted(set(duplicates)),
        "seconds": round(last - first, 3),
        "rate": round(count / (last - first), 1),
        "rate_acked": round(count / (acked_at - first), 1),
        "startup_seconds": round(first - started, 3),
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_message": round(cpu * 1000 / count, 3),
        "peak_rss_mb": round(max(peak_rss, hwm) / 1024, 1),
        "sqs_calls_per_message": round(len(sqs_calls) / count, 3),
    }


def median_of(runs: list[dict]) -> dict:
    out = {"runs": len(runs)}
    for key in runs[0]:
        values = [run[key] for run in runs]
        if all(value == values[0] for value in values) or not isinstance(values[0], (int, float)):
            out[key] = values[0]
        else:
            out[key] = round(statistics.median(values), 3)
    out["all_rates"] = [run["rate"] for run in runs]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000", help="queue sizes (comma-separated)")
    parser.add_argument("--delays", default="0,50", help="application answer delays in ms (comma-separated)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--large-repeats", type=int, default=1, help="runs for sizes above 1000")
    parser.add_argument("--naive", default="0:1000,50:300", help="naive loop message count per delay, ms:count")
    parser.add_argument("--connections", type=int, default=50, help="daemon HttpConnections")
    parser.add_argument(
        "--stock-emulator", action="store_true", help="use tools/awsemu.py unchanged (O(n) receives; see fastemu.py)"
    )
    parser.add_argument("--out", default=os.path.join(REPO, "build", "bench-worker.json"))
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    delays = [int(delay) for delay in args.delays.split(",")]
    naive_counts = {int(k): int(v) for k, v in (item.split(":") for item in args.naive.split(","))}
    entry_point = os.path.join(os.path.dirname(sys.executable), "webstack-sqsd")
    results: dict = {
        **provenance(),
        "connections": args.connections,
        "emulator": {},
        "daemon": {},
        "naive": {},
        "clones": {
            "npm sqsd": "not installable: the npm registry answers 404 for 'sqsd'",
            "PyPI pysqsd 0.0.3": "not installable on Python 3: its setup imports Python 2 code (backtick syntax)",
        },
    }
    results["emulator_variant"] = "tools/awsemu.py (stock moto)" if args.stock_emulator else "bench/worker/fastemu.py"
    with Emulator() if args.stock_emulator else FastEmulator() as emulator:
        sqs = boto3.client("sqs", endpoint_url=emulator.endpoint, region_name="us-east-1")
        for size in sizes:
            repeats = args.repeats if size <= 1000 else args.large_repeats
            runs = [emulator_limit(sqs, size) for _unused in range(repeats)]
            results["emulator"][str(size)] = median_of(runs)
            _report("emulator", size, None, results["emulator"][str(size)])
        for delay in delays:
            app = App(delay / 1000.0)
            try:
                for size in sizes:
                    repeats = args.repeats if size <= 1000 else args.large_repeats
                    runs = [
                        daemon(sqs, emulator, app, size, args.connections, entry_point) for _unused in range(repeats)
                    ]
                    results["daemon"][f"{delay}ms/{size}"] = median_of(runs)
                    _report("daemon", size, delay, results["daemon"][f"{delay}ms/{size}"])
                    count = min(size, naive_counts.get(delay, 300))
                    runs = [naive(sqs, app, count, size) for _unused in range(repeats)]
                    results["naive"][f"{delay}ms/{size}"] = median_of(runs)
                    _report("naive", size, delay, results["naive"][f"{delay}ms/{size}"])
            finally:
                app.stop()
        # The machine is shared and noisy: measure the emulator's limit again at the end, report both.
        for size in sizes:
            if size > 1000:
                continue
            runs = [emulator_limit(sqs, size) for _unused in range(args.repeats)]
            results["emulator"][f"{size}/after"] = median_of(runs)
            _report("emulator", size, None, results["emulator"][f"{size}/after"])
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    sys.stdout.write(json.dumps(results, indent=2) + "\n")
    return 0


def _report(kind: str, size: int, delay, result: dict) -> None:
    label = f"{kind:8s} {size:6d} msgs" + (f" app {delay:2d} ms" if delay is not None else "          ")
    sys.stderr.write(f"{label}: {result['rate']:8.1f} msg/s  {json.dumps(result)}\n")


if __name__ == "__main__":
    sys.exit(main())
