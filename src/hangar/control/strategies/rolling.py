"""Rolling: replace max_unavailable machines at a time, the first one alone."""

from __future__ import annotations

from hangar.appconfig.model import AppConfig
from hangar.control.machines import MachineOps, Target
from hangar.domain.rollout import batches
from hangar.store.models import Machine


class Rolling:
    name = "rolling"
    rolls_back = True

    def check(self, config: AppConfig) -> None:
        return None

    def roll(self, ops: MachineOps, machines: list[Machine], target: Target) -> None:
        deploy = target.config.deploy
        for batch in batches(machines, deploy.max_unavailable):
            for machine in batch:
                ops.take_down(target.app, machine, target.config)
            for machine in batch:
                ops.bring_up(machine.id, target, machine.region, deploy.wait_timeout)
