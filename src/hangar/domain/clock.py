"""Time as the decisions see it: the system's, or a test's that moves only when told."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall-clock time, in UTC (stored in the state store)."""
        ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def as_utc(moment: datetime) -> datetime:
    """A datetime from the store, aware: SQLite gives naive ones back, stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
