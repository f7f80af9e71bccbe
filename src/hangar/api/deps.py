"""Request-scoped dependencies: the platform, the current user."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hangar.api.scopes import check_deploy_scope, check_org_scope
from hangar.control.apps import find_app
from hangar.control.deploy.engine import Deployer
from hangar.control.orgs import role_in
from hangar.control.platform import Platform
from hangar.control.tokens import DEPLOY, ORG, RELOGIN_HINT, SESSION, authenticate
from hangar.errors import Unauthorized
from hangar.store.models import App, Org, Token, User

_bearer = HTTPBearer(auto_error=False)
KINDS = frozenset({SESSION, DEPLOY, ORG})


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
    org: str | None = None  # an org token's one org


def current_caller(
    request: Request, secret: str = Depends(bearer_token), platform: Platform = Depends(platform)
) -> Caller:
    """The token's user; a deploy token only on the routes of its app that it may use,
    an org token only on those of its org.

    A route of one app (`/v1/apps/{name}/…`) is refused here, before its body is
    read, to anyone but a member of the app's org: every such route, new ones too.
    """
    with platform.db.session() as session:
        token = authenticate(session, secret)
        if token.kind not in KINDS:  # a kind this server does not know is no login
            raise Unauthorized("this kind of token is not valid here", hint=RELOGIN_HINT)
        route = request.scope["route"].path
        path_app = request.path_params.get("name")
        if token.kind == DEPLOY:
            app = session.get(App, token.app_id)
            check_deploy_scope(app.name if app else "?", request.method, route, path_app)
        path_orgs = {request.path_params["org"]} if "org" in request.path_params else set()
        if path_app is not None:
            path_orgs.add(find_app(session, path_app, token.user).org.name)
        org = _token_org(session, token)
        if org is not None:
            check_org_scope(org, request.method, route, path_orgs)
        caller = Caller(token.user, token.id, token.kind, org)
        session.expunge(token.user)
        return caller


def _token_org(session: Session, token: Token) -> str | None:
    """An org token's org, while its maker is still a member; None for other tokens."""
    if token.kind != ORG:
        return None
    org = session.get(Org, token.org_id)
    if org is None or role_in(session, org.id, token.user) is None:
        raise Unauthorized(
            "this org token no longer works: its maker is not a member of its org",
            hint="make a new one with `hangar tokens create org`",
        )
    return org.name


def current_user(caller: Caller = Depends(current_caller)) -> User:
    return caller.user
