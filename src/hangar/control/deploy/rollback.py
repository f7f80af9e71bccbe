"""`hangar rollback [vN]`: deploy an earlier release's image and config as a new release."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hangar.appconfig.stored import from_stored
from hangar.control.apps import app_releases, find_app
from hangar.control.deploy.engine import Deployer, Deployment, DeployRequest
from hangar.control.platform import Platform
from hangar.domain.states import ReleaseStatus
from hangar.errors import InvalidInput, NotFound
from hangar.store.models import Release, User


def rollback_request(
    platform: Platform, user: User, app_name: str, version: int | None
) -> DeployRequest:
    with platform.db.session() as session:
        release = _target(session, user, app_name, version)
        image, config, target_version = release.image, release.config, release.version
    if not platform.runtime.image_exists(image):
        raise NotFound(
            f"the image of v{target_version} ({image}) is no longer on this server",
            hint="roll back to a more recent release, or deploy again from source",
        )
    return DeployRequest(
        app=app_name,
        user_email=user.email,
        config=from_stored(config),
        image=image,
        description=f"Rollback to v{target_version}",
    )


def _target(session: Session, user: User, app_name: str, version: int | None) -> Release:
    releases = app_releases(session, find_app(session, app_name, user))
    if version is not None:
        for release in releases:
            if release.version == version:
                return release
        raise NotFound(
            f"app {app_name} has no release v{version}",
            hint=f"list them with `hangar releases -a {app_name}`",
        )
    complete = [r for r in releases if r.status == ReleaseStatus.COMPLETE]
    if len(complete) < 2:
        raise InvalidInput(
            f"app {app_name} has no earlier complete release to roll back to",
            hint="pass a version, e.g. `hangar rollback 3`",
        )
    return complete[1]


def start_rollback(
    deployer: Deployer,
    user: User,
    app_name: str,
    version: int | None,
    strategy: str | None = None,
    wait_for_lock: bool = False,
) -> Deployment:
    """Deploy release `version` (default: the one before the newest complete) again."""
    request = rollback_request(deployer.platform, user, app_name, version)
    request.strategy, request.wait_for_lock = strategy, wait_for_lock
    return deployer.start(request)
