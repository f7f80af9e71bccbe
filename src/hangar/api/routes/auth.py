from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from hangar.api.deps import Caller, bearer_token, current_caller, current_user, platform
from hangar.api.schemas import Credentials, PasswordChange, SignupIn, TokenOut, WhoAmI
from hangar.control import accounts, tokens
from hangar.control.platform import Platform
from hangar.store.models import User

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/signup", response_model=TokenOut, status_code=201)
def signup(body: SignupIn, p: Platform = Depends(platform)) -> TokenOut:
    policy = p.settings.signup_policy
    with p.db.session() as session:
        token = accounts.signup(session, body.email, body.password, policy, body.invite)
    return TokenOut(token=token, email=body.email.strip().lower())


@router.post("/login", response_model=TokenOut)
def login(body: Credentials, request: Request, p: Platform = Depends(platform)) -> TokenOut:
    address = request.client.host if request.client else "unknown"
    with p.db.session() as session:
        token = accounts.login(session, body.email, body.password, address, p.login_limits)
    return TokenOut(token=token, email=body.email.strip().lower())


@router.get("/whoami", response_model=WhoAmI)
def whoami(user: User = Depends(current_user)) -> WhoAmI:
    return WhoAmI(email=user.email)


@router.post("/logout", status_code=204)
def logout(
    secret: str = Depends(bearer_token),
    _user: User = Depends(current_user),
    p: Platform = Depends(platform),
) -> None:
    with p.db.session() as session:
        tokens.revoke_secret(session, secret)


@router.post("/password", status_code=204)
def change_password(
    body: PasswordChange, caller: Caller = Depends(current_caller), p: Platform = Depends(platform)
) -> None:
    """Set a new password; every other login session of the account ends."""
    with p.db.session() as session:
        accounts.change_password(
            session, caller.user, body.current_password, body.new_password, caller.token_id
        )
