"""The caller's tokens: list, make a deploy token of an app or an org token, revoke
(fly's `tokens`)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Path

from hangar.api.deps import Caller, current_caller, platform
from hangar.api.schemas import (
    DeployTokenCreate,
    MadeTokenCreate,
    NewTokenOut,
    OrgTokenCreate,
    TokenInfoOut,
)
from hangar.control import tokens
from hangar.control.platform import Platform

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])
MAX_ID = 2**63 - 1  # the store's integers


@router.get("", response_model=list[TokenInfoOut])
def list_tokens(
    caller: Caller = Depends(current_caller), p: Platform = Depends(platform)
) -> list[TokenInfoOut]:
    with p.db.session() as session:
        found = tokens.list_tokens(session, caller.user)
    return [TokenInfoOut.of(info, current=info.id == caller.token_id) for info in found]


@router.post("/deploy", response_model=NewTokenOut, status_code=201)
def create_deploy_token(
    body: DeployTokenCreate,
    caller: Caller = Depends(current_caller),
    p: Platform = Depends(platform),
) -> NewTokenOut:
    """A token that can deploy one app (and read it, and set its secrets): shown once."""
    with p.db.session() as session:
        secret, info = tokens.issue_deploy_token(
            session, caller.user, body.app, _expiry(body), body.name
        )
    return NewTokenOut(token=secret, info=TokenInfoOut.of(info, current=False))


@router.post("/org", response_model=NewTokenOut, status_code=201)
def create_org_token(
    body: OrgTokenCreate,
    caller: Caller = Depends(current_caller),
    p: Platform = Depends(platform),
) -> NewTokenOut:
    """A token that does what a member may do in one org (default: your personal one),
    and nothing outside it: shown once."""
    with p.db.session() as session:
        secret, info = tokens.issue_org_token(
            session, caller.user, body.org, _expiry(body), body.name
        )
    return NewTokenOut(token=secret, info=TokenInfoOut.of(info, current=False))


@router.delete("/{token_id}", status_code=204)
def revoke(
    token_id: int = Path(ge=1, le=MAX_ID),
    caller: Caller = Depends(current_caller),
    p: Platform = Depends(platform),
) -> None:
    with p.db.session() as session:
        tokens.revoke_id(session, caller.user, token_id)


def _expiry(body: MadeTokenCreate) -> timedelta | None:
    return None if body.expiry_s is None else timedelta(seconds=body.expiry_s)
