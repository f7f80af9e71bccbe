"""The strategies this server offers, by name."""

from __future__ import annotations

from hangar.control.deploy.strategies import Strategy
from hangar.control.deploy.strategies.bluegreen import BlueGreen
from hangar.control.deploy.strategies.canary import Canary
from hangar.control.deploy.strategies.immediate import Immediate
from hangar.control.deploy.strategies.rolling import Rolling
from hangar.errors import InvalidInput

STRATEGIES: dict[str, Strategy] = {
    s.name: s for s in (Rolling(), Immediate(), Canary(), BlueGreen())
}


def strategy_named(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise InvalidInput(
            f"deploy strategy {name!r} is not known",
            hint=f"use one of: {', '.join(STRATEGIES)}",
        ) from None
