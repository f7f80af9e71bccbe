"""The last hour of each app's traffic (from the edge's access log) and of each
machine's CPU and memory (from the engine), in memory, for the dashboard's plots.

Traffic is counted in BUCKET_S buckets: requests by status class and a latency
histogram (domain/latency.py), so memory stays bounded however busy an app is.
A server restart starts the plots afresh.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hangar.domain.latency import bin_of, percentile
from hangar.ports import UsageSample

BUCKET_S = 10
WINDOW_S = 3600
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")


@dataclass
class _Bucket:
    start: float
    by_class: Counter[str] = field(default_factory=Counter)
    latency: Counter[int] = field(default_factory=Counter)


@dataclass(frozen=True)
class TrafficPoint:
    at: float  # the bucket's start, seconds since the epoch
    per_second: dict[str, float]  # by status class
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class UsagePoint:
    at: float
    cpu_percent: float  # of one CPU: 200 is two CPUs busy
    memory_mb: float


class Metrics:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._traffic: dict[str, deque[_Bucket]] = {}
        self._usage: dict[str, dict[str, deque[UsagePoint]]] = {}
        self._last_sample: dict[tuple[str, str], UsageSample] = {}
        self._lock = threading.Lock()

    def record_request(self, app: str, status: int, duration_ms: float) -> None:
        now = self._clock()
        with self._lock:
            buckets = self._traffic.setdefault(app, deque())
            start = now - now % BUCKET_S
            if not buckets or buckets[-1].start != start:
                buckets.append(_Bucket(start))
                _drop_old(buckets, now)
            bucket = buckets[-1]
            bucket.by_class[status_class(status)] += 1
            bucket.latency[bin_of(duration_ms)] += 1

    def record_usage(self, app: str, machine_id: str, sample: UsageSample) -> None:
        """A machine's counters now; the CPU share comes from the change since the last."""
        now = self._clock()
        with self._lock:
            before = self._last_sample.get((app, machine_id))
            self._last_sample[(app, machine_id)] = sample
            if before is None or sample.system_ns <= before.system_ns:
                return
            share = (sample.cpu_ns - before.cpu_ns) / (sample.system_ns - before.system_ns)
            point = UsagePoint(
                now, max(0.0, share * sample.cpus * 100), sample.memory_bytes / 2**20
            )
            points = self._usage.setdefault(app, {}).setdefault(machine_id, deque())
            points.append(point)
            while points and points[0].at < now - WINDOW_S:
                points.popleft()

    def traffic(self, app: str) -> list[TrafficPoint]:
        """The complete buckets of the last hour (the one filling now is not a rate yet)."""
        now = self._clock()
        with self._lock:
            buckets = self._traffic.get(app, ())
            done = [b for b in buckets if now - WINDOW_S < b.start <= now - BUCKET_S]
            return [_point(b) for b in done]

    def stamp(self, app: str) -> tuple[int, float]:
        """Changes whenever traffic() or usage() of `app` would: a key to cache plots by."""
        now = self._clock()
        with self._lock:
            machines = self._usage.get(app, {}).values()
            newest = max((points[-1].at for points in machines if points), default=0.0)
            return int(now // BUCKET_S), newest

    def usage(self, app: str) -> dict[str, list[UsagePoint]]:
        now = self._clock()
        with self._lock:
            machines = self._usage.get(app, {})
            return {
                m: [p for p in points if p.at >= now - WINDOW_S] for m, points in machines.items()
            }

    def forget(self, app: str) -> None:
        with self._lock:
            self._traffic.pop(app, None)
            self._usage.pop(app, None)
            for key in [k for k in self._last_sample if k[0] == app]:
                del self._last_sample[key]


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 200 <= status < 600 else "other"


def _point(bucket: _Bucket) -> TrafficPoint:
    rates = {name: bucket.by_class[name] / BUCKET_S for name in STATUS_CLASSES}
    latency = dict(bucket.latency)
    return TrafficPoint(bucket.start, rates, percentile(latency, 0.5), percentile(latency, 0.95))


def _drop_old(buckets: deque[_Bucket], now: float) -> None:
    while buckets and buckets[0].start <= now - WINDOW_S:
        buckets.popleft()
