"""Request-scoped dependencies: the platform, the current user."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hangar.control.accounts import authenticate
from hangar.control.deploy.engine import Deployer
from hangar.control.platform import Platform
from hangar.errors import Unauthorized
from hangar.store.models import User

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


def current_user(
    token: str = Depends(bearer_token), platform: Platform = Depends(platform)
) -> User:
    with platform.db.session() as session:
        user = authenticate(session, token)
        session.expunge(user)
        return user
