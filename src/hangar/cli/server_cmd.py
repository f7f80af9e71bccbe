"""hangar server: run the platform on this host (its flags come from server_options.py)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import typer

from hangar.server_options import ServerOptions, flags


def server(**values: Any) -> None:
    """Run the control plane API, the edge and the deploy engine."""
    # Imported here: the server's dependencies would slow every other command's start.
    from hangar.server import serve

    serve(ServerOptions(**values))


def _parameters() -> list[inspect.Parameter]:
    types = typing.get_type_hints(ServerOptions)
    return [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=types[name],
            default=typer.Option(
                default,
                flag.name,
                envvar=flag.env_var,
                help=flag.help,
                metavar=flag.metavar,
                min=flag.min,
                callback=_checked(flag.check),
            ),
        )
        for name, flag, default in flags()
    ]


def _checked(check: Callable[[Any], object] | None) -> Callable[[Any], Any] | None:
    """A typer callback that turns the flag's ValueError into a usage error."""
    if check is None:
        return None

    def callback(value: Any) -> Any:
        try:
            check(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        return value

    return callback


server.__signature__ = inspect.Signature(_parameters())  # type: ignore[attr-defined]
