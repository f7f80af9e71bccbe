"""`hangar apps restart`: restart every machine on the release it runs, one at a time.

No new release: each machine is drained, its container replaced by a fresh
one of the same release (as a fly.io machine restarts with a fresh root file
system), health-checked, watched for the smoke window and routed again before
the next one starts. Stopped
machines stay stopped; failed ones are given another chance. The app's lease
is held throughout; a machine failing its checks stops the restart.
"""

from __future__ import annotations

from hangar.control.apps import app_machines, find_app
from hangar.control.events import EventLog
from hangar.control.machines.lifecycle import MachineOps
from hangar.control.machines.targets import current_release, machine_release, target_of
from hangar.control.operations.runner import start_operation
from hangar.control.platform import Platform
from hangar.domain.states import MachineState
from hangar.errors import InvalidInput
from hangar.store.models import Machine, User

RESTARTED_STATES = (MachineState.STARTED, MachineState.FAILED)


def start_app_restart(platform: Platform, user: User, app_name: str) -> EventLog:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        current_release(session, app, action="restart")
        _require_machines(app_name, _restartable(app_machines(session, app)))
    return start_operation(platform, app_name, "restart", lambda ops: restart_app(ops, app_name))


def restart_app(ops: MachineOps, app_name: str) -> str:
    """Restart the app's machines in turn (the lease is held)."""
    with ops.platform.db.session() as session:
        machines = _restartable(app_machines(session, find_app(session, app_name)))
    _require_machines(app_name, machines)
    for number, machine in enumerate(machines, start=1):
        ops.events.emit("phase", f"Restarting machine {machine.id} ({number}/{len(machines)})")
        restart_machine(ops, app_name, machine)
    return f"Restarted {len(machines)} machine{'' if len(machines) == 1 else 's'} of {app_name}"


def restart_machine(ops: MachineOps, app_name: str, machine: Machine) -> None:
    """Drain, stop and remove its container, then bring up a fresh one of the same release."""
    with ops.platform.db.session() as session:
        target = target_of(machine_release(session, machine))
    ops.take_down(app_name, machine, target.config)
    ops.bring_up(machine.id, target, machine.region, target.config.deploy.wait_timeout, smoke=True)


def _restartable(machines: list[Machine]) -> list[Machine]:
    return [m for m in machines if m.state in RESTARTED_STATES]


def _require_machines(app_name: str, machines: list[Machine]) -> None:
    if not machines:
        raise InvalidInput(
            f"app {app_name} has no started or failed machine to restart",
            hint=f"start one with `hangar machines start ID -a {app_name}`, or scale up",
        )
