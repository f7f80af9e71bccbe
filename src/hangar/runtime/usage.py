"""The engine's stats of a container as a UsageSample."""

from __future__ import annotations

from typing import Any

from hangar.ports import UsageSample


def usage_from_stats(stats: dict[str, Any]) -> UsageSample | None:
    """None for a container that is not running (the engine reports zeros)."""
    cpu = stats.get("cpu_stats") or {}
    memory = stats.get("memory_stats") or {}
    system = int(cpu.get("system_cpu_usage") or 0)
    if not system or "usage" not in memory:
        return None
    usage = int(memory.get("usage") or 0)
    cache = int((memory.get("stats") or {}).get("inactive_file") or 0)  # what `docker stats` omits
    return UsageSample(
        cpu_ns=int((cpu.get("cpu_usage") or {}).get("total_usage") or 0),
        system_ns=system,
        cpus=int(cpu.get("online_cpus") or 1),
        memory_bytes=max(0, usage - cache),
        memory_limit_bytes=int(memory.get("limit") or 0),
    )
