"""The strategies this server offers, by name."""

from __future__ import annotations

from hangar.control.strategies import Strategy
from hangar.control.strategies.immediate import Immediate
from hangar.control.strategies.rolling import Rolling
from hangar.errors import InvalidInput

STRATEGIES: dict[str, Strategy] = {s.name: s for s in (Rolling(), Immediate())}


def strategy_named(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise InvalidInput(
            f"deploy strategy {name!r} is not available on this server",
            hint=f"use one of: {', '.join(STRATEGIES)}",
        ) from None
