"""Stopping a machine and starting it again, its container kept in between.

`power_off` drains the machine out of the edge and stops its container
(`hangar machines stop`, and the auto-stop of idle machines). `power_on` starts
that same container again (`docker start`: no new container to create, so a
cold start costs the app's own boot), or a new one when the container is gone
(a deploy retargets stopped machines), waits for its checks and routes it.
"""

from __future__ import annotations

from hangar.appconfig.model import AppConfig
from hangar.control.machines.lifecycle import MachineOps, Target, backend_name
from hangar.control.machines.targets import machine_release
from hangar.control.platform import Platform
from hangar.domain.states import CheckStatus, MachineState
from hangar.ports import ContainerInfo
from hangar.store.models import Machine

WAKE_RETRY_S = 0.02  # a waking machine's checks are tried this often: a request waits


def power_off(platform: Platform, app: str, machine: Machine, config: AppConfig) -> None:
    if machine.container_id:
        name = backend_name(machine.id, machine.container_id)
        platform.edge.drain_backend(app, name, platform.settings.drain_timeout_s)
        platform.edge.remove_backend(app, name)
        platform.runtime.stop(machine.container_id, config.kill_signal, int(config.kill_timeout))
    MachineOps(platform).save(machine.id, state=MachineState.STOPPED, checks=CheckStatus.UNKNOWN)


def power_on(platform: Platform, machine: Machine, config: AppConfig) -> None:
    """Start the stopped machine and route it once its checks pass."""
    ops = MachineOps(platform)
    ops.save(machine.id, restart_count=0, last_exit=None)
    info = _started_container(platform, ops, machine, config)
    ops.wait_healthy(info, config, config.deploy.wait_timeout, retry_s=WAKE_RETRY_S)
    ops.save(machine.id, state=MachineState.STARTED, checks=CheckStatus.PASSING)
    ops.route_in(config, machine.id)


def _started_container(
    platform: Platform, ops: MachineOps, machine: Machine, config: AppConfig
) -> ContainerInfo:
    kept = platform.runtime.inspect(machine.container_id) if machine.container_id else None
    if kept is not None:
        info = platform.runtime.start(kept.container_id)
        ops.save(machine.id, host_port=info.host_port, checks=CheckStatus.UNKNOWN)
        return info
    with platform.db.session() as session:
        image = machine_release(session, machine).image
    target = Target(machine.release_version, image, config)
    return ops.launch(machine.id, target, machine.region)
