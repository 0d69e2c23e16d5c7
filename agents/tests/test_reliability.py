"""Concurrency, keep-alive, batching, dead-lettering, throttling and the health gate: nothing is ever lost."""

from __future__ import annotations

import threading
import time
from collections import Counter

from conftest import wait_for


def test_concurrency_is_bounded_by_http_connections(queues, app, run_daemon):
    url, _unused = queues.create()
    sent = queues.send(url, 15)
    app.responder = lambda seen: (200, 0.3)
    run_daemon(url, app.port, HttpConnections=3)
    wait_for(lambda: len(app.bodies_ok()) == 15, 30, message="15 deliveries")
    assert app.max_concurrent == 3, f"at most (and, under load, exactly) 3 in flight, saw {app.max_concurrent}"
    assert sorted(app.bodies_ok()) == sorted(body.encode() for body in sent)


def test_connections_are_kept_alive(queues, app, run_daemon):
    url, _unused = queues.create()
    queues.send(url, 20)
    app.responder = lambda seen: (200, 0.05)
    run_daemon(url, app.port, HttpConnections=2)
    wait_for(lambda: len(app.bodies_ok()) == 20, 30, message="20 deliveries")
    client_ports = {seen.client[1] for seen in app.posts()}
    assert len(client_ports) <= 2, f"20 POSTs over at most 2 persistent connections, saw {len(client_ports)}"


def test_deletes_and_visibility_changes_are_batched(queues, app, run_daemon, emulator):
    url, _unused = queues.create()
    queues.send(url, 40)
    emulator.reset_calls()
    seen_bodies = Counter()

    def respond(seen):
        seen_bodies[seen.body] += 1
        return 500 if seen_bodies[seen.body] == 1 else 200  # every message fails once, then succeeds

    app.responder = respond
    run_daemon(url, app.port, HttpConnections=20, ErrorVisibilityTimeout=1)
    wait_for(lambda: len(app.bodies_ok()) == 40, 40, message="40 deliveries")
    wait_for(lambda: queues.empty(url), 10, message="the queue to be empty")
    actions = Counter(call["action"] for call in emulator.calls() if call["service"] == "sqs")
    assert actions["DeleteMessage"] == 0 and actions["ChangeMessageVisibility"] == 0
    assert 4 <= actions["DeleteMessageBatch"] < 40, actions
    assert 4 <= actions["ChangeMessageVisibilityBatch"] < 40, actions


def test_failing_messages_reach_the_dead_letter_queue_after_max_retries(queues, app, run_daemon):
    url, dlq = queues.create(max_receive_count=3)
    sent = queues.send(url, 2)
    app.responder = lambda seen: 500
    run_daemon(url, app.port, MaxRetries=3, ErrorVisibilityTimeout=0)
    dead = wait_for(lambda: queues.drain(dlq, wait=0) or None, 30, message="messages in the dead-letter queue")
    while len(dead) < 2:
        dead += wait_for(lambda: queues.drain(dlq, wait=0) or None, 30, message="both dead-lettered")
    assert sorted(m["Body"] for m in dead) == sorted(sent)
    counts = Counter(seen.body for seen in app.posts())
    assert all(count == 3 for count in counts.values()), counts  # exactly MaxRetries attempts each
    receive_counts = sorted(seen.header("X-Aws-Sqsd-Receive-Count") for seen in app.posts())
    assert receive_counts == ["1", "1", "2", "2", "3", "3"]
    wait_for(lambda: queues.empty(url), 10, message="the worker queue to be empty")


def test_throttled_receive_and_delete_are_retried_without_loss(queues, app, run_daemon, emulator):
    url, _unused = queues.create()
    sent = queues.send(url, 30)
    emulator.reset_calls()
    emulator.inject(action="ReceiveMessage", count=4, code="ThrottlingException", status=400, service="sqs")
    emulator.inject(action="DeleteMessageBatch", count=3, code="ThrottlingException", status=400, service="sqs")
    try:
        run_daemon(url, app.port, HttpConnections=10, AwsMaxAttempts=5)
        wait_for(lambda: len(app.bodies_ok()) >= 30, 60, message="30 deliveries")
        wait_for(lambda: queues.empty(url), 30, message="the queue to be empty")
    finally:
        emulator.clear_faults()
    faulted = Counter(call["action"] for call in emulator.calls() if call.get("faulted"))
    assert faulted["ReceiveMessage"] == 4 and faulted["DeleteMessageBatch"] == 3, faulted
    delivered = Counter(app.bodies_ok())
    assert set(delivered) == {body.encode() for body in sent}, "every message delivered"
    assert max(delivered.values()) == 1, "throttling retried by the SDK causes no duplicate"


def test_delete_failing_beyond_sdk_retries_is_retried_by_the_daemon(queues, app, run_daemon, emulator, caplog):
    url, _unused = queues.create()
    sent = queues.send(url, 5)
    emulator.inject(action="DeleteMessageBatch", count=6, code="ServiceUnavailable", status=503, service="sqs")
    try:
        handle = run_daemon(url, app.port, AwsMaxAttempts=2, HttpConnections=5)
        wait_for(lambda: len(app.bodies_ok()) >= 5, 30, message="5 deliveries")
        wait_for(lambda: queues.empty(url), 40, message="the deletes to go through")
    finally:
        emulator.clear_faults()
    assert set(app.bodies_ok()) == {body.encode() for body in sent}
    assert handle.daemon.deleter.dropped == 0
    assert any(record.getMessage() == "delete batch failed; will retry" for record in caplog.records)


def test_health_url_gates_delivery(queues, app, run_daemon):
    url, _unused = queues.create()
    queues.send(url, 3)
    healthy = threading.Event()
    app.responder = lambda seen: (200 if healthy.is_set() else 503) if seen.path == "/health" else 200
    handle = run_daemon(url, app.port, HealthUrl="/health", HealthCheckInterval=0.1)
    wait_for(lambda: len([s for s in app.requests if s.path == "/health"]) >= 3, 10, message="health probes")
    time.sleep(1.5)
    assert app.posts() == [], "nothing is posted while the application is not healthy"
    assert handle.daemon.state == "waiting_for_health"
    assert sum(queues.depth(url)) == 3 and queues.depth(url)[1] == 0, "nothing was even received"
    healthy.set()
    wait_for(lambda: len(app.bodies_ok()) == 3, 20, message="delivery after the health gate")
