"""fly's auto_start_machines: a stopped machine is started when a request finds the
app without a machine (the edge holds the request meanwhile, edge/wake.py), and
when every started machine has soft_limit requests or more in flight.

Deciding is quick (the edge is waiting for the answer); the start itself runs in
the background under the app's lease, one at a time per app.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from hangar.appconfig.stored import from_stored
from hangar.control import leases
from hangar.control.machines.lifecycle import backend_name
from hangar.control.machines.power import power_on
from hangar.control.machines.targets import machine_release
from hangar.control.platform import Platform
from hangar.control.supervision.on_demand import AppPower, app_power, apps_on_demand
from hangar.domain.states import MachineState
from hangar.errors import HangarError
from hangar.store.models import Machine

log = logging.getLogger(__name__)
LEASE_WAIT_S = 30.0  # a start waits this long for another change of the app to end


class Starter:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._starting: set[str] = set()  # apps with a start under way
        self._lock = threading.Lock()

    def wake(self, app: str) -> bool:
        """The edge found no machine for `app`: True if one is (now) being started."""
        with self._lock:
            if app in self._starting:
                return True
        power = app_power(self.platform, app)
        if power is None or not power.service.auto_start_machines or not power.stopped:
            return False
        return self._start(power, power.stopped[0], "a request found no machine")

    def round(self) -> list[str]:
        """Start a machine of each app whose started ones are all at their soft limit."""
        started = []
        for power in apps_on_demand(self.platform):
            if power.service.auto_start_machines and power.stopped and self._all_busy(power):
                limit = power.service.concurrency.soft_limit
                if self._start(power, power.stopped[0], f"every machine has {limit}+ requests"):
                    started.append(power.stopped[0].id)
        return started

    def _all_busy(self, power: AppPower) -> bool:
        if not power.started:
            return False  # the edge asks for those (wake)
        load = self.platform.edge.in_flight(power.name)
        limit = power.service.concurrency.soft_limit
        names = [backend_name(m.id, m.container_id) for m in power.started if m.container_id]
        return bool(names) and all(load.get(name, 0) >= limit for name in names)

    def _start(self, power: AppPower, machine: Machine, why: str) -> bool:
        with self._lock:
            if power.name in self._starting:
                return True
            self._starting.add(power.name)
        name = f"auto-start-{power.name}"
        self.platform.background.start(name, lambda: self._power_on(power.name, machine, why))
        return True

    def _power_on(self, app: str, machine: Machine, why: str) -> None:
        holder = f"auto-start-{uuid.uuid4().hex[:12]}"
        try:
            # An auto stop of the app's last machine may still hold the lease: wait it out.
            leases.acquire_waiting(self.platform.db, app, holder, "auto start", LEASE_WAIT_S)
            with leases.held(self.platform.db, app, holder):
                with self.platform.db.session() as session:
                    current = session.get(Machine, machine.id)
                    if current is None or current.state != MachineState.STOPPED:
                        return
                    config = from_stored(machine_release(session, current).config)
                self.platform.platform_log.write(
                    app, machine.id, f"Starting machine {machine.id}: {why} (auto start)"
                )
                began = time.monotonic()
                power_on(self.platform, current, config)
                took = time.monotonic() - began
                self.platform.platform_log.write(
                    app, machine.id, f"Machine {machine.id} serving after {took:.2f} s (auto start)"
                )
        except HangarError as exc:
            log.warning("auto start of machine %s of %s failed: %s", machine.id, app, exc.message)
            self.platform.platform_log.write(
                app, machine.id, f"Machine {machine.id} did not start: {exc.message}"
            )
        finally:
            with self._lock:
                self._starting.discard(app)
