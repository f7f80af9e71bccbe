"""Rolling: replace max_unavailable machines at a time, the first one alone.

Start-first (the default): each new container starts beside the machine's old
one and takes traffic once healthy; only then is the old one drained, so the
app never runs below its machine count. Old containers drain and stop in the
background while the next batch starts (the rollout waits for them before it
ends). The smoke window of one batch runs
while the next batch starts. The last old containers are kept until a new
machine has kept running through its window, so a release that crashes soon
after it starts never serves alone. `[deploy] order = "stop-first"` (an app
that cannot run two copies at once) drains each batch before replacing it,
and waits out the earlier batches' windows first.
"""

from __future__ import annotations

from hangar.appconfig.model import AppConfig
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.control.machines.retirements import Retirements
from hangar.control.machines.smoke import MachineExited, SmokeWatch
from hangar.domain.rollout import batches
from hangar.errors import HangarError
from hangar.store.models import Machine


class Rolling:
    name = "rolling"
    rolls_back = True

    def check(self, config: AppConfig) -> None:
        return None

    def roll(self, ops: MachineOps, machines: list[Machine], target: Target) -> None:
        deploy = target.config.deploy
        rollout = _Rollout(ops, target)
        groups = batches(machines, deploy.max_unavailable)
        try:
            for number, batch in enumerate(groups, start=1):
                if deploy.order == "stop-first":
                    rollout.stop_first(batch)
                else:
                    rollout.start_first(batch, last=number == len(groups))
            rollout.wait_windows()
        finally:
            rollout.retiring.wait()


class _Rollout:
    def __init__(self, ops: MachineOps, target: Target) -> None:
        self.ops = ops
        self.target = target
        self.windows: list[SmokeWatch] = []
        self.retiring = Retirements(ops, target.config)

    def start_first(self, batch: list[Machine], last: bool) -> None:
        wait_s = self.target.config.deploy.wait_timeout
        started = []  # each new container with its window, open from the moment it is healthy
        try:
            for machine in batch:
                info = self.ops.start_beside(machine, self.target, wait_s)
                started.append((machine, info, self.ops.watch(info)))
            self.check_windows(wait=last and bool(self.windows))
            if last and not self.windows:  # nothing proven yet: the batch proves itself
                for _, _, window in started:
                    self.ops.survive(window)
        except HangarError:
            for machine, info, _ in started:
                self.ops.discard(self.target.app, machine.id, info, self.target.config)
            raise
        for machine, info, window in started:
            old = self.ops.swap(machine, info, self.target)
            if old:
                self.retiring.retire(machine.id, old)
            self.windows.append(window)

    def stop_first(self, batch: list[Machine]) -> None:
        self.check_windows(wait=True)
        wait_s = self.target.config.deploy.wait_timeout
        for machine in batch:
            self.ops.take_down(self.target.app, machine, self.target.config)
        for machine in batch:
            info = self.ops.bring_up(machine.id, self.target, machine.region, wait_s)
            self.windows.append(self.ops.watch(info))

    def check_windows(self, wait: bool) -> None:
        """Raise if a moved machine exited; with `wait`, until every window is over."""
        for window in self.windows:
            try:
                if wait and not window.over():
                    self.ops.events.emit(
                        "machine",
                        f"Smoke checks: machine {window.machine_id} must keep running "
                        f"{window.window_s:g}s after it passed its health checks",
                    )
                    window.wait()
                    self.ops.events.emit(
                        "machine", f"Smoke checks passed for machine {window.machine_id}"
                    )
                else:
                    window.over()
            except MachineExited as exc:
                raise self.ops.crashed(window, exc) from exc

    def wait_windows(self) -> None:
        self.check_windows(wait=True)
