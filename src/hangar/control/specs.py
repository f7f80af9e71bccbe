"""From an app's config and release to what a machine runs and how it is checked."""

from __future__ import annotations

import re

from hangar.appconfig.model import AppConfig
from hangar.ports import CheckSpec, ContainerSpec

_MEMORY = re.compile(r"^(\d+)\s*(mb|gb)?$", re.IGNORECASE)
_SIZE_MEMORY_MB = {"shared-cpu-1x": 256, "shared-cpu-2x": 512, "shared-cpu-4x": 1024}


def container_spec(
    config: AppConfig,
    machine_id: str,
    release: int,
    image: str,
    region: str,
    secrets: dict[str, str] | None = None,
) -> ContainerSpec:
    """Secrets override [env] of the same name; the FLY_* variables override both."""
    env = {
        **config.env,
        **(secrets or {}),
        "FLY_APP_NAME": config.app,
        "FLY_MACHINE_ID": machine_id,
        "FLY_REGION": region,
        "PRIMARY_REGION": config.primary_region,
        "FLY_RELEASE_VERSION": str(release),
    }
    vm = config.vm[0] if config.vm else None
    return ContainerSpec(
        app=config.app,
        machine_id=machine_id,
        release=release,
        image=image,
        env=env,
        internal_port=config.http_service.internal_port if config.http_service else None,
        cpus=float(vm.cpus) if vm and vm.cpus else None,
        memory_mb=memory_mb(vm.memory, vm.size) if vm else None,
        kill_signal=config.kill_signal,
        kill_timeout_s=int(config.kill_timeout),
    )


def memory_mb(memory: str | int | None, size: str) -> int | None:
    if memory is None:
        return _SIZE_MEMORY_MB.get(size)
    match = _MEMORY.match(str(memory).strip())
    if match is None:
        return None
    amount = int(match.group(1))
    return amount * 1024 if (match.group(2) or "").lower() == "gb" else amount


def health_checks(config: AppConfig) -> list[CheckSpec]:
    """The http_service checks, or a TCP check on internal_port when there are none."""
    service = config.http_service
    if service is None:
        return []
    if not service.checks:
        return [CheckSpec(kind="tcp")]
    return [
        CheckSpec(
            kind="http",
            path=check.path,
            method=check.method,
            interval_s=check.interval,
            timeout_s=check.timeout,
            grace_s=check.grace_period,
        )
        for check in service.checks
    ]
