"""Auto-rollback: put the machines a failed deploy touched back on the release they ran."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hangar.appconfig.model import AppConfig
from hangar.appconfig.stored import from_stored
from hangar.control.apps import app_machines, app_named
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.domain.states import MachineState
from hangar.store.database import Database
from hangar.store.models import Release

RESTORE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Snapshot:
    """Which release each started machine ran, how to run those releases, and which
    machines existed at all (any other was made by the failed deploy)."""

    machines: dict[str, int]
    targets: dict[int, Target]
    existing: frozenset[str] = frozenset()


def take_snapshot(db: Database, app_name: str) -> Snapshot:
    with db.session() as session:
        app = app_named(session, app_name)
        if app is None:
            return Snapshot({}, {})
        every = app_machines(session, app)
        machines = {m.id: m.release_version for m in every if m.state == MachineState.STARTED}
        releases = session.scalars(
            select(Release).where(
                Release.app_id == app.id, Release.version.in_(set(machines.values()))
            )
        )
        targets = {r.version: Target(r.version, r.image, from_stored(r.config)) for r in releases}
    return Snapshot(machines, targets, frozenset(m.id for m in every))


def restore(ops: MachineOps, app_name: str, snapshot: Snapshot) -> list[str]:
    """Bring every machine back to its snapshot release; destroy machines it did not have.

    Returns the ids of the machines that were put back.
    """
    platform = ops.platform
    with platform.db.session() as session:
        app = app_named(session, app_name)
        machines = app_machines(session, app) if app is not None else []
    restored = []
    for machine in machines:
        version = snapshot.machines.get(machine.id)
        target = snapshot.targets.get(version) if version is not None else None
        if target is None:
            if machine.id not in snapshot.existing:
                ops.destroy(app_name, machine, _any_config(snapshot))
            continue
        if machine.release_version == version and machine.state == MachineState.STARTED:
            continue
        ops.events.emit("machine", f"Rolling machine {machine.id} back to v{version}")
        ops.take_down(app_name, machine, target.config)
        ops.bring_up(machine.id, target, machine.region, RESTORE_TIMEOUT_S)
        restored.append(machine.id)
    return restored


def _any_config(snapshot: Snapshot) -> AppConfig:
    return next(iter(snapshot.targets.values())).config
