from __future__ import annotations

from fastapi import APIRouter, Depends

from hangar.api.deps import bearer_token, current_user, platform
from hangar.api.schemas import Credentials, TokenOut, WhoAmI
from hangar.control import accounts
from hangar.control.platform import Platform
from hangar.store.models import User

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/signup", response_model=TokenOut, status_code=201)
def signup(body: Credentials, p: Platform = Depends(platform)) -> TokenOut:
    with p.db.session() as session:
        token = accounts.signup(session, body.email, body.password)
    return TokenOut(token=token, email=body.email.strip().lower())


@router.post("/login", response_model=TokenOut)
def login(body: Credentials, p: Platform = Depends(platform)) -> TokenOut:
    with p.db.session() as session:
        token = accounts.login(session, body.email, body.password)
    return TokenOut(token=token, email=body.email.strip().lower())


@router.get("/whoami", response_model=WhoAmI)
def whoami(user: User = Depends(current_user)) -> WhoAmI:
    return WhoAmI(email=user.email)


@router.post("/logout", status_code=204)
def logout(
    token: str = Depends(bearer_token),
    _user: User = Depends(current_user),
    p: Platform = Depends(platform),
) -> None:
    with p.db.session() as session:
        accounts.revoke(session, token)
