"""Print a machine operation's events (scale, restart, clone) as they come."""

from __future__ import annotations

from collections.abc import Iterable

from hangar.cli.context import out
from hangar.domain.events import Event
from hangar.errors import HangarError


def follow_operation(events: Iterable[Event]) -> str:
    """Print each event; return the `done` message, raise on `error`."""
    for event in events:
        kind, message = event.type, event.message
        if kind == "error":
            raise HangarError(message, event.hint or "")
        if kind == "done":
            out.print(f"[green]✓[/] {message}", highlight=False)
            return str(message)
        out.print(f"--> {message}", markup=False, highlight=False, soft_wrap=True)
    raise HangarError(
        "the server stopped reporting before the operation ended",
        hint="check `hangar status` to see where it stands",
    )
