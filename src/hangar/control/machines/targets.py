"""From releases to what machines run: the app's current release, a machine's own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.appconfig.stored import from_stored
from hangar.control.machines.lifecycle import Target
from hangar.control.platform import Platform
from hangar.domain.states import ReleaseStatus
from hangar.errors import InvalidInput, NotFound
from hangar.store.models import App, Machine, Release


def latest_complete_release(session: Session, app: App) -> Release | None:
    """The newest complete release: what the app runs (a failed deploy is not it)."""
    return session.scalar(
        select(Release)
        .where(Release.app_id == app.id, Release.status == ReleaseStatus.COMPLETE)
        .order_by(Release.version.desc())
        .limit(1)
    )


def current_release(session: Session, app: App, action: str = "scale") -> Release:
    """The release the app runs; refuses an app never deployed, naming the `action`."""
    release = latest_complete_release(session, app)
    if release is None:
        raise InvalidInput(
            f"app {app.name} has not been deployed yet: there is nothing to {action}",
            hint="deploy it first with `hangar deploy`",
        )
    return release


def machine_release(session: Session, machine: Machine) -> Release:
    release = session.scalar(
        select(Release).where(
            Release.app_id == machine.app_id, Release.version == machine.release_version
        )
    )
    if release is None:
        raise NotFound(f"release v{machine.release_version} of machine {machine.id} is gone")
    return release


def target_of(release: Release) -> Target:
    return Target(release.version, release.image, from_stored(release.config))


def require_image(platform: Platform, target: Target) -> None:
    """Refuse early when the release's image was removed from the engine."""
    if not platform.runtime.image_exists(target.image):
        raise NotFound(
            f"the image of v{target.version} ({target.image}) is no longer on this server",
            hint="deploy the app again from source",
        )
