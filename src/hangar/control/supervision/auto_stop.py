"""fly's auto_stop_machines: a machine that served no request for the idle time
(`hangar server --auto-stop-idle`, 5 minutes) is drained and stopped, as long as
the app keeps min_machines_running started. Its container is kept, so the next
request starts it again quickly (control/supervision/auto_start.py).

Idle counts from the machine's last request through the edge, or from when a
round first saw it started; a machine with a request in flight is never idle.
An app busy with a deploy or another change (its lease is taken) waits for the
next round.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from hangar.appconfig.stored import from_stored
from hangar.control import leases
from hangar.control.machines.lifecycle import backend_name
from hangar.control.machines.power import power_off
from hangar.control.machines.targets import machine_release
from hangar.control.platform import Platform
from hangar.control.supervision.on_demand import AppPower, apps_on_demand, stops_idle
from hangar.domain.states import MachineState
from hangar.errors import Conflict, HangarError
from hangar.store.models import Machine

log = logging.getLogger(__name__)


class IdleStopper:
    def __init__(
        self, platform: Platform, idle_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.platform = platform
        self.idle_s = idle_s
        self.clock = clock
        self._seen_started: dict[str, float] = {}

    def round(self) -> list[str]:
        """Stop the machines idle long enough; return their ids."""
        powers = [p for p in apps_on_demand(self.platform) if stops_idle(p.service)]
        started = {m.id for p in powers for m in p.started}
        now = self.clock()
        self._seen_started = {m: self._seen_started.get(m, now) for m in started}
        return [m for p in powers for m in self._stop_idle(p, now)]

    def _stop_idle(self, power: AppPower, now: float) -> list[str]:
        spare = len(power.started) - power.service.min_machines_running
        idle = [m for m in power.started if now - self._idle_since(m) >= self.idle_s]
        idle.sort(key=self._idle_since)
        busy = self.platform.edge.in_flight(power.name)
        chosen = [m for m in idle if not busy.get(_edge_name(m), 0)][: max(spare, 0)]
        return [m.id for m in chosen if self._stop(power.name, m)]

    def _idle_since(self, machine: Machine) -> float:
        seen = self._seen_started.get(machine.id, self.clock())
        return max(seen, self.platform.traffic.last(machine.id) or seen)

    def _stop(self, app: str, machine: Machine) -> bool:
        try:
            with leases.app_lease(self.platform.db, app, "auto stop"):
                current = self._still_started(machine)
                if current is None:
                    return False
                with self.platform.db.session() as session:
                    config = from_stored(machine_release(session, current).config)
                power_off(self.platform, app, current, config)
        except Conflict:
            return False  # a deploy or another change: the next round sees
        except HangarError as exc:
            log.warning("auto stop of machine %s of %s failed: %s", machine.id, app, exc.message)
            return False
        idle = f"{self.idle_s:g}"
        self.platform.platform_log.write(
            app, machine.id, f"Machine {machine.id} stopped: no request for {idle} s (auto stop)"
        )
        return True

    def _still_started(self, machine: Machine) -> Machine | None:
        with self.platform.db.session() as session:
            current = session.get(Machine, machine.id)
            return current if current and current.state == MachineState.STARTED else None


def _edge_name(machine: Machine) -> str:
    return backend_name(machine.id, machine.container_id) if machine.container_id else ""
