"""hangar config validate|show"""

from __future__ import annotations

from pathlib import Path

import typer

from hangar.appconfig import CONFIG_FILE, AppConfig, load_file, render
from hangar.cli.context import (
    ApiUrlOption,
    AppOption,
    client,
    out,
    print_json,
    resolve_app,
    warn,
)

app = typer.Typer(help="Check and show the app's configuration", no_args_is_help=True)


@app.command()
def validate(config: Path = typer.Option(Path(CONFIG_FILE), "-c", "--config")) -> None:
    """Check fly.toml; every problem is named with its key."""
    loaded = load_file(config)
    for warning in loaded.warnings:
        warn(warning)
    out.print("[green]✓[/] Configuration is valid")


@app.command()
def show(
    app_: str | None = AppOption,
    toml: bool = typer.Option(False, "--toml", help="Print TOML instead of JSON"),
    api_url: str = ApiUrlOption,
) -> None:
    """Show the app's config as the server holds it."""
    data = client(api_url).app_config(resolve_app(app_))
    if toml:
        print(render(AppConfig.model_validate(data)), end="")
    else:
        print_json(data)
