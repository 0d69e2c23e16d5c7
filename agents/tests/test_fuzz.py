"""The poster survives any message: random bytes in every attribute and the body never crash the delivery path
and never poison the connection for the next, innocent message (which must always be delivered)."""

from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import wait_for

from webstack_agents.sqsd import contract
from webstack_agents.sqsd.poster import AppClient, PostError

MESSAGES = 10_000
SEED = 20261206
NASTY = ["\r\n", "\n", "\r", "\x00", "\x7f", "é", "日本", "\ud800", " ", ":", "%", "?", "#", "\t", "\u2028", "/../"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real application server

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/innocent":
            self.server.innocent.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def keepalive_app():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.innocent = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def text(rng: random.Random) -> str:
    """Random bytes read as text the way a str may hold them (undecodable bytes as surrogates), plus the
    characters that break naive HTTP code."""
    raw = bytes(rng.randrange(256) for _byte in range(rng.randrange(0, 40)))
    value = raw.decode("utf-8", "surrogateescape")
    for _insert in range(rng.randrange(0, 3)):
        at = rng.randrange(len(value) + 1)
        value = value[:at] + rng.choice(NASTY) + value[at:]
    return value


def attribute(rng: random.Random) -> dict:
    kind = rng.choice(["String", "Number", "Binary", "String.custom", "Number.float", text(rng)])
    if kind == "Binary":
        return {"DataType": kind, "BinaryValue": bytes(rng.randrange(256) for _byte in range(8))}
    return {"DataType": kind, "StringValue": text(rng)}


def fuzzed(rng: random.Random, number: int) -> dict:
    attributes = {name: attribute(rng) for name in (text(rng) for _attribute in range(rng.randrange(0, 4)))}
    for special in (contract.TASK_NAME_ATTR, contract.PATH_ATTR, contract.SCHEDULED_TIME_ATTR):
        if rng.random() < 0.5:
            attributes[special] = attribute(rng)
    return {
        "MessageId": text(rng) if rng.random() < 0.1 else f"msg-{number}",
        "ReceiptHandle": text(rng),
        "Body": text(rng),
        # SQS's own attributes are well formed in practice: random one time in ten
        "Attributes": {
            "SenderId": text(rng) if rng.random() < 0.1 else "AIDAEXAMPLE",
            "ApproximateReceiveCount": text(rng) if rng.random() < 0.1 else "1",
            "SentTimestamp": text(rng) if rng.random() < 0.1 else "1765000000000",
        },
        "MessageAttributes": attributes,
    }


def test_ten_thousand_random_messages_no_crash_no_poisoned_neighbour(keepalive_app):
    app = keepalive_app
    rng = random.Random(SEED)
    client = AppClient("127.0.0.1", app.server_address[1], connect_timeout=2, inactivity_timeout=5)
    innocent = contract.build_request(
        {"MessageId": "innocent", "Body": "fine", "Attributes": {}, "MessageAttributes": {}},
        "q",
        "/innocent",
        "text/plain",
    )
    outcomes = {"posted": 0, "refused": 0, "post_error": 0}
    try:
        for number in range(MESSAGES):
            message = fuzzed(rng, number)
            try:
                request = contract.build_request(message, "worker-queue", "/", "application/json")
            except contract.BadMessage:
                outcomes["refused"] += 1  # not posted; retried, then dead-lettered
            else:
                try:
                    status = client.request("POST", request.path, request.body, request.headers).status
                    outcomes["posted"] += status == 200
                except PostError:
                    outcomes["post_error"] += 1
            # the next message must not pay for this one
            assert client.request("POST", innocent.path, innocent.body, innocent.headers).status == 200, number
    finally:
        client.close()
    assert len(app.innocent) == MESSAGES and set(app.innocent) == {b"fine"}
    assert sum(outcomes.values()) == MESSAGES
    # most random messages are deliverable; control characters in a task name or system attribute are refused
    assert outcomes["posted"] > MESSAGES // 4 and outcomes["refused"] > 0, outcomes


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        (
            {"MessageAttributes": {contract.TASK_NAME_ATTR: {"DataType": "String", "StringValue": "job\r\nX-Evil: 1"}}},
            True,
        ),
        ({"MessageAttributes": {contract.PATH_ATTR: {"DataType": "String", "StringValue": "/täsk\r\n done"}}}, False),
        ({"MessageAttributes": {"na\u00efve": {"DataType": "String", "StringValue": "v"}}}, False),
        ({"Body": "caf\udce9"}, False),
    ],
)
def test_the_messages_that_used_to_poison_the_connection(keepalive_app, changes, refused):
    app = keepalive_app
    message = {"MessageId": "m", "Body": "b", "Attributes": {}, "MessageAttributes": {}}
    message.update(changes)
    client = AppClient("127.0.0.1", app.server_address[1], connect_timeout=2, inactivity_timeout=5)
    try:
        try:
            request = contract.build_request(message, "q", "/", "application/json")
        except contract.BadMessage:
            assert refused
        else:
            assert not refused
            assert request.path.isascii() and "\r" not in request.path and " " not in request.path
            assert client.request("POST", request.path, request.body, request.headers).status == 200
        assert client.request("POST", "/innocent", b"fine", []).status == 200
    finally:
        client.close()


def test_the_daemon_refuses_a_poisonous_message_and_delivers_the_next(queues, sqs, app, run_daemon):
    """Through the real daemon and queue: a task name with CR/LF is never posted (it comes back after the error
    visibility timeout, towards the dead-letter queue), and the message after it is delivered."""
    url, _unused = queues.create()
    sqs.send_message(
        QueueUrl=url,
        MessageBody="ignored",
        MessageAttributes={contract.TASK_NAME_ATTR: {"DataType": "String", "StringValue": "job\r\nX-Evil: 1"}},
    )
    sqs.send_message(
        QueueUrl=url,
        MessageBody="innocent",
        MessageAttributes={contract.PATH_ATTR: {"DataType": "String", "StringValue": "/r\u00e9sum\u00e9 2"}},
    )
    running = run_daemon(url, app.port, HttpConnections=1)
    post = wait_for(lambda: [p for p in app.posts() if p.body == b"innocent"], 20, message="the innocent POST")[0]
    assert post.path == "/r%C3%A9sum%C3%A9%202"
    assert all(p.header("X-Aws-Sqsd-Taskname") is None for p in app.posts())
    wait_for(lambda: running.daemon.metrics.snapshot()["counters"].get("Failed", 0) >= 1, 20, message="the refusal")
