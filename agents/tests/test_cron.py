"""The cron matcher and cron.yaml parsing (pure logic)."""

from __future__ import annotations

import calendar
import time

import pytest

from webstack_agents.sqsd.cron import CronError, CronSchedule, load_cron_file, parse_cron_yaml


def at(text: str) -> int:
    """'2026-11-30 14:15' (UTC) as epoch seconds."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M"))


def matching_minutes(expression: str, start: str, minutes: int) -> list[int]:
    schedule = CronSchedule.parse(expression)
    base = at(start)
    return [offset for offset in range(minutes) if schedule.matches(base + offset * 60)]


def test_every_minute():
    assert matching_minutes("* * * * *", "2026-11-30 14:00", 5) == [0, 1, 2, 3, 4]


def test_step_over_whole_range():
    assert matching_minutes("*/15 * * * *", "2026-11-30 14:00", 60) == [0, 15, 30, 45]


def test_lists_and_ranges():
    assert matching_minutes("5,10-12 * * * *", "2026-11-30 14:00", 60) == [5, 10, 11, 12]


def test_step_over_a_range_and_from_a_start():
    assert matching_minutes("10-30/10 * * * *", "2026-11-30 14:00", 60) == [10, 20, 30]
    assert matching_minutes("5/20 * * * *", "2026-11-30 14:00", 60) == [5, 25, 45]


def test_hours_are_utc():
    schedule = CronSchedule.parse("30 2 * * *")
    assert schedule.matches(at("2026-11-30 02:30"))
    assert not schedule.matches(at("2026-11-30 03:30"))
    assert schedule.matches(at("2026-11-30 02:30") + 59), "any second of the minute matches"


def test_month_and_day_names():
    schedule = CronSchedule.parse("0 9 * jan,dec mon-fri")
    assert schedule.matches(at("2026-12-01 09:00"))  # a Tuesday in December
    assert not schedule.matches(at("2026-12-05 09:00"))  # a Saturday
    assert not schedule.matches(at("2026-11-30 09:00"))  # November


def test_sunday_is_0_and_7():
    sunday = at("2026-11-29 00:00")
    assert CronSchedule.parse("0 0 * * 0").matches(sunday)
    assert CronSchedule.parse("0 0 * * 7").matches(sunday)
    assert CronSchedule.parse("0 0 * * sun").matches(sunday)
    assert not CronSchedule.parse("0 0 * * 1").matches(sunday)


def test_vixie_day_of_month_or_day_of_week_when_both_restricted():
    schedule = CronSchedule.parse("0 0 13 * fri")
    assert schedule.matches(at("2026-11-13 00:00"))  # Friday the 13th
    assert schedule.matches(at("2026-11-20 00:00"))  # a Friday
    assert schedule.matches(at("2026-10-13 00:00"))  # the 13th, a Tuesday
    assert not schedule.matches(at("2026-11-14 00:00"))  # neither


def test_day_of_month_alone_when_weekday_is_star():
    schedule = CronSchedule.parse("0 0 1 * *")
    assert schedule.matches(at("2026-12-01 00:00"))
    assert not schedule.matches(at("2026-12-02 00:00"))


def test_star_step_in_day_field_counts_as_unrestricted():
    # Vixie: a field starting with '*' is unrestricted for the OR rule, so this is AND: odd days that are Mondays.
    schedule = CronSchedule.parse("0 0 */2 * mon")
    assert schedule.matches(at("2026-11-23 00:00"))  # Monday the 23rd (odd)
    assert not schedule.matches(at("2026-11-30 00:00"))  # Monday the 30th (even)
    assert not schedule.matches(at("2026-11-25 00:00"))  # Wednesday the 25th


def test_nicknames():
    assert CronSchedule.parse("@hourly").matches(at("2026-11-30 14:00"))
    assert not CronSchedule.parse("@hourly").matches(at("2026-11-30 14:01"))
    assert CronSchedule.parse("@daily").matches(at("2026-11-30 00:00"))


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("61 * * * *", "minute field: 61 is out of range 0-59"),
        ("* 24 * * *", "hour field: 24 is out of range 0-23"),
        ("* * 0 * *", "day of month field: 0 is out of range 1-31"),
        ("* * * 13 *", "month field: 13 is out of range 1-12"),
        ("* * * * 8", "day of week field: 8 is out of range 0-7"),
        ("* * * *", "must have 5 fields"),
        ("*/0 * * * *", "step '0' must be a positive number"),
        ("30-10 * * * *", "runs backwards"),
        ("mon * * * *", "minute field: 'mon' is not a number"),
        ("* * * foo *", "month field: 'foo' is not a number or a name"),
        ("1,,2 * * * *", "empty list item"),
    ],
)
def test_invalid_expressions_name_the_field(expression, fragment):
    with pytest.raises(CronError) as info:
        CronSchedule.parse(expression)
    assert fragment in str(info.value)


def test_latest_tick_within_window():
    schedule = CronSchedule.parse("0 * * * *")
    assert schedule.latest_tick(at("2026-11-30 14:00") + 30, 300) == at("2026-11-30 14:00")
    assert schedule.latest_tick(at("2026-11-30 14:04") + 59, 300) == at("2026-11-30 14:00")
    assert schedule.latest_tick(at("2026-11-30 14:05"), 300) is None, "300 s old is too old"
    assert schedule.latest_tick(at("2026-11-30 13:59") + 59, 300) is None, "the previous hour is long past"
    assert CronSchedule.parse("*/5 * * * *").latest_tick(at("2026-11-30 14:07"), 300) == at("2026-11-30 14:05")


def test_cron_yaml_parses_tasks():
    tasks = parse_cron_yaml(
        "version: 1\ncron:\n"
        " - name: backup\n   url: /backup\n   schedule: '0 */12 * * *'\n"
        " - name: audit\n   url: /audit\n   schedule: '@daily'\n"
    )
    assert [(task.name, task.url) for task in tasks] == [("backup", "/backup"), ("audit", "/audit")]
    assert tasks[0].schedule.hours == frozenset({0, 12})


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("version: 2\ncron: []\n", ["version must be 1"]),
        ("cron: []\n", ["version must be 1"]),
        ("version: 1\ncron: {}\n", ["cron must be a list"]),
        ("version: 1\ncron:\n - url: /a\n   schedule: '* * * * *'\n", ["task #1", "field 'name'"]),
        ("version: 1\ncron:\n - name: a\n   schedule: '* * * * *'\n", ["task 'a'", "field 'url'"]),
        ("version: 1\ncron:\n - name: a\n   url: a\n   schedule: '* * * * *'\n", ["task 'a'", "field 'url'"]),
        ("version: 1\ncron:\n - name: a\n   url: /a\n", ["task 'a'", "field 'schedule'"]),
        ("version: 1\ncron:\n - name: a\n   url: /a\n   schedule: '* * * *'\n", ["task 'a'", "field 'schedule'"]),
        ("version: 1\ncron:\n - name: a\n   url: /a\n   schedule: '0 0 32 * *'\n", ["task 'a'", "day of month"]),
        (
            "version: 1\ncron:\n - name: a\n   url: /a\n   schedule: '* * * * *'\n"
            " - name: a\n   url: /b\n   schedule: '* * * * *'\n",
            ["task 'a'", "more than one task"],
        ),
        ("version: 1\ncron:\n - name: a\n   url: /a\n   schedule: '* * * * *'\n   when: now\n", ["unknown field"]),
        ("version: 1\ncron: [\n", ["not valid YAML"]),
    ],
)
def test_bad_cron_yaml_names_the_task_and_field(text, fragments):
    with pytest.raises(CronError) as info:
        parse_cron_yaml(text, source="cron.yaml")
    for fragment in fragments:
        assert fragment in str(info.value)


def test_missing_cron_file_means_no_tasks(tmp_path):
    assert load_cron_file(str(tmp_path / "absent.yaml")) == []
