"""hangar deploy: upload the folder, build on the server, roll out, follow live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from hangar.appconfig import CONFIG_FILE, load_file
from hangar.builder.archive import pack, require_dockerfile
from hangar.cli.context import ApiUrlOption, client, err, out, warn
from hangar.client.api_client import HangarClient
from hangar.errors import HangarError


def deploy(
    app: str | None = typer.Option(None, "-a", "--app", help="App name (default: from fly.toml)"),
    config: Path = typer.Option(Path(CONFIG_FILE), "-c", "--config", help="Path to fly.toml"),
    image: str | None = typer.Option(None, "--image", "-i", help="Deploy this image, no build"),
    strategy: str | None = typer.Option(
        None, "--strategy", help="rolling, immediate, canary or bluegreen"
    ),
    wait_timeout: float | None = typer.Option(
        None, "--wait-timeout", help="Seconds to wait for a machine to become healthy"
    ),
    detach: bool = typer.Option(False, "--detach", help="Return once the deploy has started"),
    no_rollback: bool = typer.Option(
        False, "--no-rollback", help="On failure, leave moved machines on the new release"
    ),
    wait_for_lock: bool = typer.Option(
        False, "--wait-for-lock", help="Wait for a running deploy of the app instead of failing"
    ),
    no_smoke_checks: bool = typer.Option(
        False, "--no-smoke-checks", help="Do not fail the deploy when a machine exits soon after"
    ),
    api_url: str = ApiUrlOption,
) -> None:
    """Deploy the app in this folder."""
    folder = config.resolve().parent
    options = DeployOptions(
        image, strategy, wait_timeout, detach, not no_rollback, wait_for_lock, not no_smoke_checks
    )
    run_deploy(folder, config, app, options, api_url)


@dataclass
class DeployOptions:
    image: str | None = None
    strategy: str | None = None
    wait_timeout: float | None = None
    detach: bool = False
    rollback: bool = True
    wait_for_lock: bool = False
    smoke_checks: bool = True

    def for_api(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "wait_timeout": self.wait_timeout,
            "rollback": self.rollback,
            "wait_for_lock": self.wait_for_lock,
            "smoke_checks": self.smoke_checks,
        }


def run_deploy(
    folder: Path,
    config_file: Path,
    app: str | None,
    options: DeployOptions | None = None,
    api_url: str | None = None,
) -> None:
    options = options or DeployOptions()
    loaded = load_file(config_file)
    for warning in loaded.warnings:
        warn(warning)
    name = app or loaded.config.app
    config = loaded.config.model_copy(update={"app": name}).model_dump(mode="json")
    image = options.image or loaded.config.build.image
    api = client(api_url)
    api.app_status(name)  # fails early when the app is missing or not yours
    body = options.for_api()
    if image:
        body["image"] = image
    else:
        require_dockerfile(folder, loaded.config.build.dockerfile)
        body["upload_id"] = _upload(api, name, folder)
    deployment = api.deploy(name, config, **body)
    out.print(f"==> Deploying [bold]{name}[/] (deployment {deployment})")
    if options.detach:
        out.print(f"Follow it with [bold]hangar status -a {name}[/]")
        return
    follow_deploy(api, name, deployment)


def _upload(api: HangarClient, name: str, folder: Path) -> str:
    archive = pack(folder)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn())
    with Progress(*columns, TransferSpeedColumn(), console=err, transient=False) as progress:
        task = progress.add_task("Uploading source", total=len(archive))
        upload_id = api.upload(name, archive, lambda n: progress.advance(task, n))
    return upload_id


def follow_deploy(api: HangarClient, name: str, deployment: str) -> None:
    """Print a deploy's events as they come; raise if it fails."""
    for event in api.deploy_events(name, deployment):
        kind, message = event.type, event.message
        if kind == "build":
            out.print(
                f"  {message.rstrip()}", style="dim", markup=False, highlight=False, soft_wrap=True
            )
        elif kind == "error":
            raise HangarError(message, event.hint or "")
        elif kind == "done":
            out.print(f"\n[green]✓[/] {message}")
            return
        else:
            out.print(f"--> {message}", markup=False, soft_wrap=True)
    raise HangarError(
        "the server stopped reporting before the deploy ended",
        hint=f"check `hangar status -a {name}` and `hangar releases -a {name}`",
    )
