"""hangar tokens create deploy|org, list, revoke"""

from __future__ import annotations

from typing import Any

import typer

from hangar.cli.context import (
    ApiUrlOption,
    AppOption,
    JsonOption,
    OrgOption,
    client,
    out,
    print_json,
    resolve_app,
    short_time,
    table,
)
from hangar.domain.durations import parse_duration
from hangar.errors import InvalidInput

app = typer.Typer(help="Tokens for CI and other machines: make, list, revoke", no_args_is_help=True)
create = typer.Typer(help="Make a token", no_args_is_help=True)
app.add_typer(create, name="create")
TWENTY_YEARS_S = 20 * 365 * 24 * 3600.0
ExpiryOption = typer.Option(
    None, "--expiry", "-x", help="How long it lives, like 720h (default 20 years)"
)
NameOption = typer.Option("", "--name", "-n", help="What it is for, shown in `tokens list`")


@create.command("deploy")
def create_deploy(
    app_: str | None = AppOption,
    expiry: str | None = ExpiryOption,
    name: str = NameOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """A token that deploys one app (and reads it and sets its secrets); printed once."""
    made = client(api_url).create_deploy_token(resolve_app(app_), _expiry_seconds(expiry), name)
    _print_made(made, json_)


@create.command("org")
def create_org(
    org: str | None = OrgOption,
    expiry: str | None = ExpiryOption,
    name: str = NameOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """A token that does what a member may in one org (create, deploy, scale its apps),
    and nothing outside it; printed once."""
    made = client(api_url).create_org_token(org, _expiry_seconds(expiry), name)
    _print_made(made, json_)


def _print_made(made: dict[str, Any], json_: bool) -> None:
    if json_:
        print_json(made)
        return
    print(made["token"])


@app.command("list")
def list_tokens(json_: bool = JsonOption, api_url: str = ApiUrlOption) -> None:
    """Your tokens: login sessions, deploy and org tokens (never the tokens themselves)."""
    found = client(api_url).tokens()
    if json_:
        print_json(found)
        return
    rows = [
        [
            str(t["id"]) + (" *" if t["current"] else ""),
            t["kind"],
            t["app"] or t["org"] or "",
            t["name"],
            short_time(t["created_at"]),
            short_time(t["expires_at"]),
            short_time(t["last_used_at"]),
        ]
        for t in found
    ]
    table(["ID", "KIND", "APP/ORG", "NAME", "CREATED", "EXPIRES", "LAST USED"], rows)


@app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The ID from `hangar tokens list`"),
    api_url: str = ApiUrlOption,
) -> None:
    """Revoke one of your tokens: it stops working at once."""
    client(api_url).revoke_token(token_id)
    out.print(f"Revoked token {token_id}")


def _expiry_seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text, max_s=TWENTY_YEARS_S)
    except ValueError as exc:
        raise InvalidInput(f"--expiry {text!r}: {exc}", hint="give a duration like 720h") from None
