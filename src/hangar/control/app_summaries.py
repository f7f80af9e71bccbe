"""An app at a glance, as the dashboard lists it: status, machines, release, last deploy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hangar.control.apps import app_machines, app_releases
from hangar.control.platform import Platform
from hangar.domain.states import AppStatus, MachineState, ReleaseStatus
from hangar.store.models import App, Release

FAILED_RELEASES = frozenset({ReleaseStatus.FAILED, ReleaseStatus.ROLLED_BACK})


@dataclass(frozen=True)
class AppSummary:
    name: str
    org: str
    status: str  # pending | deployed | failed | suspended
    hostname: str
    url: str
    machines: int
    release: int | None  # the newest complete release: what serves
    last_deploy: datetime | None
    activity: str | None  # the change running now, if any


def summarize(session: Session, platform: Platform, app: App) -> AppSummary:
    releases = app_releases(session, app)
    machines = app_machines(session, app)
    started = sum(m.state == MachineState.STARTED for m in machines)
    serving = next((r for r in releases if r.status == ReleaseStatus.COMPLETE), None)
    activity = platform.activities.latest(app.name)
    return AppSummary(
        name=app.name,
        org=app.org.name,
        status=shown_status(app.status, releases[0] if releases else None, started),
        hostname=platform.settings.hostname(app.name),
        url=platform.settings.app_url(app.name),
        machines=len(machines),
        release=serving.version if serving else None,
        last_deploy=releases[0].created_at if releases else None,
        activity=activity.label if activity and activity.running else None,
    )


def shown_status(stored: str, newest: Release | None, started_machines: int) -> str:
    """`failed` when the newest release failed; `suspended` with no machine started."""
    if newest is not None and newest.status in FAILED_RELEASES:
        return "failed"
    if stored == AppStatus.PENDING:
        return AppStatus.PENDING
    if stored == AppStatus.SUSPENDED or started_machines == 0:
        return AppStatus.SUSPENDED
    return AppStatus.DEPLOYED
