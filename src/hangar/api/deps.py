"""Request-scoped dependencies: the platform, the current user."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hangar.api.scopes import check_deploy_scope
from hangar.control.apps import find_app
from hangar.control.deploy.engine import Deployer
from hangar.control.platform import Platform
from hangar.control.tokens import DEPLOY, authenticate
from hangar.errors import Unauthorized
from hangar.store.models import App, User

_bearer = HTTPBearer(auto_error=False)


def platform(request: Request) -> Platform:
    value: Platform = request.app.state.platform
    return value


def deployer(request: Request) -> Deployer:
    value: Deployer = request.app.state.deployer
    return value


def bearer_token(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("no access token was sent", hint="log in with `hangar auth login`")
    return credentials.credentials


@dataclass(frozen=True)
class Caller:
    """Who is calling, with which token."""

    user: User
    token_id: int
    kind: str


def current_caller(
    request: Request, secret: str = Depends(bearer_token), platform: Platform = Depends(platform)
) -> Caller:
    """The token's user; a deploy token only on the routes of its app that it may use.

    A route of one app (`/v1/apps/{name}/…`) is refused here, before its body is
    read, to anyone but the app's owner: every such route, new ones too.
    """
    with platform.db.session() as session:
        token = authenticate(session, secret)
        path_app = request.path_params.get("name")
        if token.kind == DEPLOY:
            app = session.get(App, token.app_id)
            route = request.scope["route"].path
            check_deploy_scope(app.name if app else "?", request.method, route, path_app)
        if path_app is not None:
            find_app(session, path_app, token.user)
        caller = Caller(token.user, token.id, token.kind)
        session.expunge(token.user)
        return caller


def current_user(caller: Caller = Depends(current_caller)) -> User:
    return caller.user
