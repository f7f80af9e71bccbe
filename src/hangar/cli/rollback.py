"""hangar rollback [vN]"""

from __future__ import annotations

import typer

from hangar.cli.context import ApiUrlOption, AppOption, client, out, resolve_app
from hangar.cli.deploy import follow_deploy
from hangar.errors import InvalidInput


def rollback(
    version: str | None = typer.Argument(
        None, help="Release to go back to, e.g. v3 (default: the one before)"
    ),
    app: str | None = AppOption,
    strategy: str | None = typer.Option(None, "--strategy", help="Override the app's strategy"),
    detach: bool = typer.Option(False, "--detach", help="Return once the rollback has started"),
    wait_for_lock: bool = typer.Option(False, "--wait-for-lock"),
    api_url: str = ApiUrlOption,
) -> None:
    """Deploy an earlier release's image and config again, as a new release."""
    name = resolve_app(app)
    api = client(api_url)
    deployment = api.rollback(
        name, _version(version), strategy=strategy, wait_for_lock=wait_for_lock
    )
    out.print(f"==> Rolling back [bold]{name}[/] (deployment {deployment})")
    if not detach:
        follow_deploy(api, name, deployment)


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.lower().removeprefix("v")
    if not digits.isdigit():
        raise InvalidInput(f"{text!r} is not a release version", hint="use a version like v3")
    return int(digits)
