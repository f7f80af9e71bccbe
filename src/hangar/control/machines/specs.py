"""From an app's config and release to what a machine runs and how it is checked."""

from __future__ import annotations

from hangar.appconfig.model import AppConfig
from hangar.domain.restart_policy import RestartPolicy
from hangar.domain.vm_sizes import VmResources, resources
from hangar.ports import CheckSpec, ContainerSpec, RoutePolicy


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
    vm = vm_resources(config)
    return ContainerSpec(
        app=config.app,
        machine_id=machine_id,
        release=release,
        image=image,
        env=env,
        internal_port=config.http_service.internal_port if config.http_service else None,
        cpus=float(vm.cpus) if vm.cpus else None,
        memory_mb=vm.memory_mb,
        kill_signal=config.kill_signal,
        kill_timeout_s=int(config.kill_timeout),
    )


def vm_resources(config: AppConfig) -> VmResources:
    """The first [[vm]]'s size, cpus and memory (filled in from the size); no [[vm]], no limits."""
    if not config.vm:
        return VmResources(None, None, None)
    vm = config.vm[0]
    memory = vm.memory if vm.memory is not None else vm.memory_mb
    return resources(vm.size, vm.cpus, memory)


def restart_policy(config: AppConfig) -> RestartPolicy:
    """The first [[restart]] (Hangar has one process group); fly's default without one."""
    if not config.restart:
        return RestartPolicy()
    restart = config.restart[0]
    return RestartPolicy(restart.policy, restart.retries)


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


def edge_policy(config: AppConfig) -> RoutePolicy:
    """How the edge treats the app's machines: its check, force_https, hard limit,
    and whether a request may start a stopped machine."""
    service = config.http_service
    if service is None:
        return RoutePolicy(edge_check(config))
    return RoutePolicy(
        edge_check(config),
        service.force_https,
        service.concurrency.hard_limit,
        auto_start=service.auto_start_machines,
    )


def edge_check(config: AppConfig) -> CheckSpec | None:
    """The check the edge runs on every machine: the first HTTP check, else TCP."""
    checks = health_checks(config)
    return checks[0] if checks else None
