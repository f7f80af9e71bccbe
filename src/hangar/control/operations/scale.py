"""`hangar scale count|show`: how many machines an app runs, and on what VM.

New machines run the current release (its image and config): they are
health-checked before the edge sends them traffic. Removed machines are
drained first. A scale holds the app's lease, so it never runs during a
deploy. `scale vm|memory` is in control/vm_scaling.py: it is a deploy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hangar.control.apps import app_machines, find_app
from hangar.control.events import EventLog
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.control.machines.specs import restart_policy, vm_resources
from hangar.control.machines.targets import (
    current_release,
    machine_release,
    require_image,
    target_of,
)
from hangar.control.operations.runner import start_operation
from hangar.control.platform import Platform
from hangar.domain.names import new_machine_id
from hangar.domain.restart_policy import RestartPolicy
from hangar.domain.scaling import MachineSlot, ScalePlan, check_count, plan_count
from hangar.domain.vm_sizes import VmResources
from hangar.errors import HangarError, InvalidInput, NotFound
from hangar.store.database import Database
from hangar.store.models import App, User


@dataclass(frozen=True)
class ScaleView:
    """What `hangar scale show` prints."""

    app: str
    count: int
    regions: dict[str, int]
    release: int | None  # None: never deployed
    vm: VmResources
    restart: RestartPolicy


def scale_show(db: Database, user: User, app_name: str) -> ScaleView:
    with db.session() as session:
        app = find_app(session, app_name, user)
        machines = app_machines(session, app)
        try:
            target: Target | None = target_of(current_release(session, app))
        except InvalidInput:
            target = None
    return ScaleView(
        app=app_name,
        count=len(machines),
        regions=dict(Counter(m.region for m in machines)),
        release=target.version if target else None,
        vm=vm_resources(target.config) if target else VmResources(None, None, None),
        restart=restart_policy(target.config) if target else RestartPolicy(),
    )


def plan_scale(db: Database, user: User, app_name: str, count: int) -> ScalePlan:
    """What `scale count` would do; refuses a bad count or an app never deployed."""
    check_count(count)
    with db.session() as session:
        app = find_app(session, app_name, user)
        current_release(session, app)
        return plan_count(_slots(session, app), count)


def start_scale_count(platform: Platform, user: User, app_name: str, count: int) -> EventLog:
    """Check everything, then scale in the background under the app's lease."""
    plan_scale(platform.db, user, app_name, count)
    return start_operation(
        platform, app_name, "scale", lambda ops: scale_count(ops, app_name, count)
    )


def scale_count(ops: MachineOps, app_name: str, count: int) -> str:
    """Add or remove machines until the app has `count` (the lease is held)."""
    with ops.platform.db.session() as session:
        app = find_app(session, app_name)
        target = target_of(current_release(session, app))
        plan = plan_count(_slots(session, app), count)
        app_id, region = app.id, app.region
    ops.events.emit("phase", f"Scaling {app_name} to {count}: {plan.describe()}")
    if plan.add:
        require_image(ops.platform, target)
    for _ in range(plan.add):
        add_machine(ops, app_id, region, target)
    for machine_id in plan.remove:
        _remove_machine(ops, app_name, machine_id, target)
    return f"{app_name} now has {count} machine{'' if count == 1 else 's'}"


def add_machine(ops: MachineOps, app_id: int, region: str, target: Target) -> str:
    """Create, start and health-check a machine, and route to it once it has kept
    running for the smoke window; destroy it if it fails."""
    machine_id = new_machine_id()
    ops.events.emit("machine", f"Creating machine {machine_id} on v{target.version}")
    ops.create(app_id, machine_id, target, region)
    try:
        ops.bring_up(machine_id, target, region, target.config.deploy.wait_timeout, smoke=True)
    except HangarError as exc:
        ops.destroy(target.app, ops.machine(machine_id), target.config)
        raise HangarError(
            f"{exc.message}\nmachine {machine_id} was destroyed; the app keeps its other machines",
            hint=exc.hint,
        ) from exc
    return machine_id


def _remove_machine(ops: MachineOps, app_name: str, machine_id: str, current: Target) -> None:
    """Drain, stop and destroy one machine, with its own release's kill signal."""
    try:
        machine = ops.machine(machine_id)
    except NotFound:
        return  # destroyed meanwhile: nothing left to do
    with ops.platform.db.session() as session:
        try:
            config = target_of(machine_release(session, machine)).config
        except NotFound:
            config = current.config
    ops.events.emit("machine", f"Destroying machine {machine_id}")
    ops.destroy(app_name, machine, config)


def _slots(session: Session, app: App) -> list[MachineSlot]:
    return [MachineSlot(m.id, m.state) for m in app_machines(session, app)]
