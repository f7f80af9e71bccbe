"""Log lines the platform writes about an app's machines, kept in memory per app.

`hangar logs` merges them with the machines' own lines, tagged with the
machine id, so a crash and its restart show up where the user looks:

    2026-01-01 12:00:00.000 3f2a… [platform] Machine exited (oom killed); restarting (1/10)

The ring also keeps the last lines of a container the platform replaced (a
crashed machine restarts in a fresh container, as a fly.io machine gets a
fresh root file system), so the output before a crash is not lost with it.
Lines live in the server's memory: a restart of `hangar server` forgets them;
the machine's restart count and last exit are in the store.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from hangar.ports import LogLine

PREFIX = "[platform] "
LINES_PER_APP = 200
EDGE_PREFIX = "[edge] "
EDGE_LINES_PER_APP = 1000  # one per request: `hangar logs --edge` shows the latest


def edge_access_log() -> PlatformLog:
    """The edge's lines per app: one per request it served (edge/access_log.py)."""
    return PlatformLog(EDGE_LINES_PER_APP, EDGE_PREFIX)


def timestamp() -> str:
    """Now, as Docker stamps its log lines (RFC 3339, nanoseconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


class _Ring:
    """The last lines of one app, and how many were ever written (to follow it)."""

    def __init__(self, size: int) -> None:
        self.lines: deque[LogLine] = deque(maxlen=size)
        self.written = 0

    def since(self, written: int) -> list[LogLine]:
        fresh = min(self.written - written, len(self.lines))
        return list(self.lines)[len(self.lines) - fresh :] if fresh > 0 else []


class PlatformLog:
    """Lines about each app's machines, written by one part of the platform (its
    `prefix` says which: the control plane, or the edge's access log)."""

    def __init__(self, lines_per_app: int = LINES_PER_APP, prefix: str = PREFIX) -> None:
        self._rings: dict[str, _Ring] = {}
        self._size = lines_per_app
        self._prefix = prefix
        self._changed = threading.Condition()

    def write(self, app: str, machine_id: str, message: str) -> LogLine:
        """Record what the platform did to a machine."""
        line = LogLine(machine_id, timestamp(), self._prefix + message)
        self.keep(app, [line])
        return line

    def keep(self, app: str, lines: Iterable[LogLine]) -> None:
        with self._changed:
            ring = self._rings.setdefault(app, _Ring(self._size))
            for line in lines:
                ring.lines.append(line)
                ring.written += 1
            self._changed.notify_all()

    def lines(self, app: str, machine_id: str | None = None, tail: int = 100) -> list[LogLine]:
        with self._changed:
            ring = self._rings.get(app)
            kept = list(ring.lines) if ring else []
        chosen = [line for line in kept if machine_id in (None, line.machine_id)]
        return chosen[-tail:] if tail > 0 else []

    def forget(self, app: str) -> None:
        with self._changed:
            self._rings.pop(app, None)

    def follow(
        self,
        app: str,
        machine_id: str | None,
        stopped: threading.Event,
        tail: int = 0,
        poll_s: float = 1.0,
    ) -> Iterator[LogLine]:
        """The last `tail` lines, then those written from this call on, until `stopped`."""
        with self._changed:
            ring = self._rings.setdefault(app, _Ring(self._size))
            start = ring.written - min(max(tail, 0), len(ring.lines))
        return self._follow(ring, start, machine_id, stopped, poll_s)

    def _follow(
        self,
        ring: _Ring,
        seen: int,
        machine_id: str | None,
        stopped: threading.Event,
        poll_s: float,
    ) -> Iterator[LogLine]:
        while not stopped.is_set():
            with self._changed:
                if ring.written == seen:
                    self._changed.wait(poll_s)
                fresh, seen = ring.since(seen), ring.written
            yield from (line for line in fresh if machine_id in (None, line.machine_id))
