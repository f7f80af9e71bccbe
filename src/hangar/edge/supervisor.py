"""Keep HAProxy running: restart it from the desired routes if it dies."""

from __future__ import annotations

import logging
import threading

from hangar.edge.haproxy import HAProxyEdge
from hangar.errors import EdgeFailure

log = logging.getLogger(__name__)


class EdgeSupervisor:
    def __init__(self, edge: HAProxyEdge, interval_s: float = 1.0) -> None:
        self.edge = edge
        self.interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="edge-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def check_once(self) -> bool:
        """Restart HAProxy if it is not running; True when it had to."""
        if self.edge.running:
            return False
        log.warning("HAProxy is not running; starting it again")
        try:
            self.edge.start()
        except EdgeFailure as exc:
            log.error("HAProxy could not be restarted: %s", exc)
        return True

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval_s):
            self.check_once()
