"""Read and validate fly.toml: every problem names its key path."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hangar.appconfig.model import AppConfig
from hangar.errors import InvalidInput

CONFIG_FILE = "fly.toml"
# Keys fly.io knows that mean nothing on one Hangar host: no warning for them. Others
# Hangar does not act on yet (mounts, processes, statics, services) are warned about.
_TOLERATED = {"swap_size_mb", "console_command", "metrics"}
_NOT_YET = {"mounts", "processes", "statics", "services", "checks", "experimental"}


class ConfigInvalid(InvalidInput):
    def __init__(self, problems: list[str], source: str = CONFIG_FILE) -> None:
        super().__init__(
            f"{source} is not valid:\n" + "\n".join(f"  - {p}" for p in problems),
            hint=f"fix the keys above in {source} and try again",
        )
        self.problems = problems


@dataclass(frozen=True)
class Loaded:
    config: AppConfig
    warnings: list[str]


def parse(data: dict[str, Any], source: str = CONFIG_FILE) -> Loaded:
    try:
        config = AppConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigInvalid([_describe(err) for err in exc.errors()], source) from exc
    warnings = [_warning(key) for key in unknown_keys(data, AppConfig)]
    return Loaded(config, warnings + _differences(config))


def _differences(config: AppConfig) -> list[str]:
    """What Hangar does differently from fly for a valid setting."""
    service = config.http_service
    if service is not None and service.auto_stop_machines == "suspend":
        return [
            'auto_stop_machines = "suspend" stops idle machines on Hangar (their memory '
            'is not kept); the next request starts them again, as with "stop"'
        ]
    return []


def _warning(key: str) -> str:
    if key in _NOT_YET:
        return f"[{key}] is not supported by Hangar yet and is ignored"
    return f"unknown key {key!r} ignored"


def load_file(path: Path) -> Loaded:
    if not path.is_file():
        raise InvalidInput(
            f"no {path.name} in {path.parent}",
            hint="run `hangar launch --no-deploy` to create one, or pass -c PATH",
        )
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigInvalid([f"not valid TOML: {exc}"], path.name) from exc
    return parse(data, path.name)


def unknown_keys(data: dict[str, Any], model: type[BaseModel], prefix: str = "") -> list[str]:
    found: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        field = model.model_fields.get(key)
        if field is None:
            if key not in _TOLERATED:
                found.append(path)
            continue
        sub = _submodel(field.annotation)
        if sub is None:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                found.extend(unknown_keys(item, sub, f"{path}."))
    return found


def _submodel(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in getattr(candidate, "__args__", ()):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _describe(error: Any) -> str:
    path = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "missing":
        return f"{path}: is required"
    got = error.get("input")
    message = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(got, dict | list):
        return f"{path}: {message}"
    return f"{path}: {message} (got {got!r})"
