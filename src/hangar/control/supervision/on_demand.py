"""The apps whose machines start and stop with their traffic (fly's auto_stop_machines,
auto_start_machines, min_machines_running), as their current release says."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.appconfig.model import AppConfig, HttpService
from hangar.appconfig.stored import from_stored
from hangar.control.apps import app_machines
from hangar.control.machines.targets import latest_complete_release
from hangar.control.platform import Platform
from hangar.domain.states import MachineState
from hangar.store.models import App, Machine


@dataclass(frozen=True)
class AppPower:
    name: str
    service: HttpService
    started: list[Machine]
    stopped: list[Machine]


def apps_on_demand(platform: Platform) -> list[AppPower]:
    """Every deployed app with an [http_service] that stops or starts machines itself."""
    with platform.db.session() as session:
        powers = (_power(session, app) for app in session.scalars(select(App).order_by(App.name)))
        return [p for p in powers if p and (p.service.auto_start_machines or stops_idle(p.service))]


def app_power(platform: Platform, name: str) -> AppPower | None:
    with platform.db.session() as session:
        app = session.scalar(select(App).where(App.name == name))
        return _power(session, app) if app is not None else None


def stops_idle(service: HttpService) -> bool:
    return service.auto_stop_machines != "off"  # "suspend" stops too, on this platform


def _power(session: Session, app: App) -> AppPower | None:
    release = latest_complete_release(session, app)
    config: AppConfig | None = from_stored(release.config) if release else None
    if config is None or config.http_service is None:
        return None
    machines = app_machines(session, app)
    return AppPower(
        app.name,
        config.http_service,
        [m for m in machines if m.state == MachineState.STARTED],
        sorted((m for m in machines if m.state == MachineState.STOPPED), key=lambda m: m.id),
    )
