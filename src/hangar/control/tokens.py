"""Bearer tokens: login sessions, deploy tokens and org tokens, stored hashed,
expiring, revocable.

A token is shown once, when it is made; the store keeps its SHA-256 (a token
has 256 random bits, so an unsalted hash cannot be reversed). Every token
expires: a login session after SESSION_TTL, a deploy or org token when its
creator said (fly.io's default, 20 years). A deploy token reaches one app, an
org token what a member may do in one org; `api/scopes.py` says which routes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.control.apps import find_app
from hangar.control.orgs import find_org, personal_org
from hangar.domain.clock import SYSTEM_CLOCK, Clock, as_utc
from hangar.errors import InvalidInput, NotFound, Unauthorized
from hangar.store.models import App, Org, Token, User

SESSION_TTL = timedelta(days=30)
MADE_TTL_DEFAULT = timedelta(days=365 * 20)  # deploy and org tokens
MADE_TTL_MAX = timedelta(days=365 * 20)
LAST_USED_STEP = timedelta(minutes=5)  # last use is written at most this often
SESSION, DEPLOY, ORG = "session", "deploy", "org"
RELOGIN_HINT = "log in again with `hangar auth login` (or use a valid HANGAR_API_TOKEN)"


@dataclass(frozen=True)
class TokenInfo:
    id: int
    kind: str
    name: str
    app: str | None
    org: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


def issue_session(session: Session, user: User, clock: Clock = SYSTEM_CLOCK) -> str:
    return _issue(session, Token(user_id=user.id, kind=SESSION, name="login"), SESSION_TTL, clock)


def issue_deploy_token(
    session: Session,
    user: User,
    app_name: str,
    expiry: timedelta | None = None,
    name: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[str, TokenInfo]:
    """A deploy token of one of `user`'s apps: the secret (shown once) and what it is."""
    ttl = _made_ttl(expiry)
    app = find_app(session, app_name, user)
    token = Token(
        user_id=user.id, kind=DEPLOY, name=name[:64] or f"deploy {app.name}", app_id=app.id
    )
    secret = _issue(session, token, ttl, clock)
    session.flush()
    return secret, _info(token, app.name, None)


def issue_org_token(
    session: Session,
    user: User,
    org_name: str | None,
    expiry: timedelta | None = None,
    name: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[str, TokenInfo]:
    """An org token of one of `user`'s orgs (default their personal one): it does what a
    member may do there, for as long as `user` is one, and nothing outside it."""
    ttl = _made_ttl(expiry)
    org = find_org(session, org_name, user) if org_name else personal_org(session, user)
    token = Token(user_id=user.id, kind=ORG, name=name[:64] or f"org {org.name}", org_id=org.id)
    secret = _issue(session, token, ttl, clock)
    session.flush()
    return secret, _info(token, None, org.name)


def authenticate(session: Session, secret: str, clock: Clock = SYSTEM_CLOCK) -> Token:
    """The token `secret` is, with its user; Unauthorized if unknown, revoked or expired."""
    token = session.scalar(select(Token).where(Token.token_hash == _digest(secret)))
    if token is None:
        raise Unauthorized("the access token is not valid", hint=RELOGIN_HINT)
    now = clock.now()
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        raise Unauthorized("the access token has expired", hint=RELOGIN_HINT)
    if token.last_used_at is None or as_utc(token.last_used_at) + LAST_USED_STEP <= now:
        token.last_used_at = now
    return token


def list_tokens(session: Session, user: User) -> list[TokenInfo]:
    rows = session.execute(
        select(Token, App.name, Org.name)
        .outerjoin(App, Token.app_id == App.id)
        .outerjoin(Org, Token.org_id == Org.id)
        .where(Token.user_id == user.id)
        .order_by(Token.id)
    ).all()
    return [_info(token, app, org) for token, app, org in rows]


def revoke_id(session: Session, user: User, token_id: int) -> None:
    """Revoke one of `user`'s tokens; anyone else's is as missing as one that never was."""
    token = session.get(Token, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"token {token_id} not found", hint="list yours with `hangar tokens list`")
    session.delete(token)


def revoke_secret(session: Session, secret: str) -> None:
    token = session.scalar(select(Token).where(Token.token_hash == _digest(secret)))
    if token is not None:
        session.delete(token)


def revoke_sessions(session: Session, user: User, keep: int | None = None) -> None:
    """End every login session of `user` but `keep` (after a password change)."""
    for token in session.scalars(
        select(Token).where(Token.user_id == user.id, Token.kind == SESSION)
    ):
        if token.id != keep:
            session.delete(token)


def _made_ttl(expiry: timedelta | None) -> timedelta:
    ttl = MADE_TTL_DEFAULT if expiry is None else expiry
    if ttl <= timedelta(0) or ttl > MADE_TTL_MAX:
        raise InvalidInput(
            "the expiry must be in the future and at most 20 years away",
            hint="give --expiry as a duration like 720h",
        )
    return ttl


def _issue(session: Session, token: Token, ttl: timedelta, clock: Clock) -> str:
    secret = "hgr_" + secrets.token_urlsafe(32)
    token.token_hash = _digest(secret)
    token.created_at = clock.now()
    token.expires_at = clock.now() + ttl
    session.add(token)
    return secret


def _info(token: Token, app: str | None, org: str | None) -> TokenInfo:
    return TokenInfo(
        token.id,
        token.kind,
        token.name,
        app,
        org,
        as_utc(token.created_at),
        as_utc(token.expires_at) if token.expires_at else None,
        as_utc(token.last_used_at) if token.last_used_at else None,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
