"""The HTTP contract against moto and the local test application: headers, statuses, timeouts, paths."""

from __future__ import annotations

import re
import socket
import time

import pytest
from conftest import wait_for

from webstack_agents import __version__

BASE_HEADERS = {
    "host",
    "content-length",
    "user-agent",
    "content-type",
    "x-aws-sqsd-msgid",
    "x-aws-sqsd-queue",
    "x-aws-sqsd-first-received-at",
    "x-aws-sqsd-receive-count",
    "x-aws-sqsd-sender-id",
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_headers_exact_set_and_formats(queues, sqs, app, run_daemon):
    url, _unused = queues.create()
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody='{"job": 1}',
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "blue"},
            "size": {"DataType": "Number", "StringValue": "42"},
            "ratio": {"DataType": "Number.float", "StringValue": "1.5"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            "beanstalk.sqsd.custom": {"DataType": "String", "StringValue": "hidden"},
        },
    )
    run_daemon(url, app.port)
    post = wait_for(app.posts, 20, message="the POST")[0]
    names = {key.lower() for key, _unused in post.headers}
    attrs = {"x-aws-sqsd-attr-color", "x-aws-sqsd-attr-size", "x-aws-sqsd-attr-ratio"}
    assert names == BASE_HEADERS | attrs
    assert len(post.headers) == len(names), "no header is sent twice"
    assert post.method == "POST"
    assert post.path == "/"
    assert post.body == b'{"job": 1}'
    assert post.header("User-Agent") == f"aws-sqsd/{__version__}"
    assert post.header("Content-Type") == "application/json"
    assert post.header("X-Aws-Sqsd-Msgid") == sent["MessageId"]
    assert post.header("X-Aws-Sqsd-Queue") == url.rsplit("/", 1)[1]
    assert ISO.match(post.header("X-Aws-Sqsd-First-Received-At"))
    first = time.mktime(time.strptime(post.header("X-Aws-Sqsd-First-Received-At"), "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(first - time.timezone - time.time()) < 120, "the timestamp is UTC and recent"
    assert post.header("X-Aws-Sqsd-Receive-Count") == "1"
    assert post.header("X-Aws-Sqsd-Sender-Id")
    assert post.header("X-Aws-Sqsd-Attr-color") == "blue"
    assert post.header("X-Aws-Sqsd-Attr-size") == "42"
    assert post.header("X-Aws-Sqsd-Attr-ratio") == "1.5"
    assert post.header("Content-Length") == str(len(b'{"job": 1}'))


def test_status_200_deletes_the_message(queues, app, run_daemon):
    url, _unused = queues.create()
    queues.send(url, 5)
    run_daemon(url, app.port)
    wait_for(lambda: len(app.bodies_ok()) >= 5, 20, message="5 deliveries")
    wait_for(lambda: queues.empty(url), 10, message="the queue to be empty")
    time.sleep(2.5)  # longer than ErrorVisibilityTimeout: nothing comes back
    assert len(app.posts()) == 5


@pytest.mark.parametrize("status", [201, 202, 204, 301, 404, 500, 503])
def test_any_status_but_200_keeps_the_message_and_retries(status, queues, app, run_daemon, sqs):
    url, _unused = queues.create()
    queues.send(url, 1)
    attempts = []

    def respond(seen):
        attempts.append(time.monotonic())
        return status if len(attempts) == 1 else 200

    app.responder = respond
    run_daemon(url, app.port, ErrorVisibilityTimeout=1)
    wait_for(lambda: len(app.bodies_ok()) == 1, 20, message="the retry to succeed")
    posts = app.posts()
    assert len(posts) == 2
    assert posts[0].body == posts[1].body
    assert posts[1].header("X-Aws-Sqsd-Receive-Count") == "2"
    assert posts[0].header("X-Aws-Sqsd-Msgid") == posts[1].header("X-Aws-Sqsd-Msgid")
    # ErrorVisibilityTimeout (1 s) controls when it comes back, not VisibilityTimeout (30 s).
    assert 0.8 <= attempts[1] - attempts[0] < 10
    wait_for(lambda: queues.empty(url), 10, message="the queue to be empty")


def test_error_visibility_timeout_is_applied(queues, app, run_daemon):
    url, _unused = queues.create()
    queues.send(url, 1)
    stamps = []

    def respond(seen):
        stamps.append(time.monotonic())
        return 500 if len(stamps) == 1 else 200

    app.responder = respond
    run_daemon(url, app.port, ErrorVisibilityTimeout=4)
    wait_for(lambda: len(app.bodies_ok()) == 1, 25, message="the retry")
    assert stamps[1] - stamps[0] >= 3.5


def _error_kinds(caplog) -> set:
    return {getattr(record, "error_kind", None) for record in caplog.records}


def test_connection_refused_keeps_the_message(queues, app, run_daemon, caplog):
    url, _unused = queues.create()
    queues.send(url, 2)
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    handle = run_daemon(url, dead_port)
    wait_for(lambda: handle.daemon.metrics.totals["Failed"] >= 2, 20, message="failed attempts")
    handle.stop()
    assert "connect" in _error_kinds(caplog)
    assert sum(queues.depth(url)) == 2, "nothing was deleted"
    run_daemon(url, app.port)
    wait_for(lambda: len(app.bodies_ok()) == 2, 20, message="delivery once the app is up")
    wait_for(lambda: queues.empty(url), 10, message="the queue to be empty")


def test_inactivity_timeout_keeps_the_message(queues, app, run_daemon, caplog):
    url, _unused = queues.create()
    queues.send(url, 1)
    calls = []

    def respond(seen):
        calls.append(time.monotonic())
        return (200, 3) if len(calls) == 1 else 200  # the first answer comes after InactivityTimeout

    app.responder = respond
    handle = run_daemon(url, app.port, InactivityTimeout=1, ErrorVisibilityTimeout=1)
    wait_for(lambda: len(calls) >= 2, 25, message="the retry after the timeout")
    wait_for(lambda: handle.daemon.metrics.totals["Succeeded"] >= 1, 10, message="a success")
    assert handle.daemon.metrics.totals["Failed"] >= 1
    assert calls[1] - calls[0] < 3, "the daemon gave up after InactivityTimeout, not after the answer"
    assert "timeout" in _error_kinds(caplog)
    wait_for(lambda: queues.empty(url), 10, message="the queue to be empty")


def test_connect_timeout_keeps_the_message(queues, app, run_daemon, caplog):
    """A listener whose accept queue is full never completes the handshake: ConnectTimeout applies."""
    url, _unused = queues.create()
    queues.send(url, 1)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _unused in range(8):  # fill the backlog so the next SYN is dropped
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        began = time.monotonic()
        handle = run_daemon(url, port, ConnectTimeout=1, HttpConnections=1)
        wait_for(lambda: handle.daemon.metrics.totals["Failed"] >= 1, 20, message="a failed attempt")
        assert time.monotonic() - began < 15
        handle.stop()
        assert _error_kinds(caplog) & {"connect_timeout"}, _error_kinds(caplog)
    finally:
        for filler in fillers:
            filler.close()
        server.close()
    assert sum(queues.depth(url)) == 1, "the message is still in the queue"


def test_http_path_and_mime_type_options(queues, app, run_daemon):
    url, _unused = queues.create()
    queues.send(url, 1)
    run_daemon(url, app.port, HttpPath="/worker/jobs", MimeType="text/plain")
    post = wait_for(app.posts, 20, message="the POST")[0]
    assert post.path == "/worker/jobs"
    assert post.header("Content-Type") == "text/plain"


def test_path_attribute_overrides_http_path(queues, sqs, app, run_daemon):
    url, _unused = queues.create()
    sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes={"beanstalk.sqsd.path": {"DataType": "String", "StringValue": "/special"}},
    )
    run_daemon(url, app.port, HttpPath="/default")
    post = wait_for(app.posts, 20, message="the POST")[0]
    assert post.path == "/special"
    assert not any(key.lower().startswith("x-aws-sqsd-attr-") for key, _unused in post.headers)


def test_retention_period_deletes_old_messages_unposted(queues, app, run_daemon):
    from webstack_agents.common.clock import FastClock

    url, _unused = queues.create()
    queues.send(url, 3)
    # The daemon's clock says it is two minutes later than the messages' SentTimestamp: older than 60 s.
    clock = FastClock(time.time() + 120)
    handle = run_daemon(url, app.port, clock=clock, RetentionPeriod=60)
    wait_for(lambda: handle.daemon.metrics.totals["Expired"] == 3, 20, message="3 expirations")
    wait_for(lambda: queues.empty(url), 10, message="the queue to be empty")
    assert app.posts() == []


def test_retention_period_keeps_younger_messages(queues, app, run_daemon):
    from webstack_agents.common.clock import FastClock

    url, _unused = queues.create()
    queues.send(url, 2)
    handle = run_daemon(url, app.port, clock=FastClock(time.time() + 30), RetentionPeriod=60)
    wait_for(lambda: len(app.bodies_ok()) == 2, 20, message="2 deliveries")
    assert handle.daemon.metrics.totals["Expired"] == 0
