"""hangar launch: create an app and write its fly.toml."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer

from hangar.appconfig import CONFIG_FILE, AppConfig, load_file, write_file
from hangar.appconfig.model import HttpService, Vm
from hangar.appconfig.write import rename_app
from hangar.builder.archive import require_dockerfile
from hangar.cli.context import ApiUrlOption, OrgOption, YesOption, client, out, warn
from hangar.domain.names import validate_app_name
from hangar.errors import InvalidInput

_EXPOSE = re.compile(r"^\s*EXPOSE\s+(\d+)", re.IGNORECASE | re.MULTILINE)


def launch(
    name: str | None = typer.Option(None, "--name", "-n", help="App name (default: generated)"),
    region: str = typer.Option("local", "--region", "-r", help="Primary region"),
    org: str | None = OrgOption,
    internal_port: int | None = typer.Option(
        None, "--internal-port", help="Port the app listens on"
    ),
    copy_config: bool = typer.Option(False, "--copy-config", help="Use the existing fly.toml"),
    no_deploy: bool = typer.Option(False, "--no-deploy", help="Create the app, do not deploy"),
    yes: bool = YesOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Create an app from the Dockerfile in this folder and write fly.toml."""
    folder = Path.cwd()
    require_dockerfile(folder)
    config_file = folder / CONFIG_FILE
    base = _base_config(config_file, copy_config, yes)
    if name:
        validate_app_name(name)
    api = client(api_url)
    created = api.create_app(name or (base.app if base else None), region, org)
    if base is not None:
        rename_app(config_file, created["name"])
    else:
        write_file(config_file, _new_config(created["name"], region, folder, internal_port))
    out.print(f"Created app [bold]{created['name']}[/] (status {created['status']})")
    out.print(f"Wrote config file {config_file}")
    if no_deploy:
        out.print("Run [bold]hangar deploy[/] when you are ready")
        return
    from hangar.cli.deploy import run_deploy

    run_deploy(folder, config_file, created["name"], api_url=api_url)


def _base_config(config_file: Path, copy_config: bool, yes: bool) -> AppConfig | None:
    if not config_file.exists():
        return None
    if copy_config:
        loaded = load_file(config_file)
        for warning in loaded.warnings:
            warn(warning)
        return loaded.config
    if not yes and not (sys.stdin.isatty() and typer.confirm(f"Overwrite {config_file}?")):
        raise InvalidInput(
            f"{config_file} exists already",
            hint="pass --copy-config to use it, or -y to replace it",
        )
    return None


def _new_config(name: str, region: str, folder: Path, port: int | None) -> AppConfig:
    return AppConfig(
        app=name,
        primary_region=region,
        http_service=HttpService(internal_port=port or _exposed_port(folder) or 8080),
        vm=[Vm(memory="256mb", cpus=1)],
    )


def _exposed_port(folder: Path) -> int | None:
    match = _EXPOSE.search((folder / "Dockerfile").read_text(errors="replace"))
    return int(match.group(1)) if match else None
