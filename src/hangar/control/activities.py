"""What each app is going through now: its latest deploy or operation, followable live.

The deployer and the operation runner record every change they start here, so
a page can show its progress however it was started (CLI, API or dashboard).
One entry per app: the newest replaces the one before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from hangar.control.events import EventLog
from hangar.domain.clock import SYSTEM_CLOCK


@dataclass(frozen=True)
class Activity:
    label: str  # what it is: "Deploy image", "restart", "scale"…
    events: EventLog
    started_at: datetime = field(default_factory=SYSTEM_CLOCK.now)

    @property
    def running(self) -> bool:
        return not self.events.closed


class Activities:
    def __init__(self) -> None:
        self._latest: dict[str, Activity] = {}
        self._lock = threading.Lock()

    def record(self, app: str, label: str, events: EventLog) -> None:
        with self._lock:
            self._latest[app] = Activity(label, events)

    def latest(self, app: str) -> Activity | None:
        with self._lock:
            return self._latest.get(app)

    def forget(self, app: str) -> None:
        with self._lock:
            self._latest.pop(app, None)
