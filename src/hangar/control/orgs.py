"""Organisations (fly.io's model): apps belong to an org, users are its members.

Every user has a personal org, made with the account. Members see and deploy
the org's apps; admins also destroy apps and manage members, and an org always
keeps one admin. People join through one-time invite codes for their email,
stored hashed, that expire.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from hangar.domain.clock import SYSTEM_CLOCK, Clock, as_utc
from hangar.domain.credentials import normal_email
from hangar.domain.names import validate_org_name
from hangar.errors import Conflict, Forbidden, InvalidInput, NotFound
from hangar.store.database import flush
from hangar.store.models import App, Invite, Membership, Org, Token, User

ADMIN, MEMBER = "admin", "member"
ROLES = (ADMIN, MEMBER)
INVITE_TTL = timedelta(days=7)
INVITE_HINT = "ask an admin of the org for a new invite (`hangar orgs invite EMAIL`)"


def create_personal_org(session: Session, user: User) -> Org:
    base = re.sub(r"[^a-z0-9]+", "-", user.email.split("@")[0]).strip("-")[:30] or "user"
    name, number = base, 1
    while session.scalar(select(Org).where(Org.name == name)) is not None:
        number += 1
        name = f"{base}-{number}"
    return _new_org(session, user, name, personal=True)


def create_org(session: Session, user: User, name: str) -> Org:
    validate_org_name(name)
    if session.scalar(select(Org).where(Org.name == name)) is not None:
        raise Conflict(f"an org named {name!r} already exists", hint="choose another name")
    return _new_org(session, user, name, personal=False)


def personal_org(session: Session, user: User) -> Org:
    query = select(Org).join(Membership).where(Membership.user_id == user.id, Org.personal)
    org = session.scalars(query.order_by(Org.id)).first()
    if org is None:  # cannot happen after migration 0009; kept as a clear error
        raise NotFound(f"{user.email} has no personal org", hint="ask the server's admin")
    return org


def role_in(session: Session, org_id: int, user: User) -> str | None:
    membership = session.get(Membership, (org_id, user.id))
    return membership.role if membership else None


def find_org(session: Session, name: str, user: User, role: str | None = None) -> Org:
    """The org `name` if `user` is a member (an admin, when `role` says so)."""
    org = session.scalar(select(Org).where(Org.name == name))
    held = role_in(session, org.id, user) if org else None
    if org is None or held is None:
        raise NotFound(f"org {name!r} not found", hint="list yours with `hangar orgs list`")
    if role == ADMIN and held != ADMIN:
        raise Forbidden(f"only an admin of {name} can do this", hint="ask one of its admins")
    return org


def user_orgs(session: Session, user: User) -> list[tuple[Org, str]]:
    query = select(Org, Membership.role).join(Membership).where(Membership.user_id == user.id)
    return [(org, role) for org, role in session.execute(query.order_by(Org.name)).all()]


def members(session: Session, org: Org) -> list[Membership]:
    query = select(Membership).where(Membership.org_id == org.id).order_by(Membership.created_at)
    return list(session.scalars(query))


def require_app_admin(session: Session, app: App, user: User) -> None:
    if role_in(session, app.org_id, user) != ADMIN:
        raise Forbidden(
            f"only an admin of the app's org can destroy {app.name}", hint="ask one of its admins"
        )


def invite(
    session: Session, admin: User, org_name: str, email: str, role: str, clock: Clock = SYSTEM_CLOCK
) -> tuple[str, Invite]:
    """A one-time code for `email` to join the org as `role`; the code is shown once."""
    org = find_org(session, org_name, admin, role=ADMIN)
    email = normal_email(email)
    if role not in ROLES:
        raise InvalidInput(
            f"role {role!r} is not one of {', '.join(ROLES)}", hint="use admin or member"
        )
    if org.personal:
        raise InvalidInput(
            f"{org.name} is a personal org",
            hint="create an org to share: `hangar orgs create NAME`",
        )
    if any(m.user.email == email for m in members(session, org)):
        raise Conflict(f"{email} is already a member of {org.name}", hint="nothing to do")
    code = "inv_" + secrets.token_urlsafe(24)
    made = Invite(
        org_id=org.id,
        email=email,
        role=role,
        code_hash=_digest(code),
        created_by=admin.id,
        expires_at=clock.now() + INVITE_TTL,
    )
    session.add(made)
    flush(session)
    return code, made


def accept_invite(session: Session, user: User, code: str, clock: Clock = SYSTEM_CLOCK) -> Org:
    """Join the org of `code`, made for this user's email, once, before it expires."""
    found = session.scalar(select(Invite).where(Invite.code_hash == _digest(code)))
    if found is None or found.email != user.email:
        raise InvalidInput("the invite code is not valid for this email", hint=INVITE_HINT)
    if found.used_at is not None:
        raise InvalidInput("the invite code was already used", hint=INVITE_HINT)
    if as_utc(found.expires_at) <= clock.now():
        raise InvalidInput("the invite code has expired", hint=INVITE_HINT)
    found.used_at = clock.now()
    org = session.get(Org, found.org_id)
    assert org is not None
    if role_in(session, org.id, user) is None:
        session.add(Membership(org_id=org.id, user_id=user.id, role=found.role))
    return org


def remove_member(session: Session, admin: User, org_name: str, email: str) -> None:
    org = find_org(session, org_name, admin, role=ADMIN)
    _remove(session, org, normal_email(email))


def leave(session: Session, user: User, org_name: str) -> None:
    org = find_org(session, org_name, user)
    if org.personal:
        raise InvalidInput(f"{org.name} is your personal org", hint="it cannot be left")
    _remove(session, org, user.email)


def _remove(session: Session, org: Org, email: str) -> None:
    # Two admins removing each other at once: the second waits, then counts one admin
    # (PostgreSQL; SQLite has one writer anyway).
    session.execute(select(Org.id).where(Org.id == org.id).with_for_update())
    membership = next((m for m in members(session, org) if m.user.email == email), None)
    if membership is None:
        raise NotFound(f"{email} is not a member of {org.name}", hint="see `hangar orgs show`")
    admins = session.scalar(
        select(func.count()).where(Membership.org_id == org.id, Membership.role == ADMIN)
    )
    if membership.role == ADMIN and (admins or 0) <= 1:
        raise Conflict(
            f"{email} is the last admin of {org.name}",
            hint="invite another admin first (`hangar orgs invite EMAIL --role admin`)",
        )
    session.delete(membership)
    _revoke_tokens_in(session, org, membership.user_id)
    _drop_open_invites(session, org, membership.user_id, email)


def _drop_open_invites(session: Session, org: Org, user_id: int, email: str) -> None:
    """The unused invites the member made, or that were made for them, end with them:
    a removed admin cannot come back through an invite they left for themselves."""
    session.execute(
        delete(Invite).where(
            Invite.org_id == org.id,
            Invite.used_at.is_(None),
            or_(Invite.created_by == user_id, Invite.email == email),
        )
    )


def _revoke_tokens_in(session: Session, org: Org, user_id: int) -> None:
    """A member who goes loses their tokens of the org and of its apps for good, so that
    joining again does not bring them back."""
    apps = select(App.id).where(App.org_id == org.id)
    session.execute(
        delete(Token).where(
            Token.user_id == user_id, or_(Token.org_id == org.id, Token.app_id.in_(apps))
        )
    )


def _new_org(session: Session, user: User, name: str, personal: bool) -> Org:
    org = Org(name=name, personal=personal)
    session.add(org)
    flush(session)
    session.add(Membership(org_id=org.id, user_id=user.id, role=ADMIN))
    return org


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
