"""What every command needs: the client, the app it is about, output helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hangar.appconfig import CONFIG_FILE, load_file
from hangar.client.api_client import HangarClient
from hangar.client.settings import ClientSettings
from hangar.errors import InvalidInput, Unauthorized

out = Console()
err = Console(stderr=True)

AppOption = typer.Option(None, "-a", "--app", help="App name (default: the app in ./fly.toml)")
JsonOption = typer.Option(False, "--json", "-j", help="Print JSON")
OrgOption = typer.Option(None, "--org", "-o", help="Organisation (default: your personal one)")
YesOption = typer.Option(False, "-y", "--yes", help="Skip confirmations")
ApiUrlOption = typer.Option(None, "--api-url", envvar="HANGAR_API_URL", help="Hangar API URL")


def client(api_url: str | None = None, need_token: bool = True) -> HangarClient:
    settings = ClientSettings.load(api_url)
    if need_token and not settings.token:
        raise Unauthorized("you are not logged in", hint="run `hangar auth login` first")
    return HangarClient(settings.api_url, settings.token)


def resolve_app(app: str | None, config_path: Path | None = None) -> str:
    if app:
        return app
    path = config_path or Path.cwd() / CONFIG_FILE
    if not path.is_file():
        raise InvalidInput(
            "no app given and no fly.toml here", hint="pass -a APP or run in the app's folder"
        )
    return load_file(path).config.app


def warn(text: str) -> None:
    err.print(f"[yellow]Warning:[/] {escape(text)}", highlight=False)


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    view = Table(*columns, title=title, title_justify="left", box=None, header_style="bold")
    for row in rows:
        view.add_row(*[("" if cell is None else str(cell)) for cell in row])
    out.print(view)


def short_time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def machines_table(machines: list[dict[str, Any]], title: str | None = None) -> None:
    rows = [
        [
            m["id"],
            m["state"],
            f"v{m['release']}",
            m["checks"],
            m["region"],
            m.get("restarts", 0),
            m.get("last_exit") or "",
            short_time(m["updated_at"]),
        ]
        for m in machines
    ]
    columns = ["ID", "STATE", "RELEASE", "CHECKS", "REGION", "RESTARTS", "LAST EXIT", "UPDATED"]
    table(columns, rows, title=title)
