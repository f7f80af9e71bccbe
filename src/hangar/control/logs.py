"""An app's logs: every machine's lines, tagged with the machine id."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from hangar.control.apps import app_machines, find_app
from hangar.control.platform import Platform
from hangar.control.platform_log import PlatformLog
from hangar.errors import HangarError, NotFound
from hangar.ports import LogLine, LogStream
from hangar.store.database import Database
from hangar.store.models import User

NEW_CONTAINER_LINES = 1000  # a container that appeared while following: all of its lines


def app_logs(
    platform: Platform,
    user: User,
    app: str,
    machine_id: str | None = None,
    tail: int = 100,
    edge: bool = False,
) -> list[LogLine]:
    """The last `tail` lines of every machine and of the platform about them (with
    `edge`, also the edge's line per request), oldest first."""
    lines = [
        line
        for container_id, mid in _containers(platform.db, user, app, machine_id)
        for line in platform.runtime.logs(container_id, mid, tail=tail)
    ]
    for kept in _platform_logs(platform, edge):
        lines += kept.lines(app, machine_id, tail)
    return sorted(lines, key=lambda line: line.timestamp)


def follow_logs(
    platform: Platform,
    user: User,
    app: str,
    machine_id: str | None = None,
    tail: int = 100,
    edge: bool = False,
) -> LogFollow:
    """The last `tail` lines, then new ones live, until the follow is closed.

    Checks the app and machine before returning, so errors come before streaming.
    """
    sources = _containers(platform.db, user, app, machine_id)

    def discover() -> list[tuple[str, str]]:
        return _containers(platform.db, user, app, machine_id)

    own = _PlatformSource(app, machine_id, tuple(_platform_logs(platform, edge)))
    return LogFollow(platform, own, discover).start(sources, tail)


def _platform_logs(platform: Platform, edge: bool) -> list[PlatformLog]:
    return [platform.platform_log, platform.edge_log] if edge else [platform.platform_log]


@dataclass(frozen=True)
class _PlatformSource:
    """The platform's own lines about the app (control/platform_log.py)."""

    app: str
    machine_id: str | None
    logs: tuple[PlatformLog, ...]


def _containers(
    db: Database, user: User, app_name: str, machine_id: str | None
) -> list[tuple[str, str]]:
    with db.session() as session:
        machines = app_machines(session, find_app(session, app_name, user))
    if machine_id is not None:
        machines = [m for m in machines if m.id == machine_id]
        if not machines:
            raise NotFound(f"machine {machine_id} not found in app {app_name}")
    return [(m.container_id, m.id) for m in machines if m.container_id]


class LogFollow:
    """A live follow of an app's logs: the threads and engine streams it reads, all owned.

    Lines from every container (and the ones deploys and restarts make while
    following) and the platform's own lines, merged; None now and then while
    nothing comes. `close()` stops every thread and stream; the server's
    Background closes open follows at shutdown.
    """

    def __init__(
        self,
        platform: Platform,
        own: _PlatformSource,
        discover: Callable[[], list[tuple[str, str]]],
    ) -> None:
        self._platform = platform
        self._own = own
        self._discover = discover
        self._lines: queue.Queue[LogLine] = queue.Queue()
        self._stopped = threading.Event()
        self._streams: dict[str, LogStream] = {}
        self._lock = threading.Lock()

    def start(self, sources: list[tuple[str, str]], tail: int) -> LogFollow:
        self._platform.background.hold(self)
        for kept in self._own.logs:
            own_lines = kept.follow(self._own.app, self._own.machine_id, self._stopped, tail)
            name = f"logs-{self._own.app}-platform"
            self._platform.background.start(name, partial(self._pump, own_lines))
        self._follow_new(sources, tail)
        return self

    def __iter__(self) -> Iterator[LogLine | None]:
        while not self._stopped.is_set():
            try:
                yield self._lines.get(timeout=1.0)
            except queue.Empty:
                self._follow_new(_quietly(self._discover), NEW_CONTAINER_LINES)
                yield None

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:
            stream.close()
        self._platform.background.release(self)

    def _follow_new(self, found: list[tuple[str, str]], lines_back: int) -> None:
        for container_id, machine_id in found:
            if container_id not in self._streams:
                self._follow_container(container_id, machine_id, lines_back)

    def _follow_container(self, container_id: str, machine_id: str, lines_back: int) -> None:
        try:
            stream = self._platform.runtime.logs(
                container_id, machine_id, tail=lines_back, follow=True
            )
        except HangarError:  # gone meanwhile: the next discovery finds its successor
            return
        with self._lock:
            self._streams[container_id] = stream
        if self._stopped.is_set():  # closed while the stream was being opened
            stream.close()
            return
        name = f"logs-{self._own.app}-{machine_id}"
        self._platform.background.start(name, partial(self._pump, stream))

    def _pump(self, lines: Iterator[LogLine]) -> None:
        try:
            for line in lines:
                if self._stopped.is_set():
                    return
                self._lines.put(line)
        except HangarError:  # the container went away, or the stream was closed
            return


def _quietly(discover: Callable[[], list[tuple[str, str]]]) -> list[tuple[str, str]]:
    try:
        return discover()
    except HangarError:  # the app or machine is gone: follow what is already followed
        return []
