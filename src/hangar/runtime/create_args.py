"""Turn a ContainerSpec into the Docker SDK's `containers.create` arguments."""

from __future__ import annotations

import os
from typing import Any

from hangar.ports import (
    APP_LABEL,
    MACHINE_LABEL,
    MANAGED_LABEL,
    RELEASE_LABEL,
    ContainerSpec,
)

LOOPBACK = "127.0.0.1"


def labels_for(spec: ContainerSpec, instance: str) -> dict[str, str]:
    return {
        MANAGED_LABEL: instance,
        APP_LABEL: spec.app,
        MACHINE_LABEL: spec.machine_id,
        RELEASE_LABEL: str(spec.release),
    }


def create_args(spec: ContainerSpec, instance: str, network: str) -> dict[str, Any]:
    """Keyword arguments for `client.containers.create` (never pulls, never restarts).

    The container joins `network` (its app's own) and no other.
    `init=True` runs Docker's tiny init as PID 1 so the app gets the stop signal
    (PID 1 ignores signals it has no handler for) and zombies are reaped, as on
    a fly.io machine. The hostname is the machine id, as on fly.io.
    """
    args: dict[str, Any] = {
        "image": spec.image,
        "command": spec.cmd,
        "name": spec.name,
        "hostname": spec.machine_id,
        "labels": labels_for(spec, instance),
        "environment": dict(spec.env),
        "stop_signal": spec.kill_signal,
        "restart_policy": {"Name": "no"},
        "init": True,
        "network": network,
    }
    if spec.internal_port is not None:
        args["ports"] = {f"{spec.internal_port}/tcp": (LOOPBACK, None)}
    return args | resource_limits(spec)


def resource_limits(spec: ContainerSpec) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if spec.memory_mb is not None:
        limits["mem_limit"] = f"{spec.memory_mb}m"
    if spec.cpus is not None:
        limits["nano_cpus"] = round(host_cpus(spec.cpus) * 1_000_000_000)
    return limits


def host_cpus(cpus: float) -> float:
    """A VM of more CPUs than the host has gets all of them (Docker refuses more)."""
    return min(cpus, float(os.cpu_count() or 1))
