"""Store rows as wire shapes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from hangar.api.schemas import AppOut, MachineOut, ReleaseOut
from hangar.control.app_summaries import shown_status
from hangar.control.platform import Settings
from hangar.domain.states import MachineState
from hangar.store.models import App, Machine, Release


def app_out(app: App, settings: Settings) -> AppOut:
    return AppOut(
        name=app.name,
        status=_status(app),
        region=app.region,
        hostname=settings.hostname(app.name),
        url=settings.app_url(app.name),
        owner=app.owner.email,
        org=app.org.name,
        created_at=app.created_at,
    )


def machine_out(machine: Machine) -> MachineOut:
    return MachineOut(
        id=machine.id,
        state=machine.state,
        region=machine.region,
        release=machine.release_version,
        checks=machine.checks,
        host_port=machine.host_port,
        created_at=machine.created_at,
        updated_at=machine.updated_at,
        restarts=machine.restart_count or 0,
        last_exit=machine.last_exit,
    )


def release_out(release: Release) -> ReleaseOut:
    return ReleaseOut(
        version=release.version,
        status=release.status,
        description=release.description,
        user=release.user_email,
        image=release.image,
        reason=release.reason,
        created_at=release.created_at,
    )


def _status(app: App) -> str:
    """As the dashboard says it: `suspended` while no machine is started."""
    session = object_session(app)
    if session is None:
        return app.status
    started = session.scalar(
        select(func.count())
        .select_from(Machine)
        .where(Machine.app_id == app.id, Machine.state == MachineState.STARTED)
    )
    return shown_status(app.status, None, started or 0)
