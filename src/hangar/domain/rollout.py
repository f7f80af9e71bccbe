"""Pure decisions about a rollout: how many machines, in which batches."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
DEFAULT_HTTP_MACHINES = 2


def batch_size(max_unavailable: float, total: int) -> int:
    """max_unavailable is a count (>= 1) or a fraction of `total` (< 1, rounded up)."""
    if max_unavailable >= 1:
        return int(max_unavailable)
    return max(1, math.ceil(max_unavailable * total))


def batches(items: Sequence[T], max_unavailable: float) -> list[list[T]]:
    """The first item goes alone, the rest in batches of `batch_size`."""
    if not items:
        return []
    size = batch_size(max_unavailable, len(items))
    rest = list(items[1:])
    return [[items[0]]] + [rest[i : i + size] for i in range(0, len(rest), size)]


def first_deploy_count(has_http_service: bool) -> int:
    return DEFAULT_HTTP_MACHINES if has_http_service else 1
