"""Byte counts as people read them: 512 KiB, 40.0 MiB, 4.0 GiB."""

from __future__ import annotations

UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def readable_size(count: int) -> str:
    for unit, size in UNITS:
        if count >= size:
            return f"{count / size:.1f} {unit}" if count % size else f"{count // size} {unit}"
    return f"{count} bytes"
