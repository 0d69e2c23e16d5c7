"""Injectable wall clocks: the real one, and ones tests can shift or speed up."""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time in epoch seconds (UTC)."""

    def now(self) -> float:
        return time.time()


class ManualClock(Clock):
    """A clock that only moves when told to (``set`` / ``advance``)."""

    def __init__(self, start: float):
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def set(self, value: float) -> None:
        with self._lock:
            self._now = float(value)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class FastClock(Clock):
    """A clock starting at ``start`` that runs ``speed`` times faster than real time (``shift`` jumps it)."""

    def __init__(self, start: float, speed: float = 1.0):
        self._origin = time.monotonic()
        self._start = float(start)
        self.speed = float(speed)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._start + (time.monotonic() - self._origin) * self.speed

    def shift(self, seconds: float) -> None:
        with self._lock:
            self._start += seconds
