"""The command a mistaken command line was aimed at, for click's usage line and --help hint."""

from __future__ import annotations

from typing import Any

import typer
import typer.main


def command_context(cli: typer.Typer, args: list[str]) -> Any:
    """The click context of the deepest command the leading words of `args` name."""
    command: Any = typer.main.get_command(cli)
    context = command.make_context("hangar", [], resilient_parsing=True)
    for word in args:
        sub = command.get_command(context, word) if hasattr(command, "get_command") else None
        if word.startswith("-") or sub is None:
            break
        command = sub
        context = command.make_context(word, [], parent=context, resilient_parsing=True)
    return context
