"""Wire shapes of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Credentials(BaseModel):
    email: str
    password: str


class TokenOut(BaseModel):
    token: str
    email: str


class WhoAmI(BaseModel):
    email: str


class AppCreate(BaseModel):
    name: str | None = None
    region: str = "local"


class AppOut(BaseModel):
    name: str
    status: str
    region: str
    hostname: str
    url: str
    owner: str
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
