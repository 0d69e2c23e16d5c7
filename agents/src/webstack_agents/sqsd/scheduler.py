"""Periodic tasks: one elected leader enqueues each cron.yaml tick into the worker queue, once.

Leadership is a lease in a DynamoDB table (partition key ``pk``, a string), taken and renewed with conditional
writes: an instance may write the item ``leader#<queue>`` only if it is absent, already its own, or expired.
The leader renews every third of the lease; a leader that stops (or dies) is replaced once its lease expires.

Each task has an item ``task#<queue>#<name>`` holding the last tick claimed (``last_tick``) and whether its
message was sent (``state``). A tick is claimed in one transaction that also checks the leader still holds its
lease, so two leaders can never both claim one tick; the message is then sent and the state set to ``sent``.
A tick that was claimed but never marked sent (the leader died in between) is sent by the next leader. The
leader sends the most recent due tick that is newer than the recorded one and younger than MissedTickWindow
(300 s), so a tick missed during a failover is sent once, and older ones are skipped.
"""

from __future__ import annotations

import logging
import threading

from botocore.exceptions import BotoCoreError, ClientError

from webstack_agents.sqsd import contract
from webstack_agents.sqsd.cron import Task

LOG = logging.getLogger(__name__)


def _n(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}" if not float(value).is_integer() else str(int(value))}


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return ""


class LeaderElection:
    def __init__(self, ddb, table: str, scope: str, owner: str, lease: float, clock):
        self.ddb = ddb
        self.table = table
        self.key = {"pk": {"S": f"leader#{scope}"}}
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.leader = False
        self.expires_at = 0.0

    def renew(self) -> bool:
        """Take or extend the lease; returns whether this instance is the leader now."""
        now = self.clock.now()
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={
                    **self.key,
                    "owner": {"S": self.owner},
                    "expires_at": _n(now + self.lease),
                    "renewed_at": _n(now),
                },
                ConditionExpression="attribute_not_exists(pk) OR #o = :me OR #e < :now",
                ExpressionAttributeNames={"#o": "owner", "#e": "expires_at"},
                ExpressionAttributeValues={":me": {"S": self.owner}, ":now": _n(now)},
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                if self.leader:
                    LOG.warning("leadership lost to another instance", extra={"owner": self.owner})
                self.leader = False
                return False
            LOG.warning("leader lease renewal failed", extra={"error": str(exc)})
            return self.is_leader(now)
        except BotoCoreError as exc:
            LOG.warning("leader lease renewal failed", extra={"error": str(exc)})
            return self.is_leader(now)
        if not self.leader:
            LOG.info("became the periodic-task leader", extra={"owner": self.owner, "table": self.table})
        self.leader = True
        self.expires_at = now + self.lease
        return True

    def is_leader(self, now: float) -> bool:
        if self.leader and now >= self.expires_at:
            self.leader = False
        return self.leader

    def release(self) -> None:
        if not self.leader:
            return
        self.leader = False
        try:
            self.ddb.delete_item(
                TableName=self.table,
                Key=self.key,
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": self.owner}},
            )
            LOG.info("released periodic-task leadership", extra={"owner": self.owner})
        except (ClientError, BotoCoreError) as exc:
            LOG.warning("could not release leadership; it expires by itself", extra={"error": str(exc)})

    def condition_check(self, now: float) -> dict:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": self.key,
                "ConditionExpression": "#o = :me AND #e > :now",
                "ExpressionAttributeNames": {"#o": "owner", "#e": "expires_at"},
                "ExpressionAttributeValues": {":me": {"S": self.owner}, ":now": _n(now)},
            }
        }


class PeriodicScheduler:
    def __init__(
        self,
        tasks: list[Task],
        ddb,
        sqs,
        table: str,
        queue_url: str,
        scope: str,
        election,
        clock,
        window: float = 300,
        interval: float = 1.0,
        metrics=None,
    ):
        self.tasks = tasks
        self.ddb = ddb
        self.sqs = sqs
        self.table = table
        self.queue_url = queue_url
        self.scope = scope
        self.election = election
        self.clock = clock
        self.window = window
        self.interval = interval
        self.metrics = metrics
        self.enqueued: list[tuple[str, int]] = []
        self._known: dict[str, float] = {}
        self._next_renew = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- loop ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="sqsd-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:
                    LOG.exception("periodic task check failed")
                self._stop.wait(self.interval)
        finally:
            self.election.release()

    def step(self) -> None:
        now = self.clock.now()
        if now >= self._next_renew or not self.election.is_leader(now):
            was_leader = self.election.leader
            self.election.renew()
            self._next_renew = now + self.election.lease / 3.0
            if self.election.leader and not was_leader:
                self._known.clear()
        if not self.election.is_leader(self.clock.now()):
            return
        for task in self.tasks:
            self._maybe_enqueue(task, self.clock.now())

    # -- one task -------------------------------------------------------------------------------------------
    def _key(self, task: Task) -> dict:
        return {"pk": {"S": f"task#{self.scope}#{task.name}"}}

    def _maybe_enqueue(self, task: Task, now: float) -> None:
        tick = task.schedule.latest_tick(now, self.window)
        if tick is None or tick <= self._known.get(task.name, -1):
            return
        if not self._claim(task, tick, now, retake=False):
            item = self._read(task)
            last = float(item.get("last_tick", {}).get("N", "-1"))
            state = item.get("state", {}).get("S", "")
            if last == tick and state == "pending":
                # Claimed but never marked sent (the claimer died, or our own send failed): we lead now, send it.
                if not self._claim(task, tick, self.clock.now(), retake=True):
                    return
            else:
                self._known[task.name] = max(last, self._known.get(task.name, -1))
                return
        if self._send(task, tick):
            self._mark_sent(task, tick)
            self._known[task.name] = tick

    def _claim(self, task: Task, tick: int, now: float, retake: bool) -> bool:
        condition = "#t = :tick AND #s = :pending" if retake else "attribute_not_exists(#t) OR #t < :tick"
        update = {
            "Update": {
                "TableName": self.table,
                "Key": self._key(task),
                "UpdateExpression": (
                    "SET #t = :tick, #s = :pending, claimed_by = :me, claimed_at = :now, task_url = :url"
                ),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#t": "last_tick", "#s": "state"},
                "ExpressionAttributeValues": {
                    ":tick": _n(tick),
                    ":pending": {"S": "pending"},
                    ":me": {"S": self.election.owner},
                    ":now": _n(now),
                    ":url": {"S": task.url},
                },
            }
        }
        try:
            self.ddb.transact_write_items(TransactItems=[self.election.condition_check(now), update])
            return True
        except ClientError as exc:
            if _code(exc) != "TransactionCanceledException":
                LOG.warning("periodic task claim failed", extra={"task": task.name, "error": str(exc)})
                return False
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                LOG.warning("not the leader any more; tick left to the new leader", extra={"task": task.name})
                self.election.leader = False
            return False
        except BotoCoreError as exc:
            LOG.warning("periodic task claim failed", extra={"task": task.name, "error": str(exc)})
            return False

    def _read(self, task: Task) -> dict:
        try:
            return self.ddb.get_item(TableName=self.table, Key=self._key(task), ConsistentRead=True).get("Item") or {}
        except (ClientError, BotoCoreError) as exc:
            LOG.warning("periodic task read failed", extra={"task": task.name, "error": str(exc)})
            return {}

    def _send(self, task: Task, tick: int) -> bool:
        scheduled = contract.iso8601_seconds(tick)
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=contract.PERIODIC_BODY,
                MessageAttributes={
                    contract.PATH_ATTR: {"DataType": "String", "StringValue": task.url},
                    contract.TASK_NAME_ATTR: {"DataType": "String", "StringValue": task.name},
                    contract.SCHEDULED_TIME_ATTR: {"DataType": "String", "StringValue": scheduled},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            LOG.warning("periodic task enqueue failed; will retry", extra={"task": task.name, "error": str(exc)})
            return False
        self.enqueued.append((task.name, tick))
        if self.metrics is not None:
            self.metrics.incr("PeriodicEnqueued")
        LOG.info("periodic task enqueued", extra={"task": task.name, "scheduled_at": scheduled, "url": task.url})
        return True

    def _mark_sent(self, task: Task, tick: int) -> None:
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(task),
                UpdateExpression="SET #s = :sent",
                ConditionExpression="#t = :tick",
                ExpressionAttributeNames={"#t": "last_tick", "#s": "state"},
                ExpressionAttributeValues={":tick": _n(tick), ":sent": {"S": "sent"}},
            )
        except (ClientError, BotoCoreError) as exc:
            LOG.warning("periodic task state update failed", extra={"task": task.name, "error": str(exc)})
