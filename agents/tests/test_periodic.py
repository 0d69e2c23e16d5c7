"""Periodic tasks: leader election in DynamoDB, one message per tick, failover, missed ticks."""

from __future__ import annotations

import calendar
import time
import uuid

import pytest
from conftest import wait_for

from webstack_agents.common import aws
from webstack_agents.common.clock import FastClock, ManualClock
from webstack_agents.sqsd.cron import CronSchedule, Task
from webstack_agents.sqsd.scheduler import LeaderElection, PeriodicScheduler

NOON = calendar.timegm(time.strptime("2026-11-30 12:00", "%Y-%m-%d %H:%M"))


@pytest.fixture
def table(ddb):
    name = f"leaders-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def make_scheduler(endpoint, table, queue_url, clock, owner, tasks, lease=60.0):
    ddb = aws.client("dynamodb", region="us-east-1", endpoint_url=endpoint)
    sqs = aws.client("sqs", region="us-east-1", endpoint_url=endpoint)
    scope = queue_url.rsplit("/", 1)[1]
    election = LeaderElection(ddb, table, scope, owner, lease, clock)
    return PeriodicScheduler(tasks, ddb, sqs, table, queue_url, scope, election, clock, window=300, interval=0.01)


def receive_with_attributes(sqs, url):
    out = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return out
        out.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )


def scheduled(sqs, url) -> list[tuple[str, str, str]]:
    result = []
    for message in receive_with_attributes(sqs, url):
        attrs = message["MessageAttributes"]
        result.append(
            (
                attrs["beanstalk.sqsd.task_name"]["StringValue"],
                attrs["beanstalk.sqsd.scheduled_time"]["StringValue"],
                attrs["beanstalk.sqsd.path"]["StringValue"],
            )
        )
    return sorted(result)


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


EVERY_MINUTE = [Task("tick", "/tasks/tick", CronSchedule.parse("* * * * *"))]
TOP_OF_HOUR = [Task("hourly", "/tasks/hourly", CronSchedule.parse("0 * * * *"))]


def test_two_instances_exactly_one_enqueues_each_tick(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON + 1)
    a = make_scheduler(endpoint, table, url, clock, "a", EVERY_MINUTE)
    b = make_scheduler(endpoint, table, url, clock, "b", EVERY_MINUTE)
    for _unused in range(15):  # five minutes in 20 s steps, both instances checking every step
        a.step()
        b.step()
        clock.advance(20)
    assert (a.election.leader, b.election.leader) == (True, False)
    assert b.enqueued == []
    expected = [("tick", iso(NOON + 60 * minute), "/tasks/tick") for minute in range(5)]
    assert scheduled(sqs, url) == expected


def test_new_leader_takes_over_when_the_old_one_dies(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON + 1)
    a = make_scheduler(endpoint, table, url, clock, "a", EVERY_MINUTE, lease=60)
    b = make_scheduler(endpoint, table, url, clock, "b", EVERY_MINUTE, lease=60)
    a.step()
    b.step()
    assert a.election.leader and not b.election.leader
    # 'a' dies without releasing: 'b' must wait for the lease to expire, then lead.
    for _unused in range(10):
        clock.advance(10)
        b.step()
    assert b.election.leader
    assert [tick for _unused, tick in a.enqueued] == [NOON]
    assert [tick for _unused, tick in b.enqueued] == [NOON + 60], "the tick 'a' already sent is not sent again"
    for _unused in range(12):
        clock.advance(10)
        b.step()
    assert scheduled(sqs, url) == [("tick", iso(NOON + 60 * m), "/tasks/tick") for m in range(4)]


def test_a_stopping_leader_releases_at_once(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON + 1)
    a = make_scheduler(endpoint, table, url, clock, "a", EVERY_MINUTE, lease=600)
    b = make_scheduler(endpoint, table, url, clock, "b", EVERY_MINUTE, lease=600)
    a.step()
    b.step()
    a.election.release()
    clock.advance(60)
    b.step()
    assert b.election.leader, "no need to wait 600 s for the lease"
    assert scheduled(sqs, url) == [("tick", iso(NOON), "/tasks/tick"), ("tick", iso(NOON + 60), "/tasks/tick")]


def test_a_deposed_leader_cannot_enqueue(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON - 30)
    a = make_scheduler(endpoint, table, url, clock, "a", EVERY_MINUTE, lease=60)
    b = make_scheduler(endpoint, table, url, clock, "b", EVERY_MINUTE, lease=60)
    a.step()
    clock.advance(70)  # a's lease expired; b takes over
    b.step()
    assert b.election.leader
    # 'a' still believes it leads (it was paused); its claim is refused by the leader check in the transaction.
    before = list(a.enqueued)
    clock.advance(30)  # a new tick (12:01) is due
    a.election.leader, a.election.expires_at = True, clock.now() + 60
    a._next_renew = clock.now() + 1000
    a.step()
    assert a.enqueued == before and not a.election.leader
    b.step()
    assert scheduled(sqs, url) == [("tick", iso(NOON + 60 * m), "/tasks/tick") for m in (-1, 0, 1)]


def test_missed_tick_is_sent_once_by_the_new_leader(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON - 120)
    a = make_scheduler(endpoint, table, url, clock, "a", TOP_OF_HOUR, lease=120)
    b = make_scheduler(endpoint, table, url, clock, "b", TOP_OF_HOUR, lease=120)
    c = make_scheduler(endpoint, table, url, clock, "c", TOP_OF_HOUR, lease=120)
    a.step()
    b.step()
    assert a.election.leader
    clock.set(NOON - 30)  # 'a' renews, then dies before 12:00; its lease runs until 12:01:30
    a.step()
    clock.set(NOON + 95)
    b.step()
    assert b.election.leader, "b leads once a's lease expired"
    for _unused in range(5):
        clock.advance(5)
        b.step()
    b.election.release()
    clock.advance(10)
    c.step()  # a third leader: the tick is recorded as sent, so it is not sent again
    assert c.election.leader
    assert scheduled(sqs, url) == [("hourly", iso(NOON), "/tasks/hourly")]


def test_missed_tick_older_than_300_seconds_is_not_sent(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON - 30)
    a = make_scheduler(endpoint, table, url, clock, "a", TOP_OF_HOUR, lease=400)
    b = make_scheduler(endpoint, table, url, clock, "b", TOP_OF_HOUR, lease=400)
    a.step()
    clock.set(NOON + 371)  # a died at 11:59:30; its lease ran out at 12:06:10
    b.step()
    assert b.election.leader
    assert scheduled(sqs, url) == []


def test_claimed_but_unsent_tick_is_sent_by_the_next_leader(endpoint, table, queues, sqs):
    url, _unused = queues.create()
    clock = ManualClock(NOON + 5)
    a = make_scheduler(endpoint, table, url, clock, "a", TOP_OF_HOUR, lease=30)
    b = make_scheduler(endpoint, table, url, clock, "b", TOP_OF_HOUR, lease=30)
    assert a.election.renew()
    assert a._claim(TOP_OF_HOUR[0], NOON, clock.now(), retake=False)  # ...and 'a' dies before sending
    clock.advance(40)
    b.step()
    assert b.election.leader
    b.step()
    assert scheduled(sqs, url) == [("hourly", iso(NOON), "/tasks/hourly")]


def test_periodic_tasks_end_to_end_with_two_daemons(endpoint, table, queues, app, run_daemon, tmp_path):
    """Two daemons, a clock running 30x (one cron minute per 2 s): each tick POSTed once, with failover."""
    url, _unused = queues.create()
    cron = tmp_path / "cron.yaml"
    cron.write_text("version: 1\ncron:\n - name: report\n   url: /tasks/report\n   schedule: '* * * * *'\n")
    clock = FastClock(NOON + 50, speed=30)
    options = {
        "CronFile": str(cron),
        "LeaderTable": table,
        "LeaderLeaseSeconds": 30,
        "SchedulerInterval": 0.05,
        "HttpConnections": 4,
    }
    first = run_daemon(url, app.port, clock=clock, InstanceId="i-one", **options)
    second = run_daemon(url, app.port, clock=clock, InstanceId="i-two", **options)
    wait_for(lambda: len(app.posts("/tasks/")) >= 3, 40, message="3 periodic POSTs")
    leader = first if first.daemon.scheduler.election.leader else second
    follower = second if leader is first else first
    assert not follower.daemon.scheduler.election.leader
    leader.stop()
    wait_for(lambda: follower.daemon.scheduler.election.leader, 10, message="failover")
    count = len(app.posts("/tasks/"))
    wait_for(lambda: len(app.posts("/tasks/")) >= count + 3, 40, message="3 more periodic POSTs after failover")
    follower.stop()
    posts = app.posts("/tasks/")
    stamps = [seen.header("X-Aws-Sqsd-Scheduled-At") for seen in posts if seen.status == 200]
    assert len(stamps) == len(set(stamps)), "each tick is delivered once"
    epochs = sorted(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) for stamp in stamps)
    assert epochs == list(range(epochs[0], epochs[-1] + 60, 60)), "no tick is skipped across the failover"
    for seen in posts:
        assert seen.path == "/tasks/report"
        assert seen.body == b""
        assert seen.header("X-Aws-Sqsd-Taskname") == "report"
        assert seen.header("X-Aws-Sqsd-Msgid")
        assert not any(key.lower().startswith("x-aws-sqsd-attr-") for key, _unused in seen.headers)
    enqueued = first.daemon.scheduler.enqueued + second.daemon.scheduler.enqueued
    assert len(enqueued) == len(set(enqueued))
