"""Deployment strategies: one protocol, one module each."""

from __future__ import annotations

from typing import Protocol

from hangar.appconfig.model import AppConfig
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.store.models import Machine


class Strategy(Protocol):
    name: str
    rolls_back: bool  # on failure, put machines already moved back on their release

    def check(self, config: AppConfig) -> None:
        """Refuse a config this strategy cannot deploy (InvalidInput)."""
        ...

    def roll(self, ops: MachineOps, machines: list[Machine], target: Target) -> None:
        """Move every machine in `machines` onto `target`; raise on the first failure."""
        ...
