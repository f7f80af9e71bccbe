"""fly.toml as pydantic models, following fly.io's schema for the keys Hangar uses."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hangar.domain.check_syntax import CHECK_PATH, HTTP_METHOD
from hangar.domain.durations import parse_duration
from hangar.domain.restart_policy import DEFAULT_RETRIES
from hangar.domain.vm_sizes import parse_memory_mb
from hangar.errors import InvalidInput

Seconds = Annotated[float, BeforeValidator(parse_duration)]
STRATEGIES = ("rolling", "immediate", "canary", "bluegreen")
SIGNALS = ("SIGINT", "SIGTERM", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGKILL", "SIGHUP")


class Section(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Build(Section):
    dockerfile: str | None = None
    image: str | None = None
    args: dict[str, str] = Field(default_factory=dict)


class Deploy(Section):
    strategy: Literal["rolling", "immediate", "canary", "bluegreen"] = "rolling"
    max_unavailable: float = 1
    wait_timeout: Seconds = 300.0
    release_command: str | None = None
    # Hangar's: start each new container beside the old one, or (for an app that
    # cannot run two copies at once) stop the old one first, as fly.io does.
    order: Literal["start-first", "stop-first"] = "start-first"

    @field_validator("max_unavailable")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0 or (value > 1 and not value.is_integer()):
            raise ValueError("expected a count of at least 1 or a fraction between 0 and 1")
        return value


class HttpCheck(Section):
    grace_period: Seconds = 1.0
    interval: Seconds = 1.0
    timeout: Seconds = 2.0
    method: str = "GET"
    path: str = "/"
    protocol: Literal["http"] = "http"

    @field_validator("interval", "timeout")
    @classmethod
    def _positive_duration(cls, value: float) -> float:
        if value <= 0:
            raise ValueError('expected a duration greater than zero, such as "5s"')
        return value

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not CHECK_PATH.match(value):
            raise ValueError('expected a URL path starting with / and no spaces, "#" or quotes')
        return value

    @field_validator("method")
    @classmethod
    def _method_name(cls, value: str) -> str:
        if not HTTP_METHOD.match(value.upper()):
            raise ValueError("expected an HTTP method such as GET or HEAD")
        return value.upper()


AUTO_STOP = ("off", "stop", "suspend")
# fly's defaults when [http_service.concurrency] is absent or leaves a limit out.
SOFT_LIMIT, HARD_LIMIT = 20, 25


class Concurrency(Section):
    """How many connections or requests a machine takes: past soft_limit the edge
    prefers other machines (and may start one); at hard_limit it sends no more."""

    type: Literal["connections", "requests"] = "connections"
    soft_limit: int = Field(default=SOFT_LIMIT, ge=1)
    hard_limit: int = Field(default=HARD_LIMIT, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _fill_limits(cls, data: Any) -> Any:
        """A limit left out follows the other one, as fly's do."""
        if isinstance(data, dict):
            data = dict(data)
            soft, hard = data.get("soft_limit"), data.get("hard_limit")
            if hard is None and isinstance(soft, int):
                data["hard_limit"] = max(HARD_LIMIT, soft)
            if soft is None and isinstance(hard, int):
                data["soft_limit"] = min(SOFT_LIMIT, hard)
        return data

    @model_validator(mode="after")
    def _hard_not_below_soft(self) -> Concurrency:
        if self.hard_limit < self.soft_limit:
            raise ValueError(
                f"hard_limit ({self.hard_limit}) is below soft_limit ({self.soft_limit}); "
                "make hard_limit at least soft_limit"
            )
        return self


class HttpService(Section):
    internal_port: int = Field(default=8080, ge=1, le=65535)
    force_https: bool = False
    auto_stop_machines: str = "off"  # one of AUTO_STOP; fly's true and false mean stop, off
    auto_start_machines: bool = True
    min_machines_running: int = Field(default=0, ge=0)
    concurrency: Concurrency = Field(default_factory=Concurrency)
    checks: list[HttpCheck] = Field(default_factory=list)

    @field_validator("auto_stop_machines", mode="before")
    @classmethod
    def _auto_stop(cls, value: Any) -> str:
        if isinstance(value, bool):
            return "stop" if value else "off"
        if value in AUTO_STOP:
            return str(value)
        raise ValueError('expected "off", "stop" or "suspend" (or true, false)')


class Vm(Section):
    size: str = "shared-cpu-1x"
    cpus: int | None = Field(default=None, ge=1)
    memory: str | int | None = None
    memory_mb: int | None = None
    cpu_kind: str | None = None

    @field_validator("memory", "memory_mb")
    @classmethod
    def _memory_amount(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            try:
                parse_memory_mb(value)
            except InvalidInput as exc:
                raise ValueError(f"{exc.message}; {exc.hint}") from None
        return value


class Restart(Section):
    """fly's [[restart]]: what to do when a machine's main process exits."""

    policy: Literal["always", "on-failure", "no"] = "on-failure"
    retries: int = Field(default=DEFAULT_RETRIES, ge=0)
    processes: list[str] = Field(default_factory=list)

    @field_validator("policy", mode="before")
    @classmethod
    def _fly_spellings(cls, value: Any) -> Any:
        """fly.toml says `never` and flyctl `on-fail` for the Machines API's `no`, `on-failure`."""
        if isinstance(value, str):
            return {"never": "no", "on-fail": "on-failure"}.get(value, value)
        return value


class AppConfig(Section):
    app: str
    primary_region: str = "local"
    kill_signal: str = "SIGINT"
    kill_timeout: Seconds = 5.0
    build: Build = Field(default_factory=Build)
    env: dict[str, str] = Field(default_factory=dict)
    deploy: Deploy = Field(default_factory=Deploy)
    http_service: HttpService | None = None
    vm: list[Vm] = Field(default_factory=list)
    restart: list[Restart] = Field(default_factory=list)

    @field_validator("kill_signal")
    @classmethod
    def _known_signal(cls, value: str) -> str:
        if value.upper() not in SIGNALS:
            raise ValueError(f"expected one of {', '.join(SIGNALS)}")
        return value.upper()

    @field_validator("env", mode="before")
    @classmethod
    def _env_as_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, str) else _scalar_text(v) for k, v in value.items()}
        return value


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value  # let pydantic report the wrong type
