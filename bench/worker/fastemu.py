"""tools/awsemu.py with two emulator-only fixes, for throughput benchmarks on large queues.

moto 5.2.5 builds *all* of a queue's attributes, which counts every message in the queue three times, in two
per-message paths: the retention check of each received message, and the ContentBasedDeduplication lookup of
each sent message. Receiving or sending one message therefore costs O(queue length): about 70 ms per message
with 1 000 queued, and filling a queue with 10 000 messages takes most of an hour. Those costs are moto's,
not SQS's, and would hide what any consumer does. Here:

1. the retention check reads the queue's retention period directly;
2. the three ApproximateNumberOfMessages* counts are only computed inside GetQueueAttributes (where they are
   asked for); elsewhere they read as 0 (no other code path uses them for SQS semantics).

Nothing else is changed: the counting and fault-injecting layer, receive/delete/visibility semantics (including
moto's O(queue length) DeleteMessage scan) are tools/awsemu.py's and moto's own.

    python bench/worker/fastemu.py serve --port 0     # like tools/awsemu.py serve
"""

from __future__ import annotations

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import awsemu  # noqa: E402


def patch_moto() -> None:
    import threading

    from moto.core.utils import unix_time
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        queue = self.get_queue(queue_name)
        return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period

    local = threading.local()

    def counted_only_when_asked(original):
        def fget(self):
            return original.fget(self) if getattr(local, "counting", False) else 0

        return property(fget)

    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        setattr(Queue, name, counted_only_when_asked(getattr(Queue, name)))

    original_get_queue_attributes = SQSBackend.get_queue_attributes

    def get_queue_attributes(self, *args, **kwargs):
        local.counting = True
        try:
            return original_get_queue_attributes(self, *args, **kwargs)
        finally:
            local.counting = False

    SQSBackend.get_queue_attributes = get_queue_attributes


class FastEmulator(awsemu.Emulator):
    """awsemu.Emulator, started through this file so the fix above is applied in the server process."""

    def start(self, timeout: float = 60.0):
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "serve", "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        awsemu.wait_ready(self.endpoint, timeout, self.proc)
        return self


if __name__ == "__main__":
    patch_moto()
    sys.exit(awsemu.main())
