"""Apps: create, find (yours only), list; their machines and releases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.control.orgs import find_org, personal_org, role_in, user_orgs
from hangar.domain.names import generate_app_name, validate_app_name
from hangar.domain.states import AppStatus
from hangar.errors import Conflict, Forbidden, NotFound
from hangar.store.models import App, Machine, Release, User


def create_app(
    session: Session, owner: User, name: str | None, region: str = "local", org: str | None = None
) -> App:
    """A new app of `org` (one of the owner's; default their personal org)."""
    name = validate_app_name(name) if name else _free_name(session)
    home = find_org(session, org, owner) if org else personal_org(session, owner)
    if app_named(session, name) is not None:
        raise Conflict(f"an app named {name!r} already exists", hint="choose another name")
    app = App(name=name, owner_id=owner.id, org_id=home.id, status=AppStatus.PENDING, region=region)
    session.add(app)
    session.flush()
    return app


def find_app(session: Session, name: str, user: User | None = None) -> App:
    """The app called `name`; with `user`, only if they are a member of its org.
    The one way to find an app."""
    app = app_named(session, name)
    if app is None:
        raise NotFound(f"app {name!r} not found", hint="list your apps with `hangar apps list`")
    if user is not None and role_in(session, app.org_id, user) is None:
        raise Forbidden(f"app {name!r} is not yours", hint="use one of your apps, or ask its owner")
    return app


def app_named(session: Session, name: str) -> App | None:
    """The app called `name`, or None: for callers to whom a missing app is no error."""
    return session.scalar(select(App).where(App.name == name))


def list_apps(session: Session, user: User, org: str | None = None) -> list[App]:
    """The apps of every org `user` is in, or of `org` only."""
    orgs = [find_org(session, org, user).id] if org else [o.id for o, _ in user_orgs(session, user)]
    return list(session.scalars(select(App).where(App.org_id.in_(orgs)).order_by(App.name)))


def app_machines(session: Session, app: App) -> list[Machine]:
    query = select(Machine).where(Machine.app_id == app.id).order_by(Machine.created_at)
    return list(session.scalars(query))


def app_releases(session: Session, app: App) -> list[Release]:
    query = select(Release).where(Release.app_id == app.id).order_by(Release.version.desc())
    return list(session.scalars(query))


def _free_name(session: Session) -> str:
    while True:
        name = generate_app_name()
        if app_named(session, name) is None:
            return name
