"""Wire shapes of scaling, restarts and clones."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ScaleCount(BaseModel):
    count: int = Field(description="How many machines the app should have")


class ScaleVm(BaseModel):
    size: str | None = Field(default=None, description="A VM size, e.g. shared-cpu-2x")
    memory: str | int | None = Field(default=None, description='Megabytes, e.g. 512 or "1gb"')


class ScalePlanOut(BaseModel):
    app: str
    current: int
    desired: int
    add: int
    remove: list[str]
    summary: str  # "+1 machine", "-2 machines: a, b", "no change"


class VmOut(BaseModel):
    size: str | None  # None: no [[vm]], the machines run without limits
    cpus: int | None
    memory_mb: int | None


class RestartPolicyOut(BaseModel):
    policy: str
    retries: int


class ScaleOut(BaseModel):
    app: str
    count: int
    regions: dict[str, int]
    release: int | None  # the current release; None when never deployed
    vm: VmOut
    restart: RestartPolicyOut
