"""When each machine last answered a request through the edge (its access log)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class MachineTraffic:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def saw(self, machine_id: str) -> None:
        with self._lock:
            self._last[machine_id] = self.clock()

    def last(self, machine_id: str) -> float | None:
        """The monotonic time of the machine's last request, if it had one."""
        with self._lock:
            return self._last.get(machine_id)
