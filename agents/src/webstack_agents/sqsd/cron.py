"""cron.yaml: periodic tasks, and a small five-field cron matcher (UTC, Vixie semantics).

Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day of week (0-7, 0 and 7 are
Sunday, or sun-sat). Each field is ``*`` or a comma list of ``N``, ``A-B``, ``*/S``, ``A-B/S`` or ``N/S``.
When both day fields are restricted (neither starts with ``*``), a day matches if either matches (Vixie cron).
The nicknames @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly are accepted.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

import yaml

_MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

# (label, low, high, names)
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)

_NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """A cron expression or cron.yaml is invalid; the message names the task and field."""


def _value(token: str, low: int, high: int, names: dict[str, int], label: str) -> int:
    text = token.lower()
    if text in names:
        return names[text]
    if not text.isdigit():
        raise CronError(f"{label} field: {token!r} is not a number{' or a name' if names else ''}")
    number = int(text)
    if number < low or number > high:
        raise CronError(f"{label} field: {number} is out of range {low}-{high}")
    return number


def _parse_field(text: str, low: int, high: int, names: dict[str, int], label: str) -> frozenset[int]:
    values: set[int] = set()
    if not text:
        raise CronError(f"{label} field is empty")
    for part in text.split(","):
        step = 1
        stepped = "/" in part
        if stepped:
            part, _unused, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{label} field: step {step_text!r} must be a positive number")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, _unused, last = part.partition("-")
            start = _value(first, low, high, names, label)
            end = _value(last, low, high, names, label)
            if start > end:
                raise CronError(f"{label} field: range {part!r} runs backwards")
        elif part:
            start = _value(part, low, high, names, label)
            # "N/S" means from N to the end of the range, every S.
            end = high if stepped else start
        else:
            raise CronError(f"{label} field: empty list item in {text!r}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_restricted: bool
    weekday_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        if not isinstance(expression, str):
            raise CronError(f"schedule must be a string of five fields, got {expression!r}")
        text = _NICKNAMES.get(expression.strip().lower(), expression.strip())
        parts = text.split()
        if len(parts) != 5:
            raise CronError(f"schedule {expression!r} must have 5 fields (minute hour day month weekday)")
        parsed = [_parse_field(part, *spec[1:3], spec[3], spec[0]) for part, spec in zip(parts, _FIELDS, strict=False)]
        weekdays = frozenset(0 if day == 7 else day for day in parsed[4])
        return cls(
            expression=expression,
            minutes=parsed[0],
            hours=parsed[1],
            days=parsed[2],
            months=parsed[3],
            weekdays=weekdays,
            day_restricted=not parts[2].startswith("*"),
            weekday_restricted=not parts[4].startswith("*"),
        )

    def matches(self, epoch: float) -> bool:
        """True if the UTC minute containing ``epoch`` is a scheduled minute."""
        t = time.gmtime(epoch)
        if t.tm_min not in self.minutes or t.tm_hour not in self.hours or t.tm_mon not in self.months:
            return False
        day_ok = t.tm_mday in self.days
        weekday_ok = ((t.tm_wday + 1) % 7) in self.weekdays  # tm_wday: Monday=0; cron: Sunday=0
        if self.day_restricted and self.weekday_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def latest_tick(self, now: float, window: float) -> int | None:
        """The most recent scheduled minute start at or before ``now`` and less than ``window`` s old, if any."""
        minute = int(now // 60) * 60
        while now - minute < window:
            if self.matches(minute):
                return minute
            minute -= 60
        return None


@dataclass(frozen=True)
class Task:
    name: str
    url: str
    schedule: CronSchedule


_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


def parse_cron_yaml(text: str, source: str = "cron.yaml") -> list[Task]:
    """Parse cron.yaml (``version: 1`` and a ``cron`` list of name / url / schedule) into tasks."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CronError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CronError(f"{source}: must be a mapping with 'version: 1' and a 'cron' list")
    if data.get("version") != 1:
        raise CronError(f"{source}: version must be 1, got {data.get('version')!r}")
    entries = data.get("cron")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise CronError(f"{source}: cron must be a list of tasks")
    tasks: list[Task] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{source}: task #{index + 1}"
        if not isinstance(entry, dict):
            raise CronError(f"{where}: must be a mapping with name, url and schedule")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise CronError(f"{where}: field 'name' must be 1-80 letters, digits, '.', '-' or '_', got {name!r}")
        where = f"{source}: task {name!r}"
        unknown = sorted(set(entry) - {"name", "url", "schedule"})
        if unknown:
            raise CronError(f"{where}: unknown field {unknown[0]!r} (fields are name, url, schedule)")
        if name in seen:
            raise CronError(f"{where}: field 'name' is used by more than one task")
        seen.add(name)
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith("/") or any(ch.isspace() for ch in url):
            raise CronError(f"{where}: field 'url' must be a path starting with '/', got {url!r}")
        schedule_text = entry.get("schedule")
        try:
            schedule = CronSchedule.parse(schedule_text)
        except CronError as exc:
            raise CronError(f"{where}: field 'schedule': {exc}") from None
        tasks.append(Task(name=name, url=url, schedule=schedule))
    return tasks


def load_cron_file(path: str) -> list[Task]:
    """Read cron.yaml; a missing file means no periodic tasks."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CronError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_cron_yaml(text, source=path)
