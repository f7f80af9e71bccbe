"""Waiting for something another thread or process does, bounded in time."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT_S = 15.0  # how long a test waits for what it expects before it fails


def wait_until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    """Whether `condition` became true within `timeout_s` (polled every 50 ms)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
