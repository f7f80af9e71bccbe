"""At start: bring Docker and the edge in line with the store."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.appconfig.model import AppConfig
from hangar.appconfig.stored import from_stored
from hangar.control import leases
from hangar.control.domains import app_domains
from hangar.control.machines.lifecycle import MachineOps, Target, backend_of
from hangar.control.machines.specs import edge_policy
from hangar.control.platform import Platform
from hangar.control.uploads import clear_build_contexts, sweep_expired
from hangar.domain.states import MachineState, ReleaseStatus
from hangar.errors import HangarError
from hangar.ports import Route, RoutePolicy
from hangar.store.database import Database
from hangar.store.models import App, Machine, Release

log = logging.getLogger(__name__)
RESTART_TIMEOUT_S = 60.0


def reconcile(platform: Platform) -> None:
    leases.drop_all(platform.db)  # no change of an earlier server process survives it
    clear_build_contexts(platform.settings)  # nor any of its builds
    sweep_expired(platform.db, platform.settings)
    _interrupt_running_releases(platform.db)
    broken = _machines_to_restore(platform)
    platform.edge.sync(desired_routes(platform))  # before orphans go: the edge may route to one
    _remove_orphan_containers(platform)
    _restore_machines(platform, broken)


def desired_routes(platform: Platform) -> list[Route]:
    with platform.db.session() as session:
        routes = []
        for app in session.scalars(select(App).order_by(App.name)):
            machines = list(
                session.scalars(
                    select(Machine).where(
                        Machine.app_id == app.id,
                        Machine.state == MachineState.STARTED,
                        Machine.host_port.is_not(None),
                    )
                )
            )
            backends = tuple(b for m in machines if (b := backend_of(m)) is not None)
            config = _newest_config(session, app, machines)
            policy = edge_policy(config) if config else RoutePolicy()
            hostname = platform.settings.hostname(app.name)
            domains = app_domains(session, app)
            routes.append(Route(app.name, hostname, backends, policy, domains))
        return routes


def _newest_config(session: Session, app: App, machines: list[Machine]) -> AppConfig | None:
    """The config of the newest release the app's machines run."""
    if not machines:
        return None
    version = max(m.release_version for m in machines)
    release = session.scalar(
        select(Release).where(Release.app_id == app.id, Release.version == version)
    )
    return from_stored(release.config) if release else None


def _interrupt_running_releases(db: Database) -> None:
    with db.session() as session:
        for release in session.scalars(
            select(Release).where(Release.status == ReleaseStatus.RUNNING)
        ):
            release.status = ReleaseStatus.INTERRUPTED
            release.reason = "the server stopped while this release was being deployed"


def _remove_orphan_containers(platform: Platform) -> None:
    with platform.db.session() as session:
        owned = {m.container_id for m in session.scalars(select(Machine)) if m.container_id}
    for container in platform.runtime.list_managed():
        if container.container_id not in owned:
            log.info("removing container %s that no machine owns", container.container_id)
            platform.runtime.remove(container.container_id)


def _restore_machines(platform: Platform, broken: list[tuple[str, Target, str]]) -> None:
    """Recreate the container of every machine that should run but does not."""
    ops = MachineOps(platform)
    for machine_id, target, region in broken:
        log.info("recreating machine %s of %s", machine_id, target.app)
        try:
            ops.bring_up(machine_id, target, region, RESTART_TIMEOUT_S)
        except HangarError as exc:
            log.warning("machine %s could not be restored: %s", machine_id, exc.message)


def _machines_to_restore(platform: Platform) -> list[tuple[str, Target, str]]:
    found = []
    with platform.db.session() as session:
        machines = session.scalars(
            select(Machine).where(Machine.state.in_([MachineState.STARTED, MachineState.REPLACING]))
        )
        for machine in machines:
            info = platform.runtime.inspect(machine.container_id) if machine.container_id else None
            if info is not None and info.state == "running":
                machine.host_port = info.host_port
                continue
            if info is not None:
                platform.runtime.remove(info.container_id)
            machine.container_id = None
            machine.host_port = None
            release = session.scalar(
                select(Release).where(
                    Release.app_id == machine.app_id,
                    Release.version == machine.release_version,
                )
            )
            if release is not None:
                target = Target(release.version, release.image, from_stored(release.config))
                found.append((machine.id, target, machine.region))
    return found
