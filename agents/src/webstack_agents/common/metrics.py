"""Counters, gauges and latency statistics, published to CloudWatch in periodic batches.

Nothing is sent per event: :meth:`Metrics.flush` turns everything gathered since the previous flush into a
few ``PutMetricData`` calls (a counter becomes a Sum, a latency a StatisticSet, a gauge its last value).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

LOG = logging.getLogger(__name__)

# PutMetricData accepts up to 1000 datums per call; stay well below.
_BATCH = 500


class Metrics:
    def __init__(self, counters: tuple[str, ...] = (), gauges: tuple[str, ...] = (), timers: tuple[str, ...] = ()):
        self._lock = threading.Lock()
        self._counter_names = counters
        self._gauge_names = gauges
        self._timer_names = timers
        self.totals: dict[str, int] = dict.fromkeys(counters, 0)
        self._deltas: dict[str, int] = dict.fromkeys(counters, 0)
        self.gauges: dict[str, float] = dict.fromkeys(gauges, 0)
        self._timers: dict[str, list[float]] = {name: [0, 0.0, 0.0, 0.0] for name in timers}

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.totals[name] += amount
            self._deltas[name] += amount

    def gauge(self, name: str, value: float) -> None:
        with self._lock:
            self.gauges[name] = value

    def add_gauge(self, name: str, amount: float) -> float:
        with self._lock:
            self.gauges[name] += amount
            return self.gauges[name]

    def time(self, name: str, milliseconds: float) -> None:
        with self._lock:
            stat = self._timers[name]
            if stat[0] == 0:
                stat[2] = stat[3] = milliseconds
            else:
                stat[2] = min(stat[2], milliseconds)
                stat[3] = max(stat[3], milliseconds)
            stat[0] += 1
            stat[1] += milliseconds

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"counters": dict(self.totals), "gauges": dict(self.gauges)}

    def take(self) -> tuple[dict[str, int], dict[str, float], dict[str, list[float]]]:
        """Return and reset what was gathered since the last call."""
        with self._lock:
            deltas, self._deltas = self._deltas, dict.fromkeys(self._counter_names, 0)
            timers, self._timers = self._timers, {name: [0, 0.0, 0.0, 0.0] for name in self._timer_names}
            return deltas, dict(self.gauges), timers

    def restore(self, deltas: dict[str, int], timers: dict[str, list[float]]) -> None:
        """Put back what a failed flush took, so the next flush sends it."""
        with self._lock:
            for name, value in deltas.items():
                self._deltas[name] += value
            for name, (count, total, low, high) in timers.items():
                if not count:
                    continue
                stat = self._timers[name]
                if stat[0] == 0:
                    stat[2], stat[3] = low, high
                else:
                    stat[2], stat[3] = min(stat[2], low), max(stat[3], high)
                stat[0] += count
                stat[1] += total


class CloudWatchPublisher:
    """Publishes a :class:`Metrics` to one CloudWatch namespace under one or more dimension sets."""

    def __init__(self, client, namespace: str, dimension_sets: list[dict[str, str]], units: dict[str, str]):
        self.client = client
        self.namespace = namespace
        self.dimension_sets = dimension_sets
        self.units = units
        self.calls = 0

    def datums(self, deltas, gauges, timers, timestamp: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for dims in self.dimension_sets:
            dimensions = [{"Name": key, "Value": value} for key, value in dims.items()]
            common = {"Dimensions": dimensions, "Timestamp": timestamp}
            for name, value in deltas.items():
                out.append({"MetricName": name, "Value": value, "Unit": self.units.get(name, "Count"), **common})
            for name, value in gauges.items():
                out.append({"MetricName": name, "Value": value, "Unit": self.units.get(name, "Count"), **common})
            for name, (count, total, low, high) in timers.items():
                if count:
                    stats = {"SampleCount": count, "Sum": total, "Minimum": low, "Maximum": high}
                    unit = self.units.get(name, "Milliseconds")
                    out.append({"MetricName": name, "StatisticValues": stats, "Unit": unit, **common})
        return out

    def flush(self, metrics: Metrics, now: float | None = None) -> bool:
        deltas, gauges, timers = metrics.take()
        data = self.datums(deltas, gauges, timers, now if now is not None else time.time())
        try:
            for start in range(0, len(data), _BATCH):
                self.client.put_metric_data(Namespace=self.namespace, MetricData=data[start : start + _BATCH])
                self.calls += 1
        except Exception as exc:
            LOG.warning("metrics publish failed; will retry with the next batch", extra={"error": str(exc)})
            metrics.restore(deltas, timers)
            return False
        return True
