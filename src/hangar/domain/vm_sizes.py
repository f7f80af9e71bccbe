"""fly.io's VM sizes and memory amounts: what a [[vm]] asks for, checked; pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hangar.errors import InvalidInput

MIN_MEMORY_MB = 16  # Docker refuses limits under 6 MB; below 16 nothing useful boots
MAX_MEMORY_MB = 256 * 1024
DEFAULT_SIZE = "shared-cpu-1x"
_MEMORY = re.compile(r"^(\d+)\s*(mb|gb)?$", re.IGNORECASE)


@dataclass(frozen=True)
class VmSize:
    name: str
    cpus: int
    memory_mb: int  # what the size gets when [[vm]] names no memory


# fly.io's presets (shared and performance CPUs); Docker cannot tell the two kinds apart.
SIZES: dict[str, VmSize] = {
    size.name: size
    for size in (
        VmSize("shared-cpu-1x", 1, 256),
        VmSize("shared-cpu-2x", 2, 512),
        VmSize("shared-cpu-4x", 4, 1024),
        VmSize("shared-cpu-8x", 8, 2048),
        VmSize("performance-1x", 1, 2048),
        VmSize("performance-2x", 2, 4096),
        VmSize("performance-4x", 4, 8192),
        VmSize("performance-8x", 8, 16384),
        VmSize("performance-16x", 16, 32768),
    )
}


def size_named(name: str) -> VmSize:
    size = SIZES.get(name.strip().lower())
    if size is None:
        raise InvalidInput(
            f"unknown VM size {name!r}",
            hint=f"use one of: {', '.join(SIZES)}",
        )
    return size


def parse_memory_mb(value: str | int) -> int:
    """Megabytes from 512, "512", "512mb" or "1gb"; InvalidInput when not a sane amount."""
    match = _MEMORY.match(str(value).strip())
    if isinstance(value, bool) or match is None:
        raise InvalidInput(
            f"{value!r} is not an amount of memory",
            hint='give megabytes, e.g. 512, "512mb" or "1gb"',
        )
    amount = int(match.group(1)) * (1024 if (match.group(2) or "").lower() == "gb" else 1)
    if not MIN_MEMORY_MB <= amount <= MAX_MEMORY_MB:
        raise InvalidInput(
            f"{amount} MB of memory is out of range",
            hint=f"give between {MIN_MEMORY_MB} and {MAX_MEMORY_MB} MB",
        )
    return amount


@dataclass(frozen=True)
class VmResources:
    """What a machine gets: None means no limit (an app without [[vm]])."""

    size: str | None
    cpus: int | None
    memory_mb: int | None


def resources(size: str | None, cpus: int | None, memory: str | int | None) -> VmResources:
    """The cpus and memory a [[vm]] gives, filling what it leaves out from its size.

    An unknown size (a GPU preset, say) limits only what is given explicitly.
    """
    if size is None:
        return VmResources(None, None, None)
    preset = SIZES.get(size.strip().lower())
    return VmResources(
        size=size,
        cpus=cpus if cpus is not None else (preset.cpus if preset else None),
        memory_mb=parse_memory_mb(memory)
        if memory is not None
        else (preset.memory_mb if preset else None),
    )
