"""The worker daemon: receive from SQS, POST to the local application, acknowledge in batches.

Threads:
- receivers long-poll the queue (up to 10 messages a call) but only take as many messages as there are free
  delivery slots, so nothing sits received for long without being worked on;
- HttpConnections workers, each owning one keep-alive connection to the application, POST one message at a time
  (so at most HttpConnections POSTs are ever in flight);
- a delete batcher (HTTP 200) and a visibility batcher (anything else, and releases on shutdown), one thread each;
- optionally the periodic-task scheduler, and a reporter that publishes metrics and the status file.

A message is deleted only after the application answered exactly 200; otherwise its visibility is set to
ErrorVisibilityTimeout and SQS hands it out again (and dead-letters it after the redrive policy's
maxReceiveCount). Nothing is acknowledged before the POST finished, so a crash loses nothing: messages come back
when their VisibilityTimeout ends.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from urllib.parse import urlsplit

from webstack_agents import __version__
from webstack_agents.common import aws, statusfile
from webstack_agents.common.clock import Clock
from webstack_agents.common.config import ConfigError
from webstack_agents.common.metrics import CloudWatchPublisher, Metrics
from webstack_agents.sqsd import contract
from webstack_agents.sqsd.batcher import Batcher, Entry
from webstack_agents.sqsd.config import SqsdConfig
from webstack_agents.sqsd.cron import Task, load_cron_file
from webstack_agents.sqsd.poster import AppClient, PostError
from webstack_agents.sqsd.scheduler import LeaderElection, PeriodicScheduler

LOG = logging.getLogger("webstack.sqsd")

COUNTERS = ("Received", "Posted", "Succeeded", "Failed", "Retried", "Expired", "PeriodicEnqueued")
GAUGES = ("InFlight",)
TIMERS = ("Latency",)


class Credits:
    """Free delivery slots; receivers take up to ten at a time, workers give one back per finished message."""

    def __init__(self, total: int):
        self.total = total
        self.available = total
        self._cond = threading.Condition()

    def take(self, want: int, stop: threading.Event) -> int:
        with self._cond:
            while self.available < 1:
                if stop.is_set():
                    return 0
                self._cond.wait(0.2)
            if self.available < want:
                # Give the workers a moment to free a fuller batch: fewer, fuller ReceiveMessage calls.
                deadline = time.monotonic() + 0.02
                while self.available < want and not stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            taken = min(want, self.available)
            self.available -= taken
            return taken

    def give(self, count: int = 1) -> None:
        if count <= 0:
            return
        with self._cond:
            self.available += count
            self._cond.notify_all()


class Daemon:
    def __init__(self, config: SqsdConfig, clock: Clock | None = None, tasks: list[Task] | None = None):
        self.config = config
        self.clock = clock or Clock()
        self.tasks = tasks if tasks is not None else (load_cron_file(config.cron_file) if config.cron_file else [])
        if self.tasks and not config.leader_table:
            raise ConfigError("LeaderTable is required when CronFile defines periodic tasks")
        self.owner = f"{config.instance_id}:{os.getpid()}:{id(self):x}"
        self.metrics = Metrics(COUNTERS, GAUGES, TIMERS)
        self.state = "starting"
        self.started_at = time.time()
        self.last_receive_at: float | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._workers_exit = threading.Event()
        self._stopped = threading.Event()
        self._work: queue.Queue[dict] = queue.Queue()
        n_conn = config.http_connections
        # One long-poll keeps up with 50 connections (10 messages per call); more only add contention.
        self.receiver_count = config.receiver_threads or max(1, min(4, math.ceil(n_conn / 50)))
        # A credit is held by a message from its receipt until SQS acknowledged its delete or visibility change,
        # so acknowledgements that lag behind (throttling, a slow endpoint) slow the receivers down instead of
        # piling up received messages whose visibility keeps running.
        self.credits = Credits(n_conn + min(20, n_conn))
        # One thread per acknowledgement kind: batches fill up by themselves while a call is in flight, and
        # deletes are never concurrent (moto 5.2.5 rebuilds its message list on delete without a lock, so two
        # concurrent DeleteMessageBatch calls can resurrect a deleted message there).
        ack_threads = 1
        self.sqs = aws.client(
            "sqs",
            region=config.region,
            endpoint_url=config.endpoint_url,
            max_attempts=config.aws_max_attempts,
            read_timeout=config.wait_time_seconds + 15,
            max_pool_connections=self.receiver_count + 2 * ack_threads + 4,
        )
        self.deleter = Batcher(self.sqs, config.worker_queue_url, "delete", threads=ack_threads)
        self.visibility = Batcher(self.sqs, config.worker_queue_url, "visibility", threads=1)
        self.scheduler: PeriodicScheduler | None = None
        if self.tasks:
            ddb = aws.client(
                "dynamodb", region=config.region, endpoint_url=config.endpoint_url, max_attempts=config.aws_max_attempts
            )
            election = LeaderElection(
                ddb, config.leader_table, config.queue_name, self.owner, config.leader_lease_seconds, self.clock
            )
            self.scheduler = PeriodicScheduler(
                self.tasks,
                ddb,
                self.sqs,
                config.leader_table,
                config.worker_queue_url,
                config.queue_name,
                election,
                self.clock,
                window=config.missed_tick_window,
                interval=config.scheduler_interval,
                metrics=self.metrics,
            )
        self.publisher: CloudWatchPublisher | None = None
        if config.metrics_namespace:
            cloudwatch = aws.client(
                "cloudwatch",
                region=config.region,
                endpoint_url=config.endpoint_url,
                max_attempts=config.aws_max_attempts,
            )
            queue_dims = {"QueueName": config.queue_name}
            self.publisher = CloudWatchPublisher(
                cloudwatch,
                config.metrics_namespace,
                [queue_dims, {**queue_dims, "InstanceId": config.instance_id}],
                {"Latency": "Milliseconds"},
            )
        self._threads: list[threading.Thread] = []
        self._receivers: list[threading.Thread] = []
        self._workers: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Ask the daemon to drain and exit (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_stopped(self, timeout: float) -> bool:
        return self._stopped.wait(timeout)

    def run(self) -> int:
        """Run until :meth:`request_stop`; returns the exit status (0)."""
        c = self.config
        LOG.info(
            "starting",
            extra={
                "version": __version__,
                "queue": c.worker_queue_url,
                "port": c.port,
                "http_path": c.http_path,
                "http_connections": c.http_connections,
                "periodic_tasks": [task.name for task in self.tasks],
            },
        )
        self._check_queue()
        self.deleter.start()
        self.visibility.start()
        reporter = threading.Thread(target=self._report_loop, name="sqsd-reporter", daemon=True)
        reporter.start()
        if self.scheduler is not None:
            self.scheduler.start()
        try:
            if c.health_url:
                self._set_state("waiting_for_health")
                self._wait_healthy()
            if not self._stop.is_set():
                self._set_state("running")
                for index in range(c.http_connections):
                    thread = threading.Thread(target=self._work_loop, name=f"sqsd-worker-{index}", daemon=True)
                    thread.start()
                    self._workers.append(thread)
                for index in range(self.receiver_count):
                    thread = threading.Thread(target=self._receive_loop, name=f"sqsd-receiver-{index}", daemon=True)
                    thread.start()
                    self._receivers.append(thread)
            while not self._stop.wait(0.5):
                pass
        finally:
            self._shutdown()
        return 0

    def _shutdown(self) -> None:
        c = self.config
        self._set_state("draining")
        LOG.info("stopping: no more receives; finishing in-flight posts", extra={"drain_timeout": c.drain_timeout})
        began = time.monotonic()
        if self.scheduler is not None:
            self.scheduler.stop()
        for thread in self._receivers:
            thread.join(max(0.0, c.wait_time_seconds + 5 - (time.monotonic() - began)))
        self._workers_exit.set()
        deadline = began + max(c.drain_timeout, 0.0)
        for thread in self._workers:
            thread.join(max(0.1, deadline - time.monotonic()))
        unfinished = sum(thread.is_alive() for thread in self._workers)
        if unfinished:
            LOG.warning(
                "drain timeout: posts still running; their messages return after VisibilityTimeout",
                extra={"unfinished": unfinished},
            )
        # Messages received but not started are released at once (visibility 0) by the workers; if workers are
        # stuck, release what is still queued here.
        while True:
            try:
                message = self._work.get_nowait()
            except queue.Empty:
                break
            self._release(message)
        self.deleter.stop(timeout=10)
        self.visibility.stop(timeout=10)
        self._set_state("stopped")
        if self.publisher is not None:
            self.publisher.flush(self.metrics)
        self._write_status()
        LOG.info("stopped", extra=self.metrics.snapshot()["counters"])
        self._stopped.set()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._write_status()

    def _check_queue(self) -> None:
        try:
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.config.worker_queue_url, AttributeNames=["All"])
        except Exception as exc:
            self.last_error = str(exc)
            LOG.error("cannot read the worker queue; will keep trying", extra={"error": str(exc)})
            return
        redrive = attrs.get("Attributes", {}).get("RedrivePolicy")
        if not redrive:
            LOG.warning("the worker queue has no redrive policy: failing messages are retried until RetentionPeriod")
            return
        import json

        max_receive = int(json.loads(redrive).get("maxReceiveCount", 0))
        if max_receive != self.config.max_retries:
            LOG.warning(
                "queue redrive maxReceiveCount differs from MaxRetries",
                extra={"maxReceiveCount": max_receive, "MaxRetries": self.config.max_retries},
            )

    def _wait_healthy(self) -> None:
        c = self.config
        url = c.health_url
        host, port, path = c.host, c.port, url
        if url.startswith("http"):
            parts = urlsplit(url)
            host, port = parts.hostname or c.host, parts.port or 80
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
        client = AppClient(host, port, c.connect_timeout, c.inactivity_timeout)
        logged = 0.0
        try:
            while not self._stop.is_set():
                try:
                    status = client.get(path)
                    detail = f"HTTP {status}"
                except PostError as exc:
                    status, detail = None, str(exc)
                if status == 200:
                    LOG.info("application is healthy; starting delivery", extra={"health_url": url})
                    return
                if time.monotonic() - logged > 10:
                    LOG.info("waiting for the application to be healthy", extra={"health_url": url, "last": detail})
                    logged = time.monotonic()
                self._stop.wait(c.health_check_interval)
        finally:
            client.close()

    # -- receiving ------------------------------------------------------------------------------------------
    def _receive_loop(self) -> None:
        c = self.config
        backoff = 0.5
        while not self._stop.is_set():
            want = self.credits.take(10, self._stop)
            if want == 0:
                continue
            try:
                response = self.sqs.receive_message(
                    QueueUrl=c.worker_queue_url,
                    MaxNumberOfMessages=want,
                    WaitTimeSeconds=c.wait_time_seconds,
                    VisibilityTimeout=c.visibility_timeout,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception as exc:
                self.credits.give(want)
                self.last_error = str(exc)
                LOG.warning("receive failed; retrying", extra={"error": str(exc), "backoff": backoff})
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            messages = response.get("Messages") or []
            self.credits.give(want - len(messages))
            if not messages:
                continue
            self.last_receive_at = time.time()
            self.metrics.incr("Received", len(messages))
            now = self.clock.now()
            for message in messages:
                if self._stop.is_set():
                    self._release(message)
                elif self._expired(message, now):
                    pass
                else:
                    if int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1")) > 1:
                        self.metrics.incr("Retried")
                    self._work.put(message)

    def _expired(self, message: dict, now: float) -> bool:
        sent = (message.get("Attributes") or {}).get("SentTimestamp")
        if sent is None:
            return False
        age = now - int(sent) / 1000.0
        if age <= self.config.retention_period:
            return False
        self.metrics.incr("Expired")
        LOG.warning(
            "message older than RetentionPeriod deleted without posting",
            extra={
                "message_id": message["MessageId"],
                "age_seconds": round(age, 3),
                "retention_period": self.config.retention_period,
            },
        )
        self._ack(self.deleter, message)
        return True

    def _ack(self, batcher: Batcher, message: dict, visibility: int | None = None) -> None:
        """Queue a delete or visibility change; the message's credit comes back once SQS answered."""
        batcher.add(
            Entry(message["ReceiptHandle"], message["MessageId"], visibility=visibility, on_done=self._credit_back)
        )

    def _credit_back(self, _ok: bool) -> None:
        self.credits.give(1)

    def _release(self, message: dict) -> None:
        self._ack(self.visibility, message, visibility=0)

    # -- delivering -----------------------------------------------------------------------------------------
    def _work_loop(self) -> None:
        c = self.config
        client = AppClient(c.host, c.port, c.connect_timeout, c.inactivity_timeout)
        try:
            while True:
                try:
                    message = self._work.get(timeout=0.2)
                except queue.Empty:
                    if self._workers_exit.is_set():
                        return
                    continue
                if self._stop.is_set():
                    self._release(message)
                    continue
                try:
                    self._deliver(client, message)
                except Exception:
                    # Never lose the message (or its credit) to a bug: it comes back after ErrorVisibilityTimeout;
                    # and never leave a half-used connection to the next message.
                    LOG.exception("delivery crashed", extra={"message_id": message.get("MessageId")})
                    client.close()
                    self._ack(self.visibility, message, visibility=self.config.error_visibility_timeout)
        finally:
            client.close()

    def _deliver(self, client: AppClient, message: dict) -> None:
        c = self.config
        try:
            request = contract.build_request(message, c.queue_name, c.http_path, c.mime_type)
        except contract.BadMessage as exc:
            self.metrics.incr("Failed")
            self._ack(self.visibility, message, visibility=c.error_visibility_timeout)
            LOG.warning(
                "message cannot be posted; it will be retried and dead-lettered after MaxRetries",
                extra={"message_id": message.get("MessageId"), "error": str(exc), "error_kind": "bad_message"},
            )
            return
        self.metrics.add_gauge("InFlight", 1)
        began = time.monotonic()
        status: int | None = None
        error: PostError | None = None
        try:
            status = client.request("POST", request.path, request.body, request.headers).status
        except PostError as exc:
            error = exc
        finally:
            self.metrics.add_gauge("InFlight", -1)
        elapsed_ms = (time.monotonic() - began) * 1000.0
        self.metrics.incr("Posted")
        self.metrics.time("Latency", elapsed_ms)
        if status == 200:
            self.metrics.incr("Succeeded")
            self._ack(self.deleter, message)
            if LOG.isEnabledFor(logging.DEBUG):
                LOG.debug("delivered", extra={"message_id": message["MessageId"], "ms": round(elapsed_ms, 1)})
            return
        self.metrics.incr("Failed")
        self._ack(self.visibility, message, visibility=c.error_visibility_timeout)
        LOG.warning(
            "delivery failed; message will be retried",
            extra={
                "message_id": message["MessageId"],
                "path": request.path,
                "status": status,
                "error": str(error) if error else None,
                "error_kind": error.kind if error else "status",
                "receive_count": (message.get("Attributes") or {}).get("ApproximateReceiveCount"),
                "ms": round(elapsed_ms, 1),
            },
        )

    # -- reporting ------------------------------------------------------------------------------------------
    def status_document(self) -> dict:
        snapshot = self.metrics.snapshot()
        return {
            "agent": "webstack-sqsd",
            "version": __version__,
            "pid": os.getpid(),
            "instance_id": self.config.instance_id,
            "queue": self.config.worker_queue_url,
            "state": self.state,
            "started_at": contract.iso8601_seconds(self.started_at),
            "updated_at": contract.iso8601_seconds(time.time()),
            "last_receive_at": contract.iso8601_seconds(self.last_receive_at) if self.last_receive_at else None,
            "last_error": self.last_error,
            "http_connections": self.config.http_connections,
            "in_flight": snapshot["gauges"]["InFlight"],
            "counters": snapshot["counters"],
            "leader": bool(self.scheduler and self.scheduler.election.leader),
            "periodic_tasks": [task.name for task in self.tasks],
        }

    def _write_status(self) -> None:
        if not self.config.status_file:
            return
        try:
            statusfile.write_atomic(self.config.status_file, self.status_document())
        except OSError as exc:
            LOG.warning("cannot write the status file", extra={"path": self.config.status_file, "error": str(exc)})

    def _report_loop(self) -> None:
        c = self.config
        next_status = time.monotonic() + c.status_interval
        next_metrics = time.monotonic() + c.metrics_interval
        while not self._stop.wait(min(c.status_interval, c.metrics_interval, 1.0)):
            now = time.monotonic()
            if now >= next_status:
                self._write_status()
                next_status = now + c.status_interval
            if self.publisher is not None and now >= next_metrics:
                self.publisher.flush(self.metrics)
                next_metrics = now + c.metrics_interval
