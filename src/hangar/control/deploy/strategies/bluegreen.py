"""Blue-green: a new machine for each old one, healthy and through its smoke window,
then traffic switches in one step."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hangar.appconfig.model import AppConfig
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.domain.names import new_machine_id
from hangar.errors import HangarError, InvalidInput
from hangar.store.models import Machine


class BlueGreen:
    name = "bluegreen"
    rolls_back = False  # the old machines are never touched before the switch

    def check(self, config: AppConfig) -> None:
        if config.http_service is None or not config.http_service.checks:
            raise InvalidInput(
                "the bluegreen strategy needs a health check",
                hint="add [[http_service.checks]] to fly.toml, or use another strategy",
            )

    def roll(self, ops: MachineOps, machines: list[Machine], target: Target) -> None:
        greens = self._start_greens(ops, machines, target)
        ops.events.emit("phase", "Switching traffic to the new machines")
        for green in greens:
            ops.route_in(target.config, green)
        # Every old machine starts draining at once, so no new request reaches any of them.
        with ThreadPoolExecutor(max_workers=len(machines)) as pool:
            done = [pool.submit(ops.destroy, target.app, blue, target.config) for blue in machines]
        for future in done:
            future.result()

    def _start_greens(self, ops: MachineOps, machines: list[Machine], target: Target) -> list[str]:
        greens: list[str] = []
        windows = []
        wait_s = target.config.deploy.wait_timeout
        try:
            for blue in machines:
                green = new_machine_id()
                ops.create(blue.app_id, green, target, blue.region)
                greens.append(green)
                info = ops.bring_up(green, target, blue.region, wait_s, route=False)
                windows.append(ops.watch(info))
            for window in windows:  # they overlap: the first ran while the others started
                ops.survive(window)
        except HangarError:
            for green in greens:
                ops.destroy(target.app, ops.machine(green), target.config)
            raise
        return greens
