"""What a user can do to one machine: stop, start, destroy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hangar.appconfig.model import AppConfig
from hangar.appconfig.stored import from_stored
from hangar.control import leases
from hangar.control.apps import app_machines, find_app
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.control.machines.power import power_off
from hangar.control.machines.targets import machine_release
from hangar.control.platform import Platform
from hangar.domain.states import MachineState
from hangar.errors import Conflict, NotFound
from hangar.store.database import Database
from hangar.store.models import Machine, User


def stop_machine(platform: Platform, user: User, app: str, machine_id: str) -> None:
    machine, config = _machine_and_config(platform.db, user, app, machine_id)
    if machine.state == MachineState.STOPPED:
        return
    with leases.app_lease(platform.db, app, "machine stop"):
        power_off(platform, app, machine, config)


def start_machine(platform: Platform, user: User, app: str, machine_id: str) -> None:
    machine, config = _machine_and_config(platform.db, user, app, machine_id)
    if machine.state == MachineState.STARTED:
        raise Conflict(f"machine {machine_id} is already started")
    target = Target(machine.release_version, _release_image(platform.db, machine), config)
    with leases.app_lease(platform.db, app, "machine start"):
        if machine.container_id:
            platform.runtime.remove(machine.container_id)
        MachineOps(platform).bring_up(
            machine.id, target, machine.region, config.deploy.wait_timeout, smoke=True
        )


def destroy_machine(platform: Platform, user: User, app: str, machine_id: str) -> None:
    machine, config = _machine_and_config(platform.db, user, app, machine_id)
    with leases.app_lease(platform.db, app, "machine destroy"):
        MachineOps(platform).destroy(app, machine, config)


def _machine_and_config(
    db: Database, user: User, app_name: str, machine_id: str
) -> tuple[Machine, AppConfig]:
    with db.session() as session:
        app = find_app(session, app_name, user)
        for machine in app_machines(session, app):
            if machine.id == machine_id:
                return machine, _release_config(session, machine)
    raise NotFound(
        f"machine {machine_id} not found in app {app_name}",
        hint="list machines with `hangar machines list`",
    )


def _release_config(session: Session, machine: Machine) -> AppConfig:
    release = machine_release(session, machine)
    return from_stored(release.config)


def _release_image(db: Database, machine: Machine) -> str:
    with db.session() as session:
        return machine_release(session, machine).image
