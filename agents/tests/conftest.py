"""Fixtures: the AWS emulator on loopback (tools/awsemu.py), a recording test application, daemon runners."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import uuid

import boto3
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awsemu import Emulator  # noqa: E402
from testapp import TestApp  # noqa: E402

from webstack_agents.sqsd import config as sqsd_config  # noqa: E402
from webstack_agents.sqsd.daemon import Daemon  # noqa: E402

# Never reach real AWS: dummy credentials, one region; clients get the emulator endpoint explicitly.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


def wait_for(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator()
    emu.start()
    os.environ["AWS_ENDPOINT_URL"] = emu.endpoint
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def endpoint(emulator):
    return emulator.endpoint


def _client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture(scope="session")
def sqs(endpoint):
    return _client("sqs", endpoint)


@pytest.fixture(scope="session")
def ddb(endpoint):
    return _client("dynamodb", endpoint)


@pytest.fixture(scope="session")
def cloudwatch(endpoint):
    return _client("cloudwatch", endpoint)


class Queues:
    def __init__(self, sqs):
        self.sqs = sqs

    def create(self, max_receive_count: int | None = None, prefix: str = "work") -> tuple[str, str | None]:
        """A fresh queue (and its dead-letter queue when max_receive_count is given)."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        attributes = {}
        dlq_url = None
        if max_receive_count is not None:
            dlq_url = self.sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count})
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, dlq_url

    def send(self, url: str, count: int, prefix: str = "m", attributes: dict | None = None) -> list[str]:
        bodies = [json.dumps({"n": index, "p": prefix}) for index in range(count)]
        for start in range(0, count, 10):
            entries = [
                {"Id": str(i), "MessageBody": body, **({"MessageAttributes": attributes} if attributes else {})}
                for i, body in enumerate(bodies[start : start + 10])
            ]
            result = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            assert not result.get("Failed"), result
        return bodies

    def depth(self, url: str) -> tuple[int, int]:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def empty(self, url: str) -> bool:
        return self.depth(url) == (0, 0)

    def drain(self, url: str, wait: int = 1) -> list[dict]:
        """Receive (and delete) every visible message: for assertions on a dead-letter queue."""
        out = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return out
            out.extend(batch)
            self.sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )


@pytest.fixture
def queues(sqs):
    return Queues(sqs)


@pytest.fixture
def app():
    server = TestApp()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def daemon_options(queue_url: str, port: int, endpoint: str, **overrides) -> dict:
    """Test defaults: short polls and timeouts so the suite runs in minutes."""
    options = {
        "WorkerQueueURL": queue_url,
        "Port": port,
        "Host": "localhost",
        "EndpointUrl": endpoint,
        "Region": "us-east-1",
        "WaitTimeSeconds": 1,
        "ErrorVisibilityTimeout": 1,
        "VisibilityTimeout": 30,
        "InactivityTimeout": 10,
        "HttpConnections": 10,
        "DrainTimeout": 10,
        "InstanceId": "i-test",
        "AwsMaxAttempts": 5,
    }
    options.update(overrides)
    return options


class RunningDaemon:
    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self.exit_code = None
        self.thread = threading.Thread(target=self._run, name="test-daemon", daemon=True)

    def _run(self):
        self.exit_code = self.daemon.run()

    def stop(self, timeout: float = 30.0) -> float:
        began = time.monotonic()
        self.daemon.request_stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "daemon did not stop in time"
        return time.monotonic() - began


@pytest.fixture
def run_daemon(endpoint):
    """Start in-process daemons (threads); all are stopped at the end of the test."""
    running: list[RunningDaemon] = []

    def start(queue_url: str, port: int, clock=None, tasks=None, **overrides) -> RunningDaemon:
        config = sqsd_config.load(None, environ={}, overrides=daemon_options(queue_url, port, endpoint, **overrides))
        handle = RunningDaemon(Daemon(config, clock=clock, tasks=tasks))
        handle.thread.start()
        running.append(handle)
        return handle

    yield start
    for handle in running:
        with contextlib.suppress(AssertionError):
            handle.stop()
