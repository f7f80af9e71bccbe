"""Durations as fly.toml writes them: 5, "5s", "1m30s", "250ms"."""

from __future__ import annotations

import math
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


MAX_SECONDS = 24 * 3600.0


def parse_duration(value: object, max_s: float = MAX_SECONDS) -> float:
    """Seconds in `value`, at most `max_s` (a day); ValueError saying what was expected."""
    seconds = _seconds(value)
    if not math.isfinite(seconds) or seconds > max_s:
        raise ValueError(f"expected a duration of at most {max_s / 3600:g}h")
    return seconds


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration like 10s, 1m30s or a number of seconds")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("expected a duration that is not negative")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return float(text)
        parts = _PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    raise ValueError("expected a duration like 10s, 1m30s or a number of seconds")


def format_duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{int(seconds * 1000)}ms"
