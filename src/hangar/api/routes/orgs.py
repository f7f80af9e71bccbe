"""Organisations: list, create, show members, invite, remove a member, leave, join."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from hangar.api.deps import Caller, current_caller, current_user, platform
from hangar.api.schemas import InviteCreate, InviteOut, JoinIn, MemberOut, OrgCreate, OrgOut
from hangar.control import orgs
from hangar.control.platform import Platform
from hangar.store.models import User

router = APIRouter(prefix="/v1/orgs", tags=["orgs"])


@router.get("", response_model=list[OrgOut])
def list_orgs(
    caller: Caller = Depends(current_caller), p: Platform = Depends(platform)
) -> list[OrgOut]:
    """Your orgs (an org token's one org)."""
    with p.db.session() as session:
        found = orgs.user_orgs(session, caller.user)
        return [OrgOut.of(org, role) for org, role in found if caller.org in (None, org.name)]


@router.post("", response_model=OrgOut, status_code=201)
def create(
    body: OrgCreate, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> OrgOut:
    with p.db.session() as session:
        return OrgOut.of(orgs.create_org(session, user, body.name), orgs.ADMIN)


@router.post("/join", response_model=OrgOut)
def join(
    body: JoinIn, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> OrgOut:
    """Accept an invite made for your email."""
    with p.db.session() as session:
        org = orgs.accept_invite(session, user, body.code)
        return OrgOut.of(org, orgs.role_in(session, org.id, user) or orgs.MEMBER)


@router.get("/{org}", response_model=OrgOut)
def show(org: str, user: User = Depends(current_user), p: Platform = Depends(platform)) -> OrgOut:
    with p.db.session() as session:
        found = orgs.find_org(session, org, user)
        people = [MemberOut(email=m.user.email, role=m.role) for m in orgs.members(session, found)]
        return OrgOut.of(found, orgs.role_in(session, found.id, user) or "", people)


@router.post("/{org}/invites", response_model=InviteOut, status_code=201)
def invite(
    org: str,
    body: InviteCreate,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
) -> InviteOut:
    """A one-time code for the email to join (shown once; it expires in 7 days)."""
    with p.db.session() as session:
        code, made = orgs.invite(session, user, org, body.email, body.role)
        return InviteOut(
            code=code, org=org, email=made.email, role=made.role, expires_at=made.expires_at
        )


@router.delete("/{org}/members/{email:path}", status_code=204)
def remove_member(
    org: str, email: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> None:
    with p.db.session() as session:
        orgs.remove_member(session, user, org, email)


@router.post("/{org}/leave", status_code=204)
def leave(org: str, user: User = Depends(current_user), p: Platform = Depends(platform)) -> None:
    with p.db.session() as session:
        orgs.leave(session, user, org)
