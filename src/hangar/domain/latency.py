"""Response times kept as a histogram with log-spaced bins: a fixed size however many
requests, percentiles within one bin (±12%)."""

from __future__ import annotations

import math

_FACTOR = 1.25
_BINS = 52  # 1 ms · 1.25^51 ≈ 87 s: every timeout of the edge fits


def bin_of(duration_ms: float) -> int:
    if duration_ms <= 1:
        return 0
    return min(_BINS - 1, math.ceil(math.log(duration_ms) / math.log(_FACTOR)))


def upper_ms(index: int) -> float:
    return float(_FACTOR**index)


def percentile(counts: dict[int, int], q: float) -> float | None:
    """The upper bound of the bin holding the q-th quantile (0 < q ≤ 1); None if empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    rank = math.ceil(q * total)
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return upper_ms(index)
    return upper_ms(max(counts))
