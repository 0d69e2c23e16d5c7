"""Batched SQS acknowledgements: DeleteMessageBatch and ChangeMessageVisibilityBatch, ten entries a call.

Entries wait in a queue; a sender thread takes whatever is waiting (up to ten) and makes one call, so batches
fill up naturally under load and a lone entry is still sent at once. Entries that fail for a transient reason
(a throttled or failed call after botocore's own retries, or a batch entry failure marked as a server fault)
are retried with backoff; an entry is only given up when SQS says its receipt handle is no longer valid, in
which case the message simply becomes visible again (at-least-once, nothing lost).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)

_MAX_BATCH = 10


@dataclass
class Entry:
    receipt_handle: str
    message_id: str
    visibility: int | None = None
    attempts: int = 0
    not_before: float = 0.0
    on_done: Callable[[bool], None] | None = field(default=None, repr=False)


class Batcher:
    """kind is 'delete' or 'visibility'."""

    def __init__(self, sqs, queue_url: str, kind: str, threads: int = 1, max_attempts: int = 8):
        self.sqs = sqs
        self.queue_url = queue_url
        self.kind = kind
        self.max_attempts = max_attempts
        self._queue: queue.Queue[Entry] = queue.Queue()
        self._retry: list[Entry] = []
        self._retry_lock = threading.Lock()
        self._stop = threading.Event()
        self._pending = 0
        self._pending_lock = threading.Condition()
        self.calls = 0
        self.dropped = 0
        self._threads = [
            threading.Thread(target=self._run, name=f"sqsd-{kind}-{index}", daemon=True) for index in range(threads)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def add(self, entry: Entry) -> None:
        with self._pending_lock:
            self._pending += 1
        self._queue.put(entry)

    @property
    def pending(self) -> int:
        with self._pending_lock:
            return self._pending

    def flush(self, timeout: float) -> bool:
        """Wait until every entry added so far was sent (or given up); True if that happened in time."""
        deadline = time.monotonic() + timeout
        with self._pending_lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._pending_lock.wait(min(remaining, 0.1))
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def _done(self, entry: Entry, ok: bool) -> None:
        if entry.on_done is not None:
            try:
                entry.on_done(ok)
            except Exception:
                LOG.exception("batch completion callback failed")
        with self._pending_lock:
            self._pending -= 1
            self._pending_lock.notify_all()

    def _take(self) -> list[Entry]:
        batch: list[Entry] = []
        now = time.monotonic()
        with self._retry_lock:
            ready = [entry for entry in self._retry if entry.not_before <= now]
            for entry in ready[:_MAX_BATCH]:
                self._retry.remove(entry)
                batch.append(entry)
        if not batch:
            try:
                batch.append(self._queue.get(timeout=0.2))
            except queue.Empty:
                return batch
        while len(batch) < _MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take()
            if batch:
                self._send(batch)

    def _send(self, batch: list[Entry]) -> None:
        entries = []
        for index, entry in enumerate(batch):
            item = {"Id": str(index), "ReceiptHandle": entry.receipt_handle}
            if self.kind == "visibility":
                item["VisibilityTimeout"] = entry.visibility
            entries.append(item)
        try:
            self.calls += 1
            if self.kind == "delete":
                result = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            else:
                result = self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception as exc:
            LOG.warning("%s batch failed; will retry", self.kind, extra={"error": str(exc), "entries": len(batch)})
            for entry in batch:
                self._retry_later(entry, str(exc))
            return
        for item in result.get("Successful", []):
            self._done(batch[int(item["Id"])], True)
        for item in result.get("Failed", []):
            entry = batch[int(item["Id"])]
            if item.get("SenderFault", True):
                # Typically ReceiptHandleIsInvalid / MessageNotInflight: the message is visible again or gone.
                self.dropped += 1
                LOG.warning(
                    "%s rejected by SQS; the message will be received again",
                    self.kind,
                    extra={"message_id": entry.message_id, "code": item.get("Code"), "error": item.get("Message")},
                )
                self._done(entry, False)
            else:
                self._retry_later(entry, item.get("Code", "error"))

    def _retry_later(self, entry: Entry, reason: str) -> None:
        entry.attempts += 1
        if entry.attempts >= self.max_attempts:
            self.dropped += 1
            LOG.error(
                "%s gave up; the message will be received again",
                self.kind,
                extra={"message_id": entry.message_id, "error": reason},
            )
            self._done(entry, False)
            return
        entry.not_before = time.monotonic() + min(0.2 * 2**entry.attempts, 10.0)
        with self._retry_lock:
            self._retry.append(entry)
