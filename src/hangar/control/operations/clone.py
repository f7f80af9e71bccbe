"""`hangar machines clone ID`: one more machine, on the same release and config as ID.

The clone is health-checked before the edge routes to it, and destroyed
again if it never becomes healthy. The app's lease is held meanwhile.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hangar.control.apps import app_machines, find_app
from hangar.control.events import EventLog
from hangar.control.machines.lifecycle import MachineOps
from hangar.control.machines.targets import machine_release, require_image, target_of
from hangar.control.operations.runner import start_operation
from hangar.control.operations.scale import add_machine
from hangar.control.platform import Platform
from hangar.domain.scaling import check_count
from hangar.errors import NotFound
from hangar.store.models import App, Machine, User


def start_clone(platform: Platform, user: User, app_name: str, machine_id: str) -> EventLog:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        target = target_of(machine_release(session, _source(session, app, machine_id)))
        check_count(len(app_machines(session, app)) + 1)
    require_image(platform, target)
    return start_operation(
        platform, app_name, "clone", lambda ops: clone_machine(ops, app_name, machine_id)
    )


def clone_machine(ops: MachineOps, app_name: str, source_id: str) -> str:
    """Add a machine like `source_id` (the lease is held)."""
    with ops.platform.db.session() as session:
        app = find_app(session, app_name)
        source = _source(session, app, source_id)
        target = target_of(machine_release(session, source))
        app_id, region = app.id, source.region
    clone_id = add_machine(ops, app_id, region, target)
    return f"Machine {clone_id} cloned from {source_id} (v{target.version})"


def _source(session: Session, app: App, machine_id: str) -> Machine:
    for machine in app_machines(session, app):
        if machine.id == machine_id:
            return machine
    raise NotFound(
        f"machine {machine_id} not found in app {app.name}",
        hint=f"list the machines with `hangar machines list -a {app.name}`",
    )
