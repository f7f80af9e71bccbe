"""Fakes for every port, for fast unit tests of `control/`. Not for integration tests."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hangar.errors import BuildFailed, HealthCheckFailed, NotFound, RuntimeFailure
from hangar.ports import (
    Backend,
    CertificateState,
    CheckSpec,
    ContainerInfo,
    ContainerSpec,
    LogLine,
    ProbeTarget,
    Route,
    RoutePolicy,
    UsageSample,
)


class FakeLogStream:
    """Its lines, then (when following) a read that blocks until close(), as Docker's does."""

    def __init__(self, lines: list[LogLine], follow: bool) -> None:
        self._lines = iter(lines)
        self._follow = follow
        self.closed = threading.Event()

    def __iter__(self) -> FakeLogStream:
        return self

    def __next__(self) -> LogLine:
        for line in self._lines:
            return line
        if self._follow:
            self.closed.wait(60)
        raise StopIteration

    def close(self) -> None:
        self.closed.set()


@dataclass
class FakeRuntime:
    containers: dict[str, ContainerInfo] = field(default_factory=dict)
    images: set[str] = field(default_factory=set)
    journal: list[str] = field(default_factory=list)
    task_exit_code: int = 0
    crashing_releases: set[int] = field(default_factory=set)  # exit 3 when next inspected
    usage_calls: int = 0
    stops_wait_for: threading.Event | None = None  # a slow stop: each waits for this (10 s max)
    log_streams: list[FakeLogStream] = field(default_factory=list)  # every one logs() opened
    image_parents: dict[str, str] = field(default_factory=dict)  # image id -> the one below
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, spec: ContainerSpec) -> ContainerInfo:
        """Machines keep running; a release command exits at once with `task_exit_code`."""
        number = next(self._ids)
        task = spec.env.get("RELEASE_COMMAND") == "1"
        info = ContainerInfo(
            container_id=f"c{number}",
            app=spec.app,
            machine_id=spec.machine_id,
            release=spec.release,
            state="exited" if task else "running",
            host_port=None if task else 20000 + number,
            image=spec.image,
            exit_code=self.task_exit_code if task else None,
        )
        self.containers[info.container_id] = info
        self.journal.append(f"run {spec.machine_id} v{spec.release}")
        return info

    def stop(self, container_id: str, signal: str, timeout_s: int) -> None:
        if self.stops_wait_for is not None:
            self.stops_wait_for.wait(10)
        self.containers[container_id] = replace(self.containers[container_id], state="exited")
        self.journal.append(f"stop {self.containers[container_id].machine_id}")

    def crash(self, container_id: str, exit_code: int = 1, oom_killed: bool = False) -> None:
        """The container's main process exits on its own (or the kernel kills it)."""
        self.containers[container_id] = replace(
            self.containers[container_id],
            state="exited",
            exit_code=exit_code,
            oom_killed=oom_killed,
        )

    def start(self, container_id: str) -> ContainerInfo:
        info = replace(self.containers[container_id], state="running")
        self.containers[container_id] = info
        return info

    def remove(self, container_id: str) -> None:
        self.containers.pop(container_id, None)

    def remove_app_network(self, app: str) -> None:
        if any(info.app == app for info in self.containers.values()):
            raise RuntimeFailure(f"the network of app {app} still has containers")
        self.journal.append(f"remove network {app}")

    def inspect(self, container_id: str) -> ContainerInfo | None:
        info = self.containers.get(container_id)
        if info is not None and info.state == "running" and info.release in self.crashing_releases:
            self.crash(container_id, exit_code=3)
            return self.containers[container_id]
        return info

    def list_managed(self, app: str | None = None) -> list[ContainerInfo]:
        return [c for c in self.containers.values() if app in (None, c.app)]

    def logs(
        self, container_id: str, machine_id: str, tail: int = 100, follow: bool = False
    ) -> FakeLogStream:
        line = LogLine(machine_id, "2026-01-01T00:00:00Z", f"log of {container_id}")
        stream = FakeLogStream([line], follow)
        self.log_streams.append(stream)
        return stream

    def usage(self, container_id: str) -> UsageSample | None:
        """Each sample has used 1 ms more CPU per call than the last, of 1 s of host time."""
        info = self.containers.get(container_id)
        if info is None or info.state != "running":
            return None
        self.usage_calls += 1
        return UsageSample(
            cpu_ns=self.usage_calls * 10**6,
            system_ns=self.usage_calls * 10**9,
            cpus=2,
            memory_bytes=32 * 2**20,
            memory_limit_bytes=256 * 2**20,
        )

    def image_exists(self, ref: str) -> bool:
        return ref in self.images

    def remove_image(self, ref: str) -> None:
        self.images.discard(ref)

    def image_tags(self, repository: str) -> set[str]:
        return {ref for ref in self.images if ref.startswith(f"{repository}:")}

    def image_id(self, ref: str) -> str | None:
        """An image's id is `sha256:` + the reference it was added under."""
        if ref.startswith("sha256:"):
            return ref if ref in self.images or ref.removeprefix("sha256:") in self.images else None
        return f"sha256:{ref}" if ref in self.images else None

    def image_parent(self, image_id: str) -> str | None:
        return self.image_parents.get(image_id)

    def dangling_images(self) -> list[str]:
        """Untagged images are the `sha256:…` entries of `images`."""
        return sorted(ref for ref in self.images if ref.startswith("sha256:"))

    def remove_dangling_image(self, image_id: str) -> bool:
        if not image_id.startswith("sha256:") or image_id not in self.images:
            return False
        self.images.discard(image_id)
        return True


@dataclass
class FakeBuilder:
    fail: bool = False
    runtime: FakeRuntime | None = None

    def build(
        self,
        context_dir: Path,
        tag: str,
        on_line: Callable[[str], None],
        dockerfile: str = "Dockerfile",
        args: dict[str, str] | None = None,
    ) -> str:
        on_line("Step 1/1 : FROM scratch")
        if self.fail:
            raise BuildFailed("the build failed at step 1", hint="fix the Dockerfile")
        if self.runtime is not None:
            self.runtime.images.add(tag)
        return "sha256:" + tag


@dataclass
class FakeEdge:
    """Servers by their edge name (`<machine>-<container>`); `routes` and the
    journal speak of machine ids, as the tests do."""

    servers: dict[str, dict[str, int]] = field(default_factory=dict)
    journal: list[str] = field(default_factory=list)
    policies: dict[str, RoutePolicy] = field(default_factory=dict)
    domains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    challenges: dict[str, str] = field(default_factory=dict)  # ACME HTTP-01 tokens
    load: dict[str, int] = field(default_factory=dict)  # requests in flight, by server name

    @property
    def checks(self) -> dict[str, CheckSpec | None]:
        return {app: policy.check for app, policy in self.policies.items()}

    @property
    def routes(self) -> dict[str, dict[str, int]]:
        return {
            app: {_machine_of(name): port for name, port in servers.items()}
            for app, servers in self.servers.items()
        }

    def sync(self, routes: list[Route]) -> None:
        self.servers = {r.app: {b.name: b.port for b in r.backends} for r in routes}
        self.policies = {r.app: r.policy for r in routes}
        self.domains = {r.app: r.domains for r in routes if r.domains}

    def add_backend(self, app: str, backend: Backend, policy: RoutePolicy | None) -> None:
        if app not in self.servers:
            raise NotFound(f"no backend for {app}")
        self.servers[app][backend.name] = backend.port
        self.policies[app] = policy or RoutePolicy()
        self.journal.append(f"add {_machine_of(backend.name)}")

    def drain_backend(self, app: str, name: str, timeout_s: float) -> None:
        self.journal.append(f"drain {_machine_of(name)}")

    def remove_backend(self, app: str, name: str) -> None:
        self.servers.get(app, {}).pop(name, None)
        self.journal.append(f"remove {_machine_of(name)}")

    def remove_app(self, app: str) -> None:
        self.servers.pop(app, None)
        self.domains.pop(app, None)

    def set_domains(self, app: str, domains: tuple[str, ...]) -> None:
        self.domains[app] = domains

    def in_flight(self, app: str) -> dict[str, int]:
        return {name: self.load.get(name, 0) for name in self.servers.get(app, {})}

    def certificate(self, hostname: str) -> CertificateState | None:
        return None  # the fake serves plain HTTP

    def refresh_certificates(self) -> None:
        self.journal.append("refresh certificates")

    def publish_challenge(self, token: str, key_authorization: str) -> None:
        self.challenges[token] = key_authorization

    def withdraw_challenge(self, token: str) -> None:
        self.challenges.pop(token, None)


def _machine_of(backend_name: str) -> str:
    return backend_name.rsplit("-", 1)[0]


@dataclass
class FakeHealth:
    """Passes the first `passes` checks (all when None), fails the rest; with `runtime`,
    also fails the machines running a release in `failing_releases` (after letting
    `passes_per_release` of them pass)."""

    passes: int | None = None
    checked: list[int] = field(default_factory=list)
    runtime: FakeRuntime | None = None
    failing_releases: set[int] = field(default_factory=set)
    passes_per_release: int = 0  # machines of a failing release that pass before one fails
    _passed: dict[int, int] = field(default_factory=dict)

    def wait_healthy(
        self,
        target: ProbeTarget,
        checks: list[CheckSpec],
        timeout_s: float,
        running: Callable[[], bool] = lambda: True,
    ) -> None:
        port = target.host_port
        self.checked.append(port)
        release = self._release_on(port)
        if release is not None and release in self.failing_releases:
            if self._passed.get(release, 0) >= self.passes_per_release:
                raise HealthCheckFailed(f"port {port} answered HTTP 500")
            self._passed[release] = self._passed.get(release, 0) + 1
        if self.passes is not None and len(self.checked) > self.passes:
            raise HealthCheckFailed(f"port {port} refused connections")

    def _release_on(self, port: int) -> int | None:
        containers = self.runtime.containers.values() if self.runtime else ()
        return next((c.release for c in containers if c.host_port == port), None)


class FakeClock:
    """A clock that moves only when told (advance, or a sleep of the code under test)."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=UTC)
        self._monotonic = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds
