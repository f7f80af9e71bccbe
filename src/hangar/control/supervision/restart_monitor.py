"""A background thread of `hangar server`: notice machines whose container exited.

Every second it inspects the container of every started machine. One found
exited is left for `restart_delay` (1 s, then 2, 4 … 30 s as its restarts add
up: a crash loop does not hog the app's lease), and then handed to
control/restarts.py if nothing changed it meanwhile. The first second also
tells a crash from a `hangar machines stop` whose new state is being saved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from hangar.control.machines.smoke import exit_status
from hangar.control.platform import Platform
from hangar.control.supervision.auto_restart import Exited, handle_exit
from hangar.domain.restart_policy import restart_delay
from hangar.domain.states import MachineState
from hangar.errors import HangarError
from hangar.store.models import App, Machine

log = logging.getLogger(__name__)
POLL_S = 1.0


class RestartMonitor:
    def __init__(
        self,
        platform: Platform,
        interval_s: float = POLL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.interval_s = interval_s
        self._clock = clock
        self._first_seen: dict[str, float] = {}  # exited container id -> when first seen
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="restart-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def check_once(self) -> list[str]:
        """Handle the machines whose delay is over; return their ids."""
        exited = find_exited(self.platform)
        now = self._clock()
        seen = {e.container_id: self._first_seen.get(e.container_id, now) for e in exited}
        self._first_seen = seen
        due = [e for e in exited if now - seen[e.container_id] >= restart_delay(e.restarts)]
        return [e.machine_id for e in due if self._handle(e)]

    def _handle(self, exited: Exited) -> bool:
        try:
            return handle_exit(self.platform, exited)
        except HangarError as exc:
            log.warning("machine %s of %s: %s", exited.machine_id, exited.app, exc.message)
            return False

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                self.check_once()
            except HangarError as exc:  # the Docker Engine or the store is unavailable
                log.warning("the restart monitor's round failed: %s", exc.message)
            except Exception:  # the monitor must outlive any one bad round
                log.exception("the restart monitor's round failed")


def find_exited(platform: Platform) -> list[Exited]:
    """Started machines whose container exited or vanished."""
    with platform.db.session() as session:
        rows = session.execute(
            select(App.name, Machine.id, Machine.container_id, Machine.restart_count)
            .join(App, App.id == Machine.app_id)
            .where(Machine.state == MachineState.STARTED, Machine.container_id.is_not(None))
        ).all()
    found = []
    for app, machine_id, container_id, restarts in rows:
        if container_id is None:
            continue
        status = exit_status(platform.runtime.inspect(container_id))
        if status is not None:
            found.append(Exited(app, machine_id, container_id, status, restarts))
    return found
