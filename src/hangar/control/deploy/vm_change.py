"""`hangar scale vm|memory`: a new [[vm]] rolled out as a release through the deploy engine.

The current release's image and config are deployed again with only [[vm]]
changed, so every machine is replaced (rolling, health-checked) by one with
the new Docker limits, and `hangar releases` shows the change ("Scale VM").
"""

from __future__ import annotations

from dataclasses import dataclass

from hangar.appconfig.model import AppConfig, Vm
from hangar.control.apps import find_app
from hangar.control.deploy.engine import DeployRequest
from hangar.control.machines.targets import current_release, require_image, target_of
from hangar.control.platform import Platform
from hangar.domain.vm_sizes import DEFAULT_SIZE, parse_memory_mb, size_named
from hangar.errors import InvalidInput
from hangar.store.models import User

DESCRIPTION = "Scale VM"


def vm_change_request(
    platform: Platform,
    user: User,
    app_name: str,
    size: str | None = None,
    memory: str | int | None = None,
) -> DeployRequest:
    """The deploy that gives the app's machines `size` and/or `memory` (MB)."""
    change = vm_change(size, memory)
    with platform.db.session() as session:
        target = target_of(current_release(session, find_app(session, app_name, user)))
    require_image(platform, target)
    return DeployRequest(
        app=app_name,
        user_email=user.email,
        config=with_vm(target.config, change),
        image=target.image,
        description=DESCRIPTION,
    )


@dataclass(frozen=True)
class VmChange:
    size: str | None  # None: keep the current size and cpus
    memory_mb: int | None  # None: the size's own memory


def vm_change(size: str | None, memory: str | int | None) -> VmChange:
    """Check what was asked for: a known size, a sane amount of memory, at least one."""
    if size is None and memory is None:
        raise InvalidInput(
            "nothing to change: give a VM size or an amount of memory",
            hint="e.g. `hangar scale vm shared-cpu-2x` or `hangar scale memory 512`",
        )
    return VmChange(
        size=size_named(size).name if size is not None else None,
        memory_mb=parse_memory_mb(memory) if memory is not None else None,
    )


def with_vm(config: AppConfig, change: VmChange) -> AppConfig:
    """`config` with its first [[vm]] changed (or made, from fly's default size)."""
    current = config.vm[0] if config.vm else Vm(size=DEFAULT_SIZE)
    if change.size is None:
        vm = current.model_copy(update={"memory": change.memory_mb, "memory_mb": None})
    else:
        vm = Vm(size=change.size, memory=change.memory_mb)
    return config.model_copy(update={"vm": [vm, *config.vm[1:]]})
