"""The `hangar` command: flyctl's verbs, errors on stderr, non-zero exit on failure."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from hangar.cli import apps, auth, certs, config_cmd, machines, orgs, scale, secrets, tokens
from hangar.cli.context import err
from hangar.cli.deploy import deploy
from hangar.cli.launch import launch
from hangar.cli.rollback import rollback
from hangar.cli.server_cmd import server
from hangar.cli.status import logs, open_app, releases, status
from hangar.cli.usage import command_context
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
cli.add_typer(tokens.app, name="tokens")
cli.add_typer(orgs.app, name="orgs")
cli.add_typer(certs.app, name="certs")
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
    except typer.Abort:
        _fail("aborted")
    except TyperException as exc:  # a usage mistake: said as click says it (usage, --help)
        _usage_error(exc)
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


def _usage_error(exc: TyperException) -> None:
    show = getattr(exc, "show", None)
    if show is None:
        _fail(exc.format_message(), "see `hangar --help`", exc.exit_code)
    if getattr(exc, "ctx", True) is None:  # raised before click knew the command
        exc.ctx = command_context(cli, sys.argv[1:])  # type: ignore[attr-defined]
    show()
    sys.exit(exc.exit_code)


def _fail(message: str, hint: str = "", code: int = 1) -> NoReturn:
    err.print(f"[red]Error:[/] {escape(message)}", highlight=False)
    if hint:
        err.print(hint, style="dim", markup=False, highlight=False)
    sys.exit(code)
