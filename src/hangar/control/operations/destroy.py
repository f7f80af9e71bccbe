"""Destroy an app: its route, containers and images, then the app itself."""

from __future__ import annotations

from hangar.control import leases
from hangar.control.apps import app_releases, find_app
from hangar.control.orgs import require_app_admin
from hangar.control.platform import Platform
from hangar.domain.image_names import is_release_image
from hangar.store.models import User


def destroy_app(platform: Platform, user: User, name: str) -> None:
    """Remove the app's route, containers and images, then the app itself."""
    with platform.db.session() as session:
        app = find_app(session, name, user)
        require_app_admin(session, app, user)
        images = {r.image for r in app_releases(session, app) if is_release_image(name, r.image)}
    with leases.app_lease(platform.db, name, "destroy"):
        _remove_everything(platform, user, name, images)


def _remove_everything(platform: Platform, user: User, name: str, images: set[str]) -> None:
    platform.edge.remove_app(name)
    platform.platform_log.forget(name)
    platform.edge_log.forget(name)
    platform.activities.forget(name)
    platform.metrics.forget(name)
    for container in platform.runtime.list_managed(app=name):
        platform.runtime.remove(container.container_id)
    platform.runtime.remove_app_network(name)
    for image in images:
        platform.runtime.remove_image(image)
    with platform.db.session() as session:
        session.delete(find_app(session, name, user))
