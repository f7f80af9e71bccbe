"""Apps: create, find (yours only), list, destroy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.control import leases
from hangar.control.images import is_release_image
from hangar.control.platform import Platform
from hangar.domain.names import generate_app_name, validate_app_name
from hangar.domain.states import AppStatus
from hangar.errors import Conflict, Forbidden, NotFound
from hangar.store.models import App, Machine, Release, User


def create_app(session: Session, owner: User, name: str | None, region: str = "local") -> App:
    name = validate_app_name(name) if name else _free_name(session)
    if session.scalar(select(App).where(App.name == name)) is not None:
        raise Conflict(f"an app named {name!r} already exists", hint="choose another name")
    app = App(name=name, owner_id=owner.id, status=AppStatus.PENDING, region=region)
    session.add(app)
    session.flush()
    return app


def get_app(session: Session, user: User, name: str) -> App:
    app = session.scalar(select(App).where(App.name == name))
    if app is None:
        raise NotFound(f"app {name!r} not found", hint="list your apps with `hangar apps list`")
    if app.owner_id != user.id:
        raise Forbidden(f"app {name!r} is not yours", hint="use one of your apps, or ask its owner")
    return app


def list_apps(session: Session, user: User) -> list[App]:
    return list(session.scalars(select(App).where(App.owner_id == user.id).order_by(App.name)))


def app_machines(session: Session, app: App) -> list[Machine]:
    query = select(Machine).where(Machine.app_id == app.id).order_by(Machine.created_at)
    return list(session.scalars(query))


def app_releases(session: Session, app: App) -> list[Release]:
    query = select(Release).where(Release.app_id == app.id).order_by(Release.version.desc())
    return list(session.scalars(query))


def destroy_app(platform: Platform, user: User, name: str) -> None:
    """Remove the app's route, containers and images, then the app itself."""
    with platform.db.session() as session:
        app = get_app(session, user, name)
        images = {r.image for r in app_releases(session, app) if is_release_image(name, r.image)}
    with leases.app_lease(platform.db, name, "destroy"):
        _remove_everything(platform, user, name, images)


def _remove_everything(platform: Platform, user: User, name: str, images: set[str]) -> None:
    platform.edge.remove_app(name)
    platform.platform_log.forget(name)
    for container in platform.runtime.list_managed(app=name):
        platform.runtime.remove(container.container_id)
    for image in images:
        platform.runtime.remove_image(image)
    with platform.db.session() as session:
        session.delete(get_app(session, user, name))


def _free_name(session: Session) -> str:
    while True:
        name = generate_app_name()
        if session.scalar(select(App).where(App.name == name)) is None:
            return name
