"""Immediate: replace every machine at once, without waiting for health checks."""

from __future__ import annotations

from hangar.appconfig.model import AppConfig
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.store.models import Machine


class Immediate:
    name = "immediate"
    rolls_back = False

    def check(self, config: AppConfig) -> None:
        return None

    def roll(self, ops: MachineOps, machines: list[Machine], target: Target) -> None:
        for machine in machines:
            ops.take_down(target.app, machine, target.config)
        for machine in machines:
            ops.bring_up(machine.id, target, machine.region, timeout_s=None)
