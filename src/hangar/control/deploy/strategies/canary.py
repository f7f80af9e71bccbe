"""Canary: one extra machine on the new release must come up healthy and keep running
through its smoke window, then a rolling update."""

from __future__ import annotations

from hangar.appconfig.model import AppConfig
from hangar.control.deploy.strategies.rolling import Rolling
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.domain.names import new_machine_id
from hangar.store.models import Machine


class Canary:
    name = "canary"
    rolls_back = True

    def check(self, config: AppConfig) -> None:
        return None

    def roll(self, ops: MachineOps, machines: list[Machine], target: Target) -> None:
        first = machines[0]
        canary_id = new_machine_id()
        ops.events.emit("phase", f"Starting canary machine {canary_id}")
        ops.create(first.app_id, canary_id, target, first.region)
        try:
            wait_s = target.config.deploy.wait_timeout
            ops.bring_up(canary_id, target, first.region, wait_s, smoke=True)
        finally:  # the canary only proves the release; it never stays
            ops.destroy(target.app, ops.machine(canary_id), target.config)
        Rolling().roll(ops, machines, target)
