"""Bringing one machine up and taking it down, saving its state after every step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hangar.appconfig.model import AppConfig
from hangar.control.events import EventLog
from hangar.control.platform import Platform
from hangar.control.specs import container_spec, health_checks
from hangar.domain.states import CheckStatus, MachineState
from hangar.errors import HangarError, HealthCheckFailed, NotFound
from hangar.ports import Backend, ContainerInfo
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


class MachineOps:
    def __init__(self, platform: Platform, events: EventLog | None = None) -> None:
        self.platform = platform
        self.events = events or EventLog()

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
    ) -> None:
        """Run the machine's container, wait for its checks, route traffic to it.

        With `timeout_s` None the checks are not waited for; with `route` False the
        machine is kept out of the edge until `route_in`. A fresh start: the count of
        automatic restarts begins again.
        """
        self.save(machine_id, restart_count=0, last_exit=None)
        info = self.launch(machine_id, target, region)
        checks = health_checks(target.config)
        if info.host_port is not None and checks and timeout_s is not None:
            self._wait_healthy(machine_id, info.container_id, info.host_port, checks, timeout_s)
        self.save(machine_id, state=MachineState.STARTED, checks=CheckStatus.PASSING)
        if route:
            self.route_in(target.app, machine_id)

    def launch(self, machine_id: str, target: Target, region: str) -> ContainerInfo:
        """Run a new container for the machine (replacing its old one) and record it."""
        secrets = self.platform.secrets.env_for(target.app)
        spec = container_spec(
            target.config, machine_id, target.version, target.image, region, secrets
        )
        info = self.platform.runtime.run(spec)
        self.save(
            machine_id,
            container_id=info.container_id,
            host_port=info.host_port,
            release_version=target.version,
            checks=CheckStatus.UNKNOWN,
        )
        self.events.emit("machine", f"Machine {machine_id} started, waiting for health checks")
        return info

    def route_in(self, app: str, machine_id: str) -> None:
        with self.platform.db.session() as session:
            machine = session.get(Machine, machine_id)
            port = machine.host_port if machine else None
        if port is not None:
            self.platform.edge.add_backend(app, Backend(machine_id, port))
        self.events.emit("machine", f"Machine {machine_id} is healthy and serving")

    def take_down(self, app: str, machine: Machine, config: AppConfig) -> None:
        """Drain the machine's traffic, then stop and remove its container."""
        self.save(machine.id, state=MachineState.REPLACING)
        self.events.emit("machine", f"Draining machine {machine.id}")
        self.platform.edge.drain_backend(app, machine.id, self.platform.settings.drain_timeout_s)
        self.platform.edge.remove_backend(app, machine.id)
        if machine.container_id:
            self.platform.runtime.stop(
                machine.container_id, config.kill_signal, int(config.kill_timeout)
            )
            self.platform.runtime.remove(machine.container_id)
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

    def _wait_healthy(
        self, machine_id: str, container_id: str, port: int, checks: Any, timeout_s: float
    ) -> None:
        try:
            self.platform.health.wait_healthy(port, checks, timeout_s)
        except HealthCheckFailed as exc:
            self.save(machine_id, state=MachineState.FAILED, checks=CheckStatus.CRITICAL)
            raise HealthCheckFailed(
                f"machine {machine_id} failed its health checks: {exc.message}\n"
                f"last log lines:\n{self.last_logs(container_id, machine_id)}",
                hint="fix the app or its [http_service] checks, then deploy again",
            ) from exc

    def last_logs(self, container_id: str, machine_id: str) -> str:
        try:
            lines = self.platform.runtime.logs(container_id, machine_id, tail=LOG_LINES_ON_FAILURE)
            return "\n".join(f"  {line.message}" for line in lines) or "  (no output)"
        except HangarError:
            return "  (logs unavailable)"
