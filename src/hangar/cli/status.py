"""hangar status, releases, open, logs"""

from __future__ import annotations

import typer
from rich.markup import escape

from hangar.cli.context import (
    ApiUrlOption,
    AppOption,
    JsonOption,
    client,
    machines_table,
    out,
    print_json,
    resolve_app,
    short_time,
    table,
)


def status(
    app: str | None = AppOption, json_: bool = JsonOption, api_url: str = ApiUrlOption
) -> None:
    """Show the app and its machines."""
    answer = client(api_url).app_status(resolve_app(app))
    if json_:
        print_json(answer)
        return
    info = answer["app"]
    out.print(f"App\n  Name     = {info['name']}\n  Owner    = {info['owner']}")
    out.print(f"  Status   = {info['status']}\n  Hostname = {info['hostname']}\n")
    machines_table(answer["machines"], title="Machines")


def releases(
    app: str | None = AppOption, json_: bool = JsonOption, api_url: str = ApiUrlOption
) -> None:
    """List the app's releases, newest first."""
    answer = client(api_url).releases(resolve_app(app))
    if json_:
        print_json(answer)
        return
    rows = [
        [
            f"v{r['version']}",
            r["status"],
            r["description"],
            r["user"],
            short_time(r["created_at"]),
            r["image"],
        ]
        for r in answer
    ]
    table(["VERSION", "STATUS", "DESCRIPTION", "USER", "DATE", "IMAGE"], rows)
    for release in answer:
        if release["reason"] and release["status"] != "complete":
            out.print(f"\nv{release['version']} {release['status']}: {release['reason']}")
            break


def open_app(app: str | None = AppOption, api_url: str = ApiUrlOption) -> None:
    """Print the app's URL."""
    answer = client(api_url).app_status(resolve_app(app))
    print(answer["app"]["url"])


def logs(
    app: str | None = AppOption,
    machine: str | None = typer.Option(None, "--machine", help="Only this machine"),
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines"),
    edge: bool = typer.Option(False, "--edge", help="Also the edge's line per request"),
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Show the app's logs, each line tagged with its machine."""
    for line in client(api_url).logs(resolve_app(app), machine, follow, edge=edge):
        if json_:
            print_json(line)
        else:
            stamp = line["timestamp"][:23].replace("T", " ")
            text = f"{stamp} [cyan]{line['machine']}[/] {escape(line['message'])}"
            out.print(text, highlight=False, soft_wrap=True)
