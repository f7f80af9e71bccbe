"""Sign-up, log-in and bearer tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.errors import ConcurrentChange, Conflict, InvalidInput, Unauthorized
from hangar.store.database import flush
from hangar.store.models import Token, User
from hangar.store.passwords import hash_password, password_matches

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = 8


def signup(session: Session, email: str, password: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address", hint="use name@example.com")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "the password is too short", hint=f"use at least {MIN_PASSWORD} characters"
        )
    taken = Conflict(f"{email} already has an account", hint="log in with `hangar auth login`")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise taken
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    try:
        flush(session)
    except ConcurrentChange as exc:  # the same email signed up by two requests at once
        raise taken from exc
    return issue_token(session, user)


def login(session: Session, email: str, password: str) -> str:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    matches = password_matches(user.password_hash if user else None, password)
    if user is None or not matches:
        raise Unauthorized(
            "wrong email or password", hint="check both, or sign up with `hangar auth signup`"
        )
    return issue_token(session, user)


def issue_token(session: Session, user: User) -> str:
    token = "hgr_" + secrets.token_urlsafe(32)
    session.add(Token(user_id=user.id, token_hash=_digest(token)))
    return token


def authenticate(session: Session, token: str) -> User:
    found = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if found is None:
        raise Unauthorized(
            "the access token is not valid", hint="log in again with `hangar auth login`"
        )
    return found.user


def revoke(session: Session, token: str) -> None:
    found = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if found is not None:
        session.delete(found)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
