"""The CLI's saved login: ~/.hangar/config.toml, readable by its owner only."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from hangar.errors import InvalidInput

DEFAULT_API_URL = "http://127.0.0.1:4280"


def config_path() -> Path:
    home = Path(os.environ.get("HANGAR_HOME", Path.home() / ".hangar"))
    return home / "config.toml"


@dataclass
class ClientSettings:
    api_url: str = DEFAULT_API_URL
    token: str | None = None
    email: str | None = None

    @classmethod
    def load(cls, api_url: str | None = None) -> ClientSettings:
        path = config_path()
        data = _read(path)
        url = api_url or os.environ.get("HANGAR_API_URL") or data.get("api_url") or DEFAULT_API_URL
        token = (  # HANGAR_API_TOKEN as flyctl reads FLY_API_TOKEN: before the saved login
            os.environ.get("HANGAR_API_TOKEN")
            or os.environ.get("HANGAR_ACCESS_TOKEN")
            or data.get("access_token")
        )
        return cls(api_url=url.rstrip("/"), token=token, email=data.get("email"))

    def save(self) -> None:
        path = config_path()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc = tomlkit.document()
        doc["api_url"] = self.api_url
        if self.token:
            doc["access_token"] = self.token
        if self.email:
            doc["email"] = self.email
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(tomlkit.dumps(doc))
        path.chmod(0o600)


def _read(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"{path} is not valid TOML: {exc}",
            hint="fix or delete it, then log in again with `hangar auth login`",
        ) from exc
