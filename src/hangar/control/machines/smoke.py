"""Smoke checks, as flyctl has them: a machine must keep running for a window after it
first passed its health checks. One that exits in that window is crashing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hangar.domain.restart_policy import ExitStatus
from hangar.errors import HealthCheckFailed
from hangar.ports import ContainerInfo, Runtime

EXITED_STATES = frozenset({"exited", "dead"})
POLL_S = 0.2


def exit_status(info: ContainerInfo | None) -> ExitStatus | None:
    """How the container ended, or None while it runs."""
    if info is None:
        return ExitStatus(code=None)
    if info.state not in EXITED_STATES:
        return None
    return ExitStatus(info.exit_code, info.oom_killed)


class MachineExited(HealthCheckFailed):
    """The machine's container stopped running while it was checked or watched."""

    def __init__(self, message: str, status: ExitStatus, hint: str = "") -> None:
        super().__init__(message, hint or "fix the app so it keeps running, then deploy again")
        self.ended = status


@dataclass
class SmokeWatch:
    """One container's window, from the moment it passed its checks."""

    runtime: Runtime
    app: str
    machine_id: str
    container_id: str
    window_s: float
    healthy_at: float

    def over(self) -> bool:
        """True once the window has passed with the container running.

        Raises MachineExited as soon as the container is seen exited. A window
        of zero (smoke checks off) is over at once, without a look.
        """
        if self.window_s <= 0:
            return True
        status = exit_status(self.runtime.inspect(self.container_id))
        if status is not None:
            after = time.monotonic() - self.healthy_at
            raise MachineExited(
                f"smoke checks for machine {self.machine_id} failed: it exited "
                f"({status.describe()}) within {after:.1f}s of passing its health checks; "
                "the app appears to be crashing",
                status,
            )
        return time.monotonic() >= self.healthy_at + self.window_s

    def wait(self) -> None:
        while not self.over():
            time.sleep(POLL_S)


def watch(runtime: Runtime, info: ContainerInfo, window_s: float) -> SmokeWatch:
    now = time.monotonic()
    return SmokeWatch(runtime, info.app, info.machine_id, info.container_id, window_s, now)
