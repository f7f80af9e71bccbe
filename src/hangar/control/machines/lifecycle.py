"""Bringing one machine up and taking it down, saving its state after every step."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hangar.appconfig.model import AppConfig
from hangar.control.events import EventLog
from hangar.control.machines.smoke import MachineExited, SmokeWatch, exit_status, watch
from hangar.control.machines.specs import container_spec, edge_policy, health_checks
from hangar.control.platform import Platform
from hangar.domain.states import CheckStatus, MachineState
from hangar.errors import HangarError, HealthCheckFailed, NotFound
from hangar.ports import Backend, ContainerInfo, ProbeTarget
from hangar.store.models import Machine

LOG_LINES_ON_FAILURE = 15


@dataclass(frozen=True)
class Target:
    """What machines should run: one release of an app."""

    version: int
    image: str
    config: AppConfig

    @property
    def app(self) -> str:
        return self.config.app


def backend_name(machine_id: str, container_id: str) -> str:
    """The edge's name for one container of a machine: two may serve during a swap."""
    return f"{machine_id}-{container_id[:12]}"


def backend_of(machine: Machine) -> Backend | None:
    if machine.container_id is None or machine.host_port is None:
        return None
    return Backend(backend_name(machine.id, machine.container_id), machine.host_port)


class MachineOps:
    def __init__(
        self, platform: Platform, events: EventLog | None = None, smoke_s: float | None = None
    ) -> None:
        self.platform = platform
        self.events = events or EventLog()
        self.smoke_s = platform.settings.smoke_window_s if smoke_s is None else smoke_s

    def create(self, app_id: int, machine_id: str, target: Target, region: str) -> None:
        with self.platform.db.session() as session:
            session.add(
                Machine(
                    id=machine_id,
                    app_id=app_id,
                    release_version=target.version,
                    state=MachineState.CREATED,
                    region=region,
                )
            )

    def bring_up(
        self,
        machine_id: str,
        target: Target,
        region: str,
        timeout_s: float | None,
        route: bool = True,
        smoke: bool = False,
    ) -> ContainerInfo:
        """Run the machine's container, wait for its checks, route traffic to it.

        With `timeout_s` None the checks are not waited for; with `smoke` the
        machine must keep running for the smoke window before it is routed; with
        `route` False it is kept out of the edge until `route_in`. A fresh start:
        the count of automatic restarts begins again.
        """
        self.save(machine_id, restart_count=0, last_exit=None)
        info = self.launch(machine_id, target, region)
        if timeout_s is not None:
            self.wait_healthy(info, target.config, timeout_s)
        self.save(machine_id, state=MachineState.STARTED, checks=CheckStatus.PASSING)
        if smoke:
            self.survive(self.watch(info))
        if route:
            self.route_in(target.config, machine_id)
        return info

    def launch(self, machine_id: str, target: Target, region: str) -> ContainerInfo:
        """Run a new container for the machine (replacing its old one) and record it."""
        info = self.start_container(machine_id, target, region)
        self._record(machine_id, info, target)
        self.events.emit("machine", f"Machine {machine_id} started, waiting for health checks")
        return info

    def start_container(self, machine_id: str, target: Target, region: str) -> ContainerInfo:
        """A container of `target` for the machine; the store is not told."""
        secrets = self.platform.secrets.env_for(target.app)
        spec = container_spec(
            target.config, machine_id, target.version, target.image, region, secrets
        )
        return self.platform.runtime.run(spec)

    def start_beside(self, machine: Machine, target: Target, timeout_s: float) -> ContainerInfo:
        """Start-first: a container of `target` beside the machine's running one,
        routed once healthy. If it fails it is removed; the old one keeps serving."""
        self.events.emit("machine", f"Machine {machine.id}: starting v{target.version} beside it")
        info = self.start_container(machine.id, target, machine.region)
        self.events.emit(
            "machine", f"Machine {machine.id}: v{target.version} started, waiting for health checks"
        )
        try:
            self.wait_healthy(info, target.config, timeout_s, record=False)
        except HangarError:
            self.platform.runtime.remove(info.container_id)
            raise
        self._add_backend(target.config, machine.id, info)
        self.events.emit(
            "machine",
            f"Machine {machine.id}: v{target.version} healthy, serving beside the old one",
        )
        return info

    def swap(self, machine: Machine, info: ContainerInfo, target: Target) -> str | None:
        """Make `info` the machine's container; the one it had, still to retire, or None."""
        self._record(machine.id, info, target)
        self.save(
            machine.id,
            state=MachineState.STARTED,
            checks=CheckStatus.PASSING,
            restart_count=0,
            last_exit=None,
        )
        self.events.emit("machine", f"Machine {machine.id} is on v{target.version}")
        return machine.container_id

    def discard(self, app: str, machine_id: str, info: ContainerInfo, config: AppConfig) -> None:
        """Take a container started beside a machine out again (the machine keeps its own)."""
        self.retire(app, machine_id, info.container_id, config, which="new")

    def wait_healthy(
        self,
        info: ContainerInfo,
        config: AppConfig,
        timeout_s: float,
        record: bool = True,
        retry_s: float | None = None,
    ) -> None:
        """Wait for the checks; fail at once, with the exit and last lines, if it exits.
        `retry_s`: try a failing check this often (default: its interval, at most 0.2 s)."""
        try:
            await_checks(self.platform, info, config, timeout_s, retry_s)
        except HealthCheckFailed as exc:
            if record:
                self._mark_failed(info.machine_id, exc)
            raise self._with_logs(info, exc) from exc

    def watch(self, info: ContainerInfo) -> SmokeWatch:
        return watch(self.platform.runtime, info, self.smoke_s)

    def survive(self, smoke: SmokeWatch) -> None:
        """Wait out the smoke window; a machine that exits in it is failed, out of routing."""
        try:
            smoke.wait()
        except MachineExited as exc:
            raise self.crashed(smoke, exc) from exc

    def crashed(self, smoke: SmokeWatch, exc: MachineExited) -> MachineExited:
        """Record a machine whose smoke checks failed; the error to raise, with its logs."""
        machine = self.machine(smoke.machine_id)
        if machine.container_id == smoke.container_id:
            name = backend_name(machine.id, smoke.container_id)
            self.platform.edge.remove_backend(smoke.app, name)
            self._mark_failed(machine.id, exc)
        info = ContainerInfo(smoke.container_id, smoke.app, smoke.machine_id, 0, "exited", None)
        error = self._with_logs(info, exc)
        return MachineExited(error.message, exc.ended, exc.hint)

    def route_in(self, config: AppConfig, machine_id: str) -> None:
        backend = backend_of(self.machine(machine_id))
        if backend is not None:
            self.platform.edge.add_backend(config.app, backend, edge_policy(config))
        self.events.emit("machine", f"Machine {machine_id} is healthy and serving")

    def take_down(self, app: str, machine: Machine, config: AppConfig) -> None:
        """Drain the machine's traffic, then stop and remove its container."""
        self.save(machine.id, state=MachineState.REPLACING)
        if machine.container_id:
            self.retire(app, machine.id, machine.container_id, config)
        self.save(machine.id, container_id=None, host_port=None)

    def destroy(self, app: str, machine: Machine, config: AppConfig) -> None:
        """Drain and remove the machine's container, then forget the machine."""
        self.take_down(app, machine, config)
        with self.platform.db.session() as session:
            row = session.get(Machine, machine.id)
            if row is not None:
                session.delete(row)
        self.events.emit("machine", f"Machine {machine.id} destroyed")

    def machine(self, machine_id: str) -> Machine:
        with self.platform.db.session() as session:
            machine = session.get(Machine, machine_id)
        if machine is None:
            raise NotFound(f"machine {machine_id} no longer exists")
        return machine

    def save(self, machine_id: str, **fields: Any) -> None:
        with self.platform.db.session() as session:
            machine = session.get(Machine, machine_id)
            if machine is None:
                return
            for key, value in fields.items():
                setattr(machine, key, value)

    def last_logs(self, container_id: str, machine_id: str) -> str:
        try:
            lines = self.platform.runtime.logs(container_id, machine_id, tail=LOG_LINES_ON_FAILURE)
            return "\n".join(f"  {line.message}" for line in lines) or "  (no output)"
        except HangarError:
            return "  (logs unavailable)"

    def _record(self, machine_id: str, info: ContainerInfo, target: Target) -> None:
        self.save(
            machine_id,
            container_id=info.container_id,
            host_port=info.host_port,
            release_version=target.version,
            checks=CheckStatus.UNKNOWN,
        )

    def _add_backend(self, config: AppConfig, machine_id: str, info: ContainerInfo) -> None:
        if info.host_port is not None:
            backend = Backend(backend_name(machine_id, info.container_id), info.host_port)
            self.platform.edge.add_backend(config.app, backend, edge_policy(config))

    def retire(
        self, app: str, machine_id: str, container_id: str, config: AppConfig, which: str = "old"
    ) -> None:
        """Drain one container of the machine out of the edge, then stop and remove it."""
        name = backend_name(machine_id, container_id)
        self.events.emit("machine", f"Draining machine {machine_id}")
        self.platform.edge.drain_backend(app, name, self.platform.settings.drain_timeout_s)
        self.platform.edge.remove_backend(app, name)
        self.events.emit(
            "machine",
            f"Stopping the {which} container of machine {machine_id} "
            f"({config.kill_signal}, up to {config.kill_timeout:g}s)",
        )
        self.platform.runtime.stop(container_id, config.kill_signal, int(config.kill_timeout))
        self.platform.runtime.remove(container_id)
        self.events.emit("machine", f"Machine {machine_id}: {which} container stopped")

    def _mark_failed(self, machine_id: str, exc: HealthCheckFailed) -> None:
        last_exit = exc.ended.describe() if isinstance(exc, MachineExited) else None
        fields: dict[str, Any] = {"state": MachineState.FAILED, "checks": CheckStatus.CRITICAL}
        if last_exit:
            fields["last_exit"] = last_exit
        self.save(machine_id, **fields)

    def _with_logs(self, info: ContainerInfo, exc: HealthCheckFailed) -> HealthCheckFailed:
        logs = self.last_logs(info.container_id, info.machine_id)
        message = f"{exc.message}\nlast log lines of machine {info.machine_id}:\n{logs}"
        if isinstance(exc, MachineExited):
            return MachineExited(message, exc.ended, exc.hint)
        return HealthCheckFailed(
            message, exc.hint or "fix the app or its checks, then deploy again"
        )


def await_checks(
    platform: Platform,
    info: ContainerInfo,
    config: AppConfig,
    timeout_s: float,
    retry_s: float | None = None,
) -> None:
    """Wait for the machine's checks, giving up early (MachineExited) if the container stops."""
    checks = health_checks(config)
    if retry_s is not None:
        checks = [replace(c, interval_s=min(c.interval_s, retry_s)) for c in checks]
    service = config.http_service
    target = ProbeTarget.of(info, service.internal_port) if service else None
    if target is None or not checks:
        return

    def running() -> bool:
        return exit_status(platform.runtime.inspect(info.container_id)) is None

    try:
        platform.health.wait_healthy(target, checks, timeout_s, running)
    except HealthCheckFailed as exc:
        status = exit_status(platform.runtime.inspect(info.container_id))
        if status is not None:
            raise MachineExited(
                f"machine {info.machine_id} exited ({status.describe()}) "
                "before it passed its health checks",
                status,
            ) from None
        raise _never_healthy(info, exc, timeout_s) from None


def _never_healthy(
    info: ContainerInfo, exc: HealthCheckFailed, timeout_s: float
) -> HealthCheckFailed:
    return HealthCheckFailed(
        f"machine {info.machine_id} failed its health checks for "
        f"{timeout_s:.0f}s: {exc.message.removeprefix('machine failed its ')}",
        exc.hint,
    )
