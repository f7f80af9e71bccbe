"""An app's logs: every machine's lines, tagged with the machine id."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hangar.control.apps import app_machines, find_app
from hangar.control.platform import Platform
from hangar.errors import HangarError, NotFound
from hangar.ports import LogLine
from hangar.store.models import User

NEW_CONTAINER_LINES = 1000  # a container that appeared while following: all of its lines


def app_logs(
    platform: Platform,
    user: User,
    app: str,
    machine_id: str | None = None,
    tail: int = 100,
    follow: bool = False,
) -> Iterator[LogLine | None]:
    """Log lines, oldest first; with `follow`, None now and then while nothing comes.

    Checks the app and machine before returning, so errors come before streaming.
    """
    sources = _containers(platform, user, app, machine_id)
    if follow:

        def discover() -> list[tuple[str, str]]:
            return _containers(platform, user, app, machine_id)

        return _merged(platform, sources, tail, _PlatformSource(app, machine_id), discover)
    lines = [
        line
        for container_id, mid in sources
        for line in platform.runtime.logs(container_id, mid, tail=tail)
    ]
    lines += platform.platform_log.lines(app, machine_id, tail)
    return iter(sorted(lines, key=lambda line: line.timestamp))


@dataclass(frozen=True)
class _PlatformSource:
    """The platform's own lines about the app (control/platform_log.py)."""

    app: str
    machine_id: str | None


def _containers(
    platform: Platform, user: User, app_name: str, machine_id: str | None
) -> list[tuple[str, str]]:
    with platform.db.session() as session:
        machines = app_machines(session, find_app(session, app_name, user))
    if machine_id is not None:
        machines = [m for m in machines if m.id == machine_id]
        if not machines:
            raise NotFound(f"machine {machine_id} not found in app {app_name}")
    return [(m.container_id, m.id) for m in machines if m.container_id]


def _merged(
    platform: Platform,
    sources: list[tuple[str, str]],
    tail: int,
    own: _PlatformSource,
    discover: Callable[[], list[tuple[str, str]]],
) -> Iterator[LogLine | None]:
    """Follow every container, and the ones deploys and restarts make while following."""
    lines: queue.Queue[LogLine] = queue.Queue()
    stopped = threading.Event()
    own_lines = platform.platform_log.follow(own.app, own.machine_id, stopped, tail)

    def pump_platform() -> None:
        for line in own_lines:
            lines.put(line)

    def pump(container_id: str, machine_id: str, lines_back: int) -> None:
        try:
            logs = platform.runtime.logs(container_id, machine_id, tail=lines_back, follow=True)
            for line in logs:
                lines.put(line)
        except HangarError:
            return

    followed: set[str] = set()

    def follow_new(found: list[tuple[str, str]], lines_back: int) -> None:
        for container_id, machine_id in found:
            if container_id not in followed:
                followed.add(container_id)
                args = (container_id, machine_id, lines_back)
                threading.Thread(target=pump, args=args, daemon=True).start()

    follow_new(sources, tail)
    threading.Thread(target=pump_platform, daemon=True).start()
    try:
        while True:
            try:
                yield lines.get(timeout=1.0)
            except queue.Empty:
                follow_new(_quietly(discover), NEW_CONTAINER_LINES)
                yield None
    finally:
        stopped.set()


def _quietly(discover: Callable[[], list[tuple[str, str]]]) -> list[tuple[str, str]]:
    try:
        return discover()
    except HangarError:  # the app or machine is gone: follow what is already followed
        return []
