"""Observability (JSON-lines logs, CloudWatch metrics in batches, the status file) and the pure contract."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from conftest import wait_for

from webstack_agents.common import jsonlog, statusfile
from webstack_agents.common.metrics import CloudWatchPublisher, Metrics
from webstack_agents.sqsd import contract


def test_logs_are_json_lines():
    stream = io.StringIO()
    jsonlog.setup("info", stream=stream)
    try:
        logging.getLogger("webstack.sqsd").warning("delivery failed", extra={"message_id": "m-1", "status": 500})
        logging.getLogger("webstack.sqsd").debug("not shown at info level")
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_webstack_json", False):
                root.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "warning" and entry["msg"] == "delivery failed"
    assert entry["message_id"] == "m-1" and entry["status"] == 500
    assert entry["logger"] == "webstack.sqsd" and entry["ts"].endswith("Z")


def test_status_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "sub" / "status.json"
    statusfile.write_atomic(str(path), {"state": "running", "n": 1})
    statusfile.write_atomic(str(path), {"state": "stopped", "n": 2})
    assert statusfile.read(str(path)) == {"state": "stopped", "n": 2}
    assert [p.name for p in path.parent.iterdir()] == ["status.json"], "no temporary file is left behind"


def test_daemon_status_file(queues, app, run_daemon, tmp_path):
    url, _unused = queues.create()
    queues.send(url, 4)
    path = tmp_path / "status.json"
    run_daemon(url, app.port, StatusFile=str(path), StatusInterval=0.1)
    wait_for(lambda: len(app.bodies_ok()) == 4, 20, message="4 deliveries")

    def settled():
        doc = json.loads(path.read_text())
        return doc if doc["counters"]["Succeeded"] == 4 else None

    doc = wait_for(settled, 10, message="the status file to show 4 successes")
    assert doc["state"] == "running"
    assert doc["agent"] == "webstack-sqsd" and doc["queue"] == url
    assert doc["counters"]["Received"] == 4 and doc["in_flight"] == 0
    assert doc["last_receive_at"].endswith("Z")


def test_metrics_are_published_in_batches(queues, app, run_daemon, emulator, cloudwatch):
    url, _unused = queues.create()
    queues.send(url, 12)
    namespace = f"Webstack/Test-{uuid.uuid4().hex[:6]}"
    failed = []

    def respond(seen):
        if not failed and b'"n": 0,' in seen.body:  # the first message fails once
            failed.append(seen)
            return 500
        return 200

    app.responder = respond
    emulator.reset_calls()
    began = time.monotonic()
    handle = run_daemon(url, app.port, MetricsNamespace=namespace, MetricsInterval=1, ErrorVisibilityTimeout=1)
    wait_for(lambda: len(app.bodies_ok()) == 12, 30, message="12 deliveries")
    handle.stop()
    elapsed = time.monotonic() - began
    puts = [call for call in emulator.calls() if call["action"] == "PutMetricData"]
    assert 1 <= len(puts) <= elapsed / 1 + 2, "one PutMetricData per interval, not one per message"
    # Published per queue and per (queue, instance); ask for the per-instance series (moto also matches
    # supersets of the requested dimensions, real CloudWatch only exact sets).
    dims = [{"Name": "QueueName", "Value": url.rsplit("/", 1)[1]}, {"Name": "InstanceId", "Value": "i-test"}]
    now = datetime.now(UTC)

    def total(metric, stat="Sum"):
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dims,
            StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=10),
            Period=60,
            Statistics=[stat],
        )["Datapoints"]
        return sum(point[stat] for point in points)

    assert total("Succeeded") == 12
    assert total("Failed") == 1
    assert total("Received") == 13
    assert total("Posted") == 13
    assert total("Retried") == 1
    assert total("Latency", "SampleCount") == 13
    listed = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]}
    assert {"Received", "Posted", "Succeeded", "Failed", "Retried", "Expired", "InFlight", "Latency"} <= listed


def test_failed_metric_publish_is_kept_for_the_next_batch():
    class Failing:
        def __init__(self):
            self.fail = True
            self.sent = []

        def put_metric_data(self, Namespace, MetricData):
            if self.fail:
                raise RuntimeError("throttled")
            self.sent.extend(MetricData)

    metrics = Metrics(("Succeeded",), ("InFlight",), ("Latency",))
    client = Failing()
    publisher = CloudWatchPublisher(client, "ns", [{"QueueName": "q"}], {"Latency": "Milliseconds"})
    metrics.incr("Succeeded", 3)
    metrics.time("Latency", 5.0)
    assert publisher.flush(metrics) is False
    client.fail = False
    metrics.incr("Succeeded", 2)
    assert publisher.flush(metrics) is True
    sent = {datum["MetricName"]: datum for datum in client.sent}
    assert sent["Succeeded"]["Value"] == 5
    assert sent["Latency"]["StatisticValues"]["SampleCount"] == 1


def _message(**attributes):
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "r",
        "Body": "hello",
        "Attributes": {
            "SenderId": "AIDA",
            "SentTimestamp": "1796040000000",
            "ApproximateReceiveCount": "3",
            "ApproximateFirstReceiveTimestamp": "1796040001500",
        },
        "MessageAttributes": attributes,
    }


def test_contract_first_received_at_is_utc_iso8601():
    request = contract.build_request(_message(), "jobs", "/", "application/json")
    headers = dict(request.headers)
    assert headers["X-Aws-Sqsd-First-Received-At"] == b"2026-11-30T12:00:01Z"
    assert headers["X-Aws-Sqsd-Receive-Count"] == b"3"
    assert headers["X-Aws-Sqsd-Sender-Id"] == b"AIDA"


def test_contract_binary_and_reserved_attributes_are_not_passed():
    message = _message(
        b={"DataType": "Binary", "BinaryValue": b"x"},
        s={"DataType": "String.custom", "StringValue": "v"},
        **{"beanstalk.sqsd.path": {"DataType": "String", "StringValue": "/p"}},
    )
    request = contract.build_request(message, "jobs", "/", "application/json")
    names = [name for name, _unused in request.headers if name.startswith("X-Aws-Sqsd-Attr-")]
    assert names == ["X-Aws-Sqsd-Attr-s"]
    assert request.path == "/p"


def test_contract_header_injection_is_refused():
    message = _message(evil={"DataType": "String", "StringValue": "a\r\nX-Injected: 1"})
    request = contract.build_request(message, "jobs", "/", "application/json")
    assert not any(name == "X-Aws-Sqsd-Attr-evil" for name, _unused in request.headers)
    assert all(b"\n" not in value for _unused, value in request.headers)


def test_contract_unicode_attribute_is_utf8():
    message = _message(city={"DataType": "String", "StringValue": "Zürich"})
    request = contract.build_request(message, "jobs", "/", "application/json")
    assert dict(request.headers)["X-Aws-Sqsd-Attr-city"] == "Zürich".encode()


def test_contract_periodic_task_has_empty_body_and_task_headers():
    message = _message(
        **{
            "beanstalk.sqsd.path": {"DataType": "String", "StringValue": "/tasks/backup"},
            "beanstalk.sqsd.task_name": {"DataType": "String", "StringValue": "backup"},
            "beanstalk.sqsd.scheduled_time": {"DataType": "String", "StringValue": "2026-11-30T12:00:00Z"},
        }
    )
    request = contract.build_request(message, "jobs", "/", "application/json")
    headers = dict(request.headers)
    assert request.body == b"" and request.path == "/tasks/backup"
    assert headers["X-Aws-Sqsd-Taskname"] == b"backup"
    assert headers["X-Aws-Sqsd-Scheduled-At"] == b"2026-11-30T12:00:00Z"
