"""Every API route, as read from /openapi.json, called as each identity that must not
reach the owner's app "web": the table of (route, identity) -> status, leak.

Used by tests/unit/test_isolation.py (which asserts on it) and
bench/isolation_table.py (which prints it). Runs on the fake platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hangar.control import tokens
from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.orgs import create_org
from hangar.control.platform import Platform
from hangar.store.models import Domain, Token, User

PUBLIC = {("POST", "/v1/auth/signup"), ("POST", "/v1/auth/login")}
OWNER, STRANGER = "owner@example.com", "stranger@example.com"
OWNER_SECRET = "OWNER_ONLY_SECRET_NAME"
WEB_LISTED = '"name":"web"'  # web in a listing of apps
WEB_DOMAIN = "shop.example.com"  # web's own domain
OTHER_ORG = "team"  # another org of the owner's: web is not in it
# What each identity must never see: the owner's tokens are theirs, so its email is theirs.
FOREIGN = {
    "another user": (OWNER, OWNER_SECRET, WEB_DOMAIN),
    "deploy token of another app": (OWNER_SECRET,),
    "deploy token of web": (),
    "org token of another org": (OWNER_SECRET, WEB_LISTED),
    "org token of web's org": (),
}
# token 1 is the owner's first login: another identity must not revoke it; "owner" is
# the owner's personal org (named after the email)
PATH_VALUES = {
    "name": "web",
    "machine_id": "m0000001",
    "deployment_id": "d0000001",
    "token_id": "1",
    "org": "owner",
    "email": OWNER,
    "hostname": WEB_DOMAIN,
}


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # the route's template, as OpenAPI names it
    identity: str
    status: int
    leaked: bool  # the body holds data this identity must not see (FOREIGN)


def routes(api: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in api.openapi()["paths"].items()
        for method in operations
        if (method.upper(), path) not in PUBLIC
    ]


def prepare(platform: Platform) -> None:
    """The owner with apps web and api (web with a secret) in their personal org, and an
    org "team" of theirs without apps; and a stranger."""
    with platform.db.session() as session:
        for email in (OWNER, STRANGER):
            signup(session, email, "a-long-enough-passphrase")
        owner = _user(session, OWNER)
        create_org(session, owner, OTHER_ORG)
        web, _ = (create_app(session, owner, name) for name in ("web", "api"))
        platform.secrets.set(session, web, {OWNER_SECRET: "value-1"})
        session.add(Domain(app_id=web.id, hostname=WEB_DOMAIN))


def identities(platform: Platform) -> dict[str, Callable[[], str | None]]:
    """Each identity as a function that mints a fresh token for one call (None: no token)."""
    return {
        "no token": lambda: None,
        "expired": lambda: session_token(platform, OWNER, expired=True),
        "revoked": lambda: _revoked_token(platform),
        "another user": lambda: session_token(platform, STRANGER),
        "deploy token of another app": lambda: _deploy_token(platform, "api"),
        "deploy token of web": lambda: _deploy_token(platform, "web"),
        "org token of another org": lambda: _org_token(platform, OTHER_ORG),
        "org token of web's org": lambda: _org_token(platform, "owner"),
    }


def call_table(platform: Platform, api: FastAPI) -> list[Call]:
    client = TestClient(api)
    calls = []
    for method, path in routes(api):
        url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], path)
        for identity, mint in identities(platform).items():
            secret = mint()
            headers = {"Authorization": f"Bearer {secret}"} if secret else {}
            response = client.request(method, url, headers=headers)
            foreign = FOREIGN.get(identity, (OWNER, OWNER_SECRET))
            leaked = any(marker in response.text for marker in foreign)
            calls.append(Call(method, path, identity, response.status_code, leaked))
    return calls


def _user(session, email: str) -> User:  # type: ignore[no-untyped-def]
    return session.scalars(select(User).where(User.email == email)).one()


def session_token(platform: Platform, email: str, expired: bool = False) -> str:
    with platform.db.session() as session:
        secret = tokens.issue_session(session, _user(session, email))
    if expired:
        past = datetime.now(UTC) - timedelta(seconds=1)
        with platform.db.session() as session:
            session.execute(
                update(Token)
                .where(Token.token_hash == tokens._digest(secret))
                .values(expires_at=past)
            )
    return secret


def _revoked_token(platform: Platform) -> str:
    secret = session_token(platform, OWNER)
    with platform.db.session() as session:
        tokens.revoke_secret(session, secret)
    return secret


def _deploy_token(platform: Platform, app: str) -> str:
    with platform.db.session() as session:
        secret, _ = tokens.issue_deploy_token(session, _user(session, OWNER), app)
    return secret


def _org_token(platform: Platform, org: str) -> str:
    with platform.db.session() as session:
        secret, _ = tokens.issue_org_token(session, _user(session, OWNER), org)
    return secret
