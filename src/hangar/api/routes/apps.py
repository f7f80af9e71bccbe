from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from hangar.api.deps import Caller, current_caller, current_user, platform
from hangar.api.schemas import AppCreate, AppOut, AppStatusOut, ReleaseOut
from hangar.api.scopes import org_for
from hangar.api.views import app_out, machine_out, release_out
from hangar.control import apps
from hangar.control.operations.destroy import destroy_app
from hangar.control.platform import Platform
from hangar.control.supervision.reconcile import desired_routes
from hangar.errors import NotFound
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps", tags=["apps"])


@router.post("", response_model=AppOut, status_code=201)
def create(
    body: AppCreate, caller: Caller = Depends(current_caller), p: Platform = Depends(platform)
) -> AppOut:
    org = org_for(caller.org, body.org)
    with p.db.session() as session:
        app = apps.create_app(session, caller.user, body.name, body.region, org)
        out = app_out(app, p.settings)
    p.edge.sync(desired_routes(p))
    return out


@router.get("", response_model=list[AppOut])
def list_all(
    org: str | None = None,
    caller: Caller = Depends(current_caller),
    p: Platform = Depends(platform),
) -> list[AppOut]:
    """The apps of every org you are in (or of `org` only)."""
    within = org_for(caller.org, org)
    with p.db.session() as session:
        return [app_out(app, p.settings) for app in apps.list_apps(session, caller.user, within)]


@router.get("/{name}", response_model=AppStatusOut)
def status(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> AppStatusOut:
    with p.db.session() as session:
        app = apps.find_app(session, name, user)
        releases = apps.app_releases(session, app)
        return AppStatusOut(
            app=app_out(app, p.settings),
            machines=[machine_out(m) for m in apps.app_machines(session, app)],
            release=release_out(releases[0]) if releases else None,
        )


@router.delete("/{name}", status_code=204)
def destroy(name: str, user: User = Depends(current_user), p: Platform = Depends(platform)) -> None:
    destroy_app(p, user, name)


@router.get("/{name}/releases", response_model=list[ReleaseOut])
def releases(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> list[ReleaseOut]:
    with p.db.session() as session:
        app = apps.find_app(session, name, user)
        return [release_out(r) for r in apps.app_releases(session, app)]


@router.get("/{name}/config")
def config(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> dict[str, Any]:
    with p.db.session() as session:
        app = apps.find_app(session, name, user)
        if app.config is None:
            raise NotFound(f"app {name!r} has no config yet", hint="deploy it first")
        return app.config
