"""A started machine whose container exited: restart it per its [[restart]] policy.

The machine leaves the edge at once, its exit ("oom killed", "exit 1") is
recorded, and then, as the policy decides (domain/restart_policy.py):

- restart: a fresh container of the same release (a fly.io machine restarts
  with a fresh root file system), health-checked, then routed again; the
  machine's restart count goes up;
- stop: the machine is left `stopped`;
- give up (retries exhausted): the machine is `failed`, out of routing.

Each step is written to the app's platform log, shown by `hangar logs`. The
app's lease is held meanwhile: a restart never runs during a deploy or scale
(those replace the machine anyway), and they wait for it in turn.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from hangar.control import leases
from hangar.control.machines.lifecycle import MachineOps, Target, await_checks, backend_name
from hangar.control.machines.smoke import MachineExited, exit_status
from hangar.control.machines.specs import restart_policy
from hangar.control.machines.targets import machine_release, target_of
from hangar.control.platform import Platform
from hangar.domain.restart_policy import ExitStatus, RestartPolicy, Verdict, attempt_label, decide
from hangar.domain.states import CheckStatus, MachineState
from hangar.errors import Conflict, HangarError, HealthCheckFailed, NotFound
from hangar.store.models import Machine
from hangar.telemetry import RESTARTS

HEALTH_TIMEOUT_S = 60.0  # at most, for a restarted machine to pass its checks
LOG_LINES_KEPT = 20  # of the exited container, into the platform log


@dataclass(frozen=True)
class Exited:
    """A machine the store says is started, whose container is not running."""

    app: str
    machine_id: str
    container_id: str
    status: ExitStatus
    restarts: int


def handle_exit(platform: Platform, exited: Exited) -> bool:
    """Apply the restart policy under the app's lease; False if a change holds the lease."""
    holder = f"restart-{exited.machine_id}"
    try:
        leases.acquire(
            platform.db, exited.app, holder, f"automatic restart of machine {exited.machine_id}"
        )
    except Conflict:
        return False
    with leases.held(platform.db, exited.app, holder):
        return _handle(platform, exited)


def _handle(platform: Platform, exited: Exited) -> bool:
    ops = MachineOps(platform)
    machine = _still_exited(platform, ops, exited)
    if machine is None:
        return False
    with platform.db.session() as session:
        target = target_of(machine_release(session, machine))
    policy = restart_policy(target.config)
    platform.edge.remove_backend(exited.app, backend_name(machine.id, exited.container_id))
    ops.save(machine.id, last_exit=exited.status.describe())
    verdict = decide(policy, exited.status, machine.restart_count)
    if verdict is Verdict.RESTART:
        _restart(platform, ops, machine, target, policy, exited)
    else:
        _leave_down(platform, ops, exited, policy, verdict)
    return True


def _still_exited(platform: Platform, ops: MachineOps, exited: Exited) -> Machine | None:
    """The machine, if nothing changed it since it was seen exited."""
    try:
        machine = ops.machine(exited.machine_id)
    except NotFound:
        return None
    if machine.state != MachineState.STARTED or machine.container_id != exited.container_id:
        return None
    if exit_status(platform.runtime.inspect(exited.container_id)) is None:
        return None
    return machine


def _leave_down(
    platform: Platform, ops: MachineOps, exited: Exited, policy: RestartPolicy, verdict: Verdict
) -> None:
    why = exited.status.describe()
    if verdict is Verdict.STOP:
        ops.save(exited.machine_id, state=MachineState.STOPPED, checks=CheckStatus.UNKNOWN)
        note = f"Machine exited ({why}); restart policy {policy.policy!r} leaves it stopped"
    else:
        ops.save(exited.machine_id, state=MachineState.FAILED, checks=CheckStatus.CRITICAL)
        note = (
            f"Machine exited ({why}) after {exited.restarts} restarts; "
            f"giving up (retries = {policy.retries}): failed"
        )
    _note(platform, exited, note)


def _restart(
    platform: Platform,
    ops: MachineOps,
    machine: Machine,
    target: Target,
    policy: RestartPolicy,
    exited: Exited,
) -> None:
    attempt = machine.restart_count + 1
    label = attempt_label(policy, attempt)
    why = exited.status.describe()
    platform.platform_log.write(
        exited.app, machine.id, f"Machine exited ({why}); restarting ({label})"
    )
    _keep_last_lines(platform, exited)
    RESTARTS.labels(exited.app).inc()
    ops.save(machine.id, state=MachineState.REPLACING, restart_count=attempt)
    try:
        info = ops.launch(machine.id, target, machine.region)
        await_checks(platform, info, target.config, _timeout(target))
        ops.watch(info).wait()  # a crash-looping machine never gets traffic again
    except MachineExited as exc:
        # Still `started`: the monitor sees the exit and applies the policy again.
        ops.save(machine.id, state=MachineState.STARTED, checks=CheckStatus.CRITICAL)
        _note(platform, exited, f"Machine exited again ({exc.ended.describe()}) before serving")
    except HealthCheckFailed as exc:
        _fail(platform, ops, exited, target, f"Machine failed its health checks: {exc.message}")
    except HangarError as exc:
        _fail(platform, ops, exited, target, f"Machine could not be restarted: {exc.message}")
    else:
        ops.save(machine.id, state=MachineState.STARTED, checks=CheckStatus.PASSING)
        ops.route_in(target.config, machine.id)
        _note(platform, exited, f"Machine restarted ({label}), healthy and serving again")


def _note(platform: Platform, exited: Exited, message: str) -> None:
    platform.platform_log.write(exited.app, exited.machine_id, message)


def _fail(platform: Platform, ops: MachineOps, exited: Exited, target: Target, note: str) -> None:
    """Not restarted, or running but never healthy: stopped, failed, out of routing."""
    container_id = ops.machine(exited.machine_id).container_id
    if container_id:
        config = target.config
        with contextlib.suppress(HangarError):  # it is marked failed either way
            platform.runtime.stop(container_id, config.kill_signal, int(config.kill_timeout))
    ops.save(exited.machine_id, state=MachineState.FAILED, checks=CheckStatus.CRITICAL)
    _note(platform, exited, note)


def _keep_last_lines(platform: Platform, exited: Exited) -> None:
    """The exited container is replaced: keep its last lines for `hangar logs`."""
    try:
        lines = list(platform.runtime.logs(exited.container_id, exited.machine_id, LOG_LINES_KEPT))
    except HangarError:
        return
    platform.platform_log.keep(exited.app, lines)


def _timeout(target: Target) -> float:
    return min(target.config.deploy.wait_timeout, HEALTH_TIMEOUT_S)
