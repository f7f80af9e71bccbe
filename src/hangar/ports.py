"""The boundaries between Hangar's decisions and the machinery they drive.

`control/` reaches the container engine, the image builder, the edge and the
health probe only through these protocols: `runtime/`, `builder/` and `edge/`
implement them, and `testing.py` holds fakes for fast unit tests. The state
store is deliberately not behind a port: `control/` works with SQLAlchemy
sessions and the rows of `store/models.py` directly, and its unit tests run on
a real SQLite database (see README, "How it works").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

MANAGED_LABEL = "hangar.managed"  # value: the owning server's instance id
APP_LABEL = "hangar.app"
MACHINE_LABEL = "hangar.machine"
RELEASE_LABEL = "hangar.release"


@dataclass(frozen=True)
class ContainerSpec:
    """What one machine's container should be."""

    app: str
    machine_id: str
    release: int
    image: str
    env: dict[str, str] = field(default_factory=dict)
    internal_port: int | None = None
    cmd: list[str] | None = None
    cpus: float | None = None
    memory_mb: int | None = None
    kill_signal: str = "SIGINT"
    kill_timeout_s: int = 5

    @property
    def name(self) -> str:
        """One per machine and release: a deploy starts the new one beside the old."""
        return f"hangar-{self.app}-{self.machine_id}-v{self.release}"


@dataclass(frozen=True)
class ContainerInfo:
    """What the Docker Engine reports about one machine's container."""

    container_id: str
    app: str
    machine_id: str
    release: int
    state: str  # Docker's state: created, running, exited, ...
    host_port: int | None  # internal_port as published on 127.0.0.1
    image: str = ""
    exit_code: int | None = None
    oom_killed: bool = False  # the kernel killed a process of it for going over its memory
    pid: int | None = None  # its init process on the engine's host, while it runs


@dataclass(frozen=True)
class LogLine:
    machine_id: str
    timestamp: str  # RFC 3339 as Docker gives it
    message: str


class LogStream(Iterator[LogLine], Protocol):
    """A container's log lines as they come; `close()` stops the reading from any thread."""

    def close(self) -> None:
        """Stop the stream: a thread blocked reading it gets no more lines and returns."""
        ...


@dataclass(frozen=True)
class UsageSample:
    """A running container's counters, as the engine reports them at one moment."""

    cpu_ns: int  # CPU time the container used since it started
    system_ns: int  # the host's CPU time (all CPUs) at the same moment
    cpus: int
    memory_bytes: int
    memory_limit_bytes: int


class Runtime(Protocol):
    def run(self, spec: ContainerSpec) -> ContainerInfo:
        """Create and start a container for `spec` (replacing one of the same name)."""
        ...

    def stop(self, container_id: str, signal: str, timeout_s: int) -> None: ...

    def start(self, container_id: str) -> ContainerInfo: ...

    def remove(self, container_id: str) -> None:
        """Remove the container (force); a missing container is not an error."""
        ...

    def remove_app_network(self, app: str) -> None:
        """Remove the app's private network, once its containers are removed."""
        ...

    def inspect(self, container_id: str) -> ContainerInfo | None: ...

    def list_managed(self, app: str | None = None) -> list[ContainerInfo]: ...

    def logs(
        self, container_id: str, machine_id: str, tail: int = 100, follow: bool = False
    ) -> LogStream:
        """The last `tail` lines, then new ones if `follow`; a missing container raises here."""
        ...

    def usage(self, container_id: str) -> UsageSample | None:
        """CPU and memory of a running container now; None if it is not running."""
        ...

    def image_exists(self, ref: str) -> bool: ...

    def remove_image(self, ref: str) -> None:
        """Remove an image; a missing or still-used image is not an error."""
        ...

    def image_tags(self, repository: str) -> set[str]:
        """The `repository:tag` references of `repository` present on the engine."""
        ...

    def image_id(self, ref: str) -> str | None:
        """The full id (`sha256:…`) of the local image `ref` names (tag, id, id prefix)."""
        ...

    def image_parent(self, image_id: str) -> str | None:
        """The id of the image `image_id` was built on; None if none, or no such image."""
        ...

    def dangling_images(self) -> list[str]:
        """The ids of dangling images: untagged, and no other image's parent."""
        ...

    def remove_dangling_image(self, image_id: str) -> bool:
        """Remove an image by id only if it is still untagged; True if it was removed.

        Docker also removes its untagged parents that nothing else uses. A
        missing image, a tagged one or one a container uses is left alone.
        """
        ...


class Builder(Protocol):
    def build(
        self,
        context_dir: Path,
        tag: str,
        on_line: Callable[[str], None],
        dockerfile: str = "Dockerfile",
        args: dict[str, str] | None = None,
    ) -> str:
        """Build `context_dir` with its `dockerfile` and build `args` as `tag`; return the id.

        Raises BuildFailed with the last log lines when the build fails.
        """
        ...


@dataclass(frozen=True)
class Backend:
    """One routed machine in the edge."""

    name: str  # the machine id
    port: int  # on 127.0.0.1


@dataclass(frozen=True)
class EdgeRequest:
    """One request the edge served, from its access log."""

    app: str
    machine: str  # the edge's server name; "<NOSRV>" when no machine took it
    status: int  # -1 when the client went away first
    duration_ms: int
    bytes_sent: int
    method: str = "-"
    request_id: str = "-"
    path: str = "-"


@dataclass(frozen=True)
class CertificateState:
    issuer: str
    not_after: datetime


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with its chain and key, as HAProxy reads one file."""

    hostnames: tuple[str, ...]
    chain_pem: bytes  # the leaf, then its issuers
    key_pem: bytes
    not_before: datetime
    not_after: datetime
    issuer: str

    @property
    def bundle(self) -> bytes:
        return self.chain_pem + self.key_pem

    def renewal_due(self, now: datetime) -> bool:
        """True once two thirds of the lifetime have passed."""
        return now >= self.not_before + (self.not_after - self.not_before) * 2 / 3


class CertificateIssuer(Protocol):
    """Where the edge's certificates come from: the server's own CA, or ACME."""

    name: str  # as users are told: "local CA", or the ACME directory

    def issue(self, hostnames: tuple[str, ...]) -> IssuedCertificate | None:
        """A new certificate for `hostnames`; None while there is none to be had
        yet (the edge keeps what it serves, or its fallback)."""
        ...


class ChallengeResponder(Protocol):
    """Answers ACME's HTTP-01 challenges at /.well-known/acme-challenge/TOKEN."""

    def publish_challenge(self, token: str, key_authorization: str) -> None: ...

    def withdraw_challenge(self, token: str) -> None: ...


class AcmeAuthority(Protocol):
    """An ACME directory (Let's Encrypt, Pebble, ...), with this server's account."""

    directory: str

    def use_account(self, key_pem: bytes | None) -> bytes:
        """Sign with this account key (a new one when None); returns the key's PEM."""
        ...

    def obtain(self, hostname: str, responder: ChallengeResponder) -> IssuedCertificate:
        """Order, prove by HTTP-01 and download a certificate; raise CertificateFailed."""
        ...


@dataclass(frozen=True)
class RoutePolicy:
    """How the edge treats an app's machines, as its release's fly.toml says."""

    check: CheckSpec | None = None  # the edge runs it too, on every machine
    force_https: bool = False  # plain HTTP answered with a 301 to HTTPS
    hard_limit: int | None = None  # requests a machine takes at once; more wait
    auto_start: bool = False  # a request finding no machine is held while one starts


@dataclass(frozen=True)
class Route:
    """One app in the edge: its hostname and routed machines."""

    app: str
    hostname: str
    backends: tuple[Backend, ...] = ()
    policy: RoutePolicy = RoutePolicy()
    domains: tuple[str, ...] = ()  # the users' own names for the app, routed too

    @property
    def hostnames(self) -> tuple[str, ...]:
        return (self.hostname, *self.domains)

    @property
    def check(self) -> CheckSpec | None:
        return self.policy.check


class Edge(ChallengeResponder, Protocol):
    def sync(self, routes: list[Route]) -> None:
        """Make the edge serve exactly `routes` (rewrites config, reloads hitlessly if needed)."""
        ...

    def add_backend(self, app: str, backend: Backend, policy: RoutePolicy | None) -> None:
        """Route traffic for `app` to `backend` too (runtime API, no reload).

        `policy` is that of the backend's release (None: the defaults); the edge
        applies it to every machine of the app (a changed one costs a hitless
        reload).
        """
        ...

    def drain_backend(self, app: str, name: str, timeout_s: float) -> None:
        """Stop sending new requests to `name`, wait until in-flight ones finish or timeout."""
        ...

    def remove_backend(self, app: str, name: str) -> None:
        """Take `name` out of the edge (runtime API, no reload)."""
        ...

    def remove_app(self, app: str) -> None: ...

    def in_flight(self, app: str) -> dict[str, int]:
        """Requests each of the app's routed servers (by edge name) has now, queued ones too."""
        ...

    def set_domains(self, app: str, domains: tuple[str, ...]) -> None:
        """Route these names (besides APP.<domain>) to `app`, with their certificates."""
        ...

    def certificate(self, hostname: str) -> CertificateState | None:
        """The certificate the edge serves for `hostname`, if it serves HTTPS and has one."""
        ...

    def refresh_certificates(self) -> None:
        """Obtain the missing certificates and renew those that are due."""
        ...


@dataclass(frozen=True)
class CheckSpec:
    """One health check of a machine, probed on 127.0.0.1:<host port>.

    A TCP check passes only when the app's own socket listens on internal_port
    (see edge/listening.py); an HTTP check when the app answers 2xx or 3xx.
    """

    kind: str  # "tcp" or "http"
    path: str = "/"
    method: str = "GET"
    interval_s: float = 1.0
    timeout_s: float = 2.0
    grace_s: float = 0.0


@dataclass(frozen=True)
class ProbeTarget:
    """One machine's container, as its checks reach and see it."""

    host_port: int  # internal_port as published on 127.0.0.1
    internal_port: int
    container_id: str = ""
    pid: int | None = None  # a process inside the container, to read its own sockets

    @classmethod
    def of(cls, info: ContainerInfo, internal_port: int) -> ProbeTarget | None:
        """None when the container publishes no port (nothing to check)."""
        if info.host_port is None:
            return None
        return cls(info.host_port, internal_port, info.container_id, info.pid)


class HealthProbe(Protocol):
    def wait_healthy(
        self,
        target: ProbeTarget,
        checks: list[CheckSpec],
        timeout_s: float,
        running: Callable[[], bool] = lambda: True,
    ) -> None:
        """Return once every check passes; raise HealthCheckFailed at the deadline,
        or as soon as `running` (asked between polls) says the container stopped."""
        ...


class CertificateAuthority(Protocol):
    """The server's own CA, which signs the edge's certificates without ACME."""

    cert_path: Path  # its certificate, PEM, on the server's host

    @property
    def subject(self) -> str: ...
