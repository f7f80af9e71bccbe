"""Wire shapes of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from hangar.control.tokens import MADE_TTL_MAX, TokenInfo
from hangar.store.models import Org

TWENTY_YEARS_S = MADE_TTL_MAX.total_seconds()


class Credentials(BaseModel):
    email: str
    password: str


class SignupIn(Credentials):
    invite: str | None = None  # a code from `hangar orgs invite`


class TokenOut(BaseModel):
    token: str
    email: str


class WhoAmI(BaseModel):
    email: str


class OrgCreate(BaseModel):
    name: str


class MemberOut(BaseModel):
    email: str
    role: str


class OrgOut(BaseModel):
    name: str
    personal: bool
    role: str  # the caller's
    members: list[MemberOut] | None = None  # in `show` only

    @classmethod
    def of(cls, org: Org, role: str, members: list[MemberOut] | None = None) -> OrgOut:
        return cls(name=org.name, personal=org.personal, role=role, members=members)


class InviteCreate(BaseModel):
    email: str
    role: str = "member"


class InviteOut(BaseModel):
    code: str  # shown this once; give it to the person invited
    org: str
    email: str
    role: str
    expires_at: datetime


class JoinIn(BaseModel):
    code: str


class PasswordChange(BaseModel):
    current_password: str
    new_password: str


class MadeTokenCreate(BaseModel):
    name: str = Field(default="", max_length=64)
    expiry_s: float | None = Field(  # default: 20 years
        default=None, gt=0, le=TWENTY_YEARS_S, allow_inf_nan=False
    )


class DeployTokenCreate(MadeTokenCreate):
    app: str


class OrgTokenCreate(MadeTokenCreate):
    org: str | None = None  # default: the caller's personal org


class TokenInfoOut(BaseModel):
    id: int
    kind: str
    name: str
    app: str | None
    org: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    current: bool  # the token this request was made with

    @classmethod
    def of(cls, info: TokenInfo, current: bool) -> TokenInfoOut:
        return cls(**vars(info), current=current)


class NewTokenOut(BaseModel):
    token: str  # shown this once; the server keeps only its hash
    info: TokenInfoOut


class AppCreate(BaseModel):
    name: str | None = None
    region: str = "local"
    org: str | None = None  # default: the caller's personal org


class AppOut(BaseModel):
    name: str
    status: str
    region: str
    hostname: str
    url: str
    owner: str
    org: str
    created_at: datetime


class MachineOut(BaseModel):
    id: str
    state: str
    region: str
    release: int
    checks: str
    host_port: int | None
    created_at: datetime
    updated_at: datetime
    restarts: int = 0  # automatic restarts since it was last deployed, started or restarted
    last_exit: str | None = None  # how its container last ended: "oom killed", "exit 1"


class ReleaseOut(BaseModel):
    version: int
    status: str
    description: str
    user: str
    image: str
    reason: str
    created_at: datetime


class AppStatusOut(BaseModel):
    app: AppOut
    machines: list[MachineOut]
    release: ReleaseOut | None


class UploadOut(BaseModel):
    upload_id: str
    bytes: int


class DeployCreate(BaseModel):
    config: dict[str, Any]
    upload_id: str | None = None
    image: str | None = None
    strategy: str | None = None
    wait_timeout: float | None = Field(default=None, gt=0)
    rollback: bool = True
    wait_for_lock: bool = False
    smoke_checks: bool = True


class RollbackCreate(BaseModel):
    version: int | None = None
    strategy: str | None = None
    wait_for_lock: bool = False


class DeployOut(BaseModel):
    id: str
    app: str


class ErrorOut(BaseModel):
    error: str
    message: str
    hint: str = ""


class SecretOut(BaseModel):
    """A secret as listed: its name and a digest of its value, never the value."""

    name: str
    digest: str
    status: str
    created_at: datetime
    updated_at: datetime


class SecretsSet(BaseModel):
    secrets: dict[str, SecretStr] = Field(min_length=1, description="NAME: value")
    stage: bool = Field(default=False, description="Store without restarting the machines")


class SecretsChangeOut(BaseModel):
    app: str
    names: list[str]
    deployment: str | None = None  # the restart, when one started
