"""hangar apps list|create|destroy|restart"""

from __future__ import annotations

import typer

from hangar.cli.context import (
    ApiUrlOption,
    JsonOption,
    OrgOption,
    YesOption,
    client,
    out,
    print_json,
    resolve_app,
    short_time,
    table,
)
from hangar.cli.follow import follow_operation
from hangar.errors import InvalidInput

app = typer.Typer(help="Manage apps", no_args_is_help=True)


@app.command("list")
def list_apps(
    org: str | None = OrgOption, json_: bool = JsonOption, api_url: str = ApiUrlOption
) -> None:
    """List the apps of your orgs (or of one)."""
    apps = client(api_url).list_apps(org)
    if json_:
        print_json(apps)
        return
    rows = [
        [a["name"], a["org"], a["status"], a["region"], a["url"], short_time(a["created_at"])]
        for a in apps
    ]
    table(["NAME", "ORG", "STATUS", "REGION", "URL", "CREATED"], rows)


@app.command()
def create(
    name: str | None = typer.Argument(None, help="App name (default: generated)"),
    region: str = typer.Option("local", "--region", "-r"),
    org: str | None = OrgOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Create an app without a fly.toml."""
    created = client(api_url).create_app(name, region, org)
    if json_:
        print_json(created)
    else:
        out.print(f"New app created: [bold]{created['name']}[/]")


@app.command()
def destroy(
    name: str = typer.Argument(..., help="App to destroy"),
    yes: bool = YesOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Destroy an app with its machines, route and images."""
    if not yes and not typer.confirm(f"Destroy app {name} and everything it runs?"):
        raise InvalidInput(
            "not confirmed, nothing was destroyed", hint="pass -y to skip the question"
        )
    client(api_url).destroy_app(name)
    out.print(f"Destroyed app [bold]{name}[/]")


@app.command()
def restart(
    name: str | None = typer.Argument(None, help="App to restart (default: the app in ./fly.toml)"),
    api_url: str = ApiUrlOption,
) -> None:
    """Restart the app's machines one at a time on their release (no new release)."""
    app_name = resolve_app(name)
    out.print(f"==> Restarting the machines of [bold]{app_name}[/]")
    follow_operation(client(api_url).restart_app(app_name))
