"""The `hangar` command: flyctl's verbs, errors on stderr, non-zero exit on failure."""

from __future__ import annotations

import sys

import click
import typer
from rich.markup import escape

from hangar.cli import apps, auth, config_cmd, machines, scale, secrets
from hangar.cli.context import err
from hangar.cli.deploy import deploy
from hangar.cli.launch import launch
from hangar.cli.rollback import rollback
from hangar.cli.server_cmd import server
from hangar.cli.status import logs, open_app, releases, status
from hangar.errors import HangarError

cli = typer.Typer(
    help="Hangar: run your Dockerfile apps on your own server, the fly.io way.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cli.add_typer(auth.app, name="auth")
cli.add_typer(apps.app, name="apps")
cli.add_typer(machines.app, name="machines")
cli.add_typer(config_cmd.app, name="config")
cli.add_typer(secrets.app, name="secrets")
cli.add_typer(scale.app, name="scale")
cli.command()(launch)
cli.command()(deploy)
cli.command()(rollback)
cli.command()(status)
cli.command()(releases)
cli.command()(logs)
cli.command("open")(open_app)
cli.command()(server)


def run() -> None:
    try:
        code = cli(standalone_mode=False)
    except HangarError as exc:
        _fail(exc.message, exc.hint)
    except click.exceptions.Abort:
        _fail("aborted")
    except click.ClickException as exc:
        _fail(exc.format_message(), "see `hangar --help`", exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", code=130)
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:  # never a traceback for the user
        _fail(
            f"unexpected error: {type(exc).__name__}: {exc}",
            "please report this to Hangar's developers",
        )
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, hint: str = "", code: int = 1) -> None:
    err.print(f"[red]Error:[/] {escape(message)}", highlight=False)
    if hint:
        err.print(hint, style="dim", markup=False, highlight=False)
    sys.exit(code)
