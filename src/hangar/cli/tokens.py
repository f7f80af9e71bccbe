"""hangar tokens create deploy|list|revoke"""

from __future__ import annotations

import typer

from hangar.appconfig.durations import parse_duration
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
from hangar.errors import InvalidInput

app = typer.Typer(help="Tokens for CI and other machines: make, list, revoke", no_args_is_help=True)
create = typer.Typer(help="Make a token", no_args_is_help=True)
app.add_typer(create, name="create")
TWENTY_YEARS_S = 20 * 365 * 24 * 3600.0


@create.command("deploy")
def create_deploy(
    app_: str | None = AppOption,
    expiry: str | None = typer.Option(
        None, "--expiry", "-x", help="How long it lives, like 720h (default 20 years)"
    ),
    name: str = typer.Option("", "--name", "-n", help="What it is for, shown in `tokens list`"),
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """A token that deploys one app (and reads it and sets its secrets); printed once."""
    seconds = None if expiry is None else _expiry_seconds(expiry)
    made = client(api_url).create_deploy_token(resolve_app(app_), seconds, name)
    if json_:
        print_json(made)
        return
    print(made["token"])


@app.command("list")
def list_tokens(json_: bool = JsonOption, api_url: str = ApiUrlOption) -> None:
    """Your tokens: login sessions and deploy tokens (never the tokens themselves)."""
    found = client(api_url).tokens()
    if json_:
        print_json(found)
        return
    rows = [
        [
            str(t["id"]) + (" *" if t["current"] else ""),
            t["kind"],
            t["app"] or "",
            t["name"],
            short_time(t["created_at"]),
            short_time(t["expires_at"]),
            short_time(t["last_used_at"]),
        ]
        for t in found
    ]
    table(["ID", "KIND", "APP", "NAME", "CREATED", "EXPIRES", "LAST USED"], rows)


@app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The ID from `hangar tokens list`"),
    api_url: str = ApiUrlOption,
) -> None:
    """Revoke one of your tokens: it stops working at once."""
    client(api_url).revoke_token(token_id)
    out.print(f"Revoked token {token_id}")


def _expiry_seconds(text: str) -> float:
    try:
        return parse_duration(text, max_s=TWENTY_YEARS_S)
    except ValueError as exc:
        raise InvalidInput(f"--expiry {text!r}: {exc}", hint="give a duration like 720h") from None
