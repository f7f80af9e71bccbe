"""hangar secrets set|list|unset|deploy"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import typer

from hangar.cli.context import (
    ApiUrlOption,
    AppOption,
    JsonOption,
    client,
    out,
    print_json,
    resolve_app,
    short_time,
    table,
)
from hangar.cli.deploy import follow_deploy
from hangar.client.api_client import HangarClient
from hangar.errors import InvalidInput

app = typer.Typer(
    help="Manage the app's secrets: encrypted on the server, environment variables in machines",
    no_args_is_help=True,
)
ConfigOption = typer.Option(None, "-c", "--config", help="Path to fly.toml")
StageOption = typer.Option(False, "--stage", help="Store the change without restarting machines")
DetachOption = typer.Option(False, "--detach", help="Return once the restart has started")
STDIN = "-"
PAIR_HINT = "give secrets as NAME=VALUE, or `-` to read NAME=VALUE lines from stdin"


@app.command("set")
def set_secrets(
    pairs: list[str] = typer.Argument(
        ..., metavar="NAME=VALUE...", help="Secrets to set; `-` reads NAME=VALUE lines from stdin"
    ),
    app_: str | None = AppOption,
    config: Path | None = ConfigOption,
    stage: bool = StageOption,
    detach: bool = DetachOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Set secrets; a deployed app restarts its machines with them (a new release)."""
    values = parse_pairs(pairs, sys.stdin)
    name = resolve_app(app_, config)
    api = client(api_url)
    _applied(api, api.set_secrets(name, values, stage), stage, detach)


@app.command("unset")
def unset_secrets(
    names: list[str] = typer.Argument(..., metavar="NAME...", help="Secrets to remove"),
    app_: str | None = AppOption,
    config: Path | None = ConfigOption,
    stage: bool = StageOption,
    detach: bool = DetachOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Remove secrets; a deployed app restarts its machines without them."""
    name = resolve_app(app_, config)
    api = client(api_url)
    _applied(api, api.unset_secrets(name, names, stage), stage, detach)


@app.command("list")
def list_secrets(
    app_: str | None = AppOption,
    config: Path | None = ConfigOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """List the app's secrets: names, digests of the values, status. Never the values."""
    found = client(api_url).secrets(resolve_app(app_, config))
    if json_:
        print_json(found)
        return
    rows = [[s["name"], s["digest"], s["status"], short_time(s["created_at"])] for s in found]
    table(["NAME", "DIGEST", "STATUS", "CREATED"], rows)


@app.command("deploy")
def deploy_secrets(
    app_: str | None = AppOption,
    config: Path | None = ConfigOption,
    detach: bool = DetachOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Restart the app's machines with its current secrets (after --stage)."""
    api = client(api_url)
    _applied(api, api.deploy_secrets(resolve_app(app_, config)), False, detach)


def parse_pairs(args: Iterable[str], stdin: TextIO) -> dict[str, str]:
    """NAME=VALUE arguments (`-` for lines from stdin) as a dict; errors never echo a value."""
    values: dict[str, str] = {}
    for position, arg in enumerate(args, start=1):
        if arg == STDIN:
            values.update(_stdin_pairs(stdin))
        else:
            values.update([_pair(arg, f"argument {position}")])
    if not values:
        raise InvalidInput("no secrets given", hint=PAIR_HINT)
    return values


def _stdin_pairs(stdin: TextIO) -> dict[str, str]:
    if stdin.isatty():
        raise InvalidInput("`-` reads secrets from stdin, but nothing is piped", hint=PAIR_HINT)
    pairs: dict[str, str] = {}
    for number, line in enumerate(stdin.read().splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            pairs.update([_pair(line, f"line {number} of stdin")])
    return pairs


def _pair(text: str, where: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator:
        raise InvalidInput(f"{where} is not a NAME=VALUE pair", hint=PAIR_HINT)
    return name, value


def _applied(api: HangarClient, change: dict[str, Any], stage: bool, detach: bool) -> None:
    name, deployment = change["app"], change.get("deployment")
    if deployment is None:
        out.print(_staged_message(name, stage))
        return
    out.print(f"==> Updating secrets of [bold]{name}[/] (deployment {deployment})")
    if detach:
        out.print(f"Follow it with [bold]hangar status -a {name}[/]")
        return
    follow_deploy(api, name, deployment)


def _staged_message(name: str, stage: bool) -> str:
    if not stage:
        return "Secrets are staged for the first deployment"
    return (
        "Secrets have been staged, but not set on machines. Apply them with "
        f"[bold]hangar secrets deploy -a {name}[/] or the next [bold]hangar deploy[/]."
    )
