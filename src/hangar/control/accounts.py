"""Sign-up, log-in (rate-limited, answering alike for every email) and password change."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hangar.control.login_limits import LoginLimits
from hangar.control.orgs import accept_invite, create_personal_org
from hangar.control.tokens import issue_session, revoke_sessions
from hangar.domain.credentials import check_password, normal_email
from hangar.errors import ConcurrentChange, Conflict, Forbidden, Unauthorized
from hangar.store.database import flush
from hangar.store.models import User
from hangar.store.passwords import hash_password, password_matches

WRONG = "wrong email or password"
OPEN, INVITE = "open", "invite"  # the sign-up policies


def signup(
    session: Session, email: str, password: str, policy: str = OPEN, invite: str | None = None
) -> str:
    """A new account with its personal org, and its first session token.

    The first account of a server is its admin and needs no invite; after that,
    the `invite` policy lets in only people with an invite code for their email.
    """
    email = normal_email(email)
    check_password(password, email)
    taken = Conflict(f"{email} already has an account", hint="log in with `hangar auth login`")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise taken
    first = session.scalar(select(func.count()).select_from(User)) == 0
    if policy == INVITE and not first and not invite:
        raise Forbidden(
            "sign-up on this server is by invitation",
            hint="ask a member for an invite code, then `hangar auth signup --invite CODE`",
        )
    user = User(email=email, password_hash=hash_password(password), is_admin=first)
    session.add(user)
    try:
        flush(session)
    except ConcurrentChange as exc:  # the same email signed up by two requests at once
        raise taken from exc
    create_personal_org(session, user)
    if invite:
        accept_invite(session, user, invite)
    return issue_session(session, user)


def login(
    session: Session, email: str, password: str, address: str, limits: LoginLimits | None = None
) -> str:
    """A new session token. Every email costs one password check, known or not; failures
    count against the address and the email (TooManyAttempts past the limits)."""
    email = email.strip().lower()
    if limits is not None:
        limits.check(address, email)
    user = session.scalar(select(User).where(User.email == email))
    matches = password_matches(user.password_hash if user else None, password)
    if user is None or not matches:
        if limits is not None:
            limits.failed(address, email)
        raise Unauthorized(WRONG, hint="check both, or sign up with `hangar auth signup`")
    if limits is not None:
        limits.succeeded(email)
    return issue_session(session, user)


def change_password(
    session: Session, user: User, current: str, new: str, keep_token: int | None
) -> None:
    """Set a new password and end every other login session of the user."""
    stored = session.get(User, user.id)
    if stored is None or not password_matches(stored.password_hash, current):
        raise Forbidden("the current password is wrong", hint="give the password you log in with")
    check_password(new, stored.email)
    stored.password_hash = hash_password(new)
    revoke_sessions(session, stored, keep=keep_token)
