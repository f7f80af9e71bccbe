"""`scale count`: from the machines an app has to the change that gives it N; pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hangar.errors import InvalidInput

MAX_MACHINES = 50  # a guard against typos (`scale count 1000`) on one host
# Which machines go first when scaling down: those serving nothing, then the newest.
_REMOVAL_ORDER = ("failed", "stopped", "created", "replacing", "started")


@dataclass(frozen=True)
class MachineSlot:
    """What the plan needs to know of a machine."""

    id: str
    state: str


@dataclass(frozen=True)
class ScalePlan:
    current: int
    desired: int
    remove: tuple[str, ...] = field(default=())

    @property
    def add(self) -> int:
        return max(self.desired - self.current, 0)

    @property
    def changes(self) -> bool:
        return self.current != self.desired

    def describe(self) -> str:
        """`+1 machine`, `-2 machines: a, b`, or `no change`."""
        if self.add:
            return f"+{_machines(self.add)}"
        if self.remove:
            return f"-{_machines(len(self.remove))}: {', '.join(self.remove)}"
        return "no change"


def check_count(count: int) -> int:
    if count < 0:
        raise InvalidInput(
            f"the machine count cannot be negative (got {count})",
            hint="give the number of machines the app should have, e.g. `hangar scale count 2`",
        )
    if count > MAX_MACHINES:
        raise InvalidInput(
            f"{count} machines is more than the {MAX_MACHINES} one app may have",
            hint=f"give a count between 0 and {MAX_MACHINES}",
        )
    return count


def plan_count(machines: Sequence[MachineSlot], desired: int) -> ScalePlan:
    """Machines come oldest first; scaling down removes idle ones, then the newest."""
    check_count(desired)
    surplus = len(machines) - desired
    if surplus <= 0:
        return ScalePlan(len(machines), desired)
    newest_first = list(reversed(machines))
    ranked = sorted(newest_first, key=lambda m: _removal_rank(m.state))
    return ScalePlan(len(machines), desired, tuple(m.id for m in ranked[:surplus]))


def _removal_rank(state: str) -> int:
    return _REMOVAL_ORDER.index(state) if state in _REMOVAL_ORDER else 0


def _machines(count: int) -> str:
    return f"{count} machine" if count == 1 else f"{count} machines"
