"""Failed logins are limited per address and per account, in a sliding window.

Kept in the server's memory: a restart forgets the counts, and servers
sharing one store count apart. A success clears the account's failures (not
the address's). The number of keys is bounded, so a flood of made-up emails
cannot exhaust memory: the stalest keys go first.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque

from hangar.domain.clock import SYSTEM_CLOCK, Clock
from hangar.errors import TooManyAttempts

WINDOW_S = 900.0
PER_ACCOUNT = 10
PER_ADDRESS = 50
MAX_KEYS = 100_000


class LoginLimits:
    def __init__(
        self,
        clock: Clock = SYSTEM_CLOCK,
        per_account: int = PER_ACCOUNT,
        per_address: int = PER_ADDRESS,
        window_s: float = WINDOW_S,
    ) -> None:
        self._clock = clock
        self._limits = {"account": per_account, "address": per_address}
        self._window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str, email: str) -> None:
        """TooManyAttempts, saying when to try again, if either has failed too often."""
        with self._lock:
            for kind, key in (("account", email), ("address", address)):
                recent = self._recent(f"{kind}:{key}", keep=False)
                if len(recent) >= self._limits[kind]:
                    wait = recent[0] + self._window_s - self._clock.monotonic()
                    raise TooManyAttempts(
                        f"too many failed logins for this {kind}; try again in {math.ceil(wait)} s",
                        hint="check the email and password; reset it with the server's admin",
                        retry_after_s=wait,
                    )

    def failed(self, address: str, email: str) -> None:
        with self._lock:
            for key in (f"account:{email}", f"address:{address}"):
                self._recent(key).append(self._clock.monotonic())
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(f"account:{email}", None)

    def _recent(self, key: str, keep: bool = True) -> deque[float]:
        """The failures of `key` still in the window (made a key of its own if `keep`)."""
        times = (
            self._failures.setdefault(key, deque()) if keep else self._failures.get(key, deque())
        )
        while times and times[0] <= self._clock.monotonic() - self._window_s:
            times.popleft()
        return times
