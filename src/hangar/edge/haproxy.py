"""HAProxyEdge: the `Edge` port on a real HAProxy (runtime API + hitless reloads)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from hangar.edge.config import (
    NOT_FOUND_BACKEND,
    QUEUE_TIMEOUT_S,
    EdgePaths,
    Listeners,
    render_config,
    render_https_only_map,
    render_map,
    server_options,
    validate_route,
)
from hangar.edge.desired import DesiredRoutes
from hangar.edge.files import write_atomic
from hangar.edge.pages import write_pages
from hangar.edge.process import HAProxyProcess
from hangar.edge.runtime_api import RuntimeAPI, ServerState
from hangar.edge.tls_files import CertificateChanges, CertificateFiles
from hangar.edge.wake import write_wake_script
from hangar.errors import EdgeFailure
from hangar.ports import Backend, CertificateIssuer, CertificateState, Route, RoutePolicy

log = logging.getLogger(__name__)

_DRAIN_POLL_S = 0.05


class HAProxyEdge:
    """Routes `Host: <hostname>` to app machines on 127.0.0.1 through one HAProxy.

    Machines come and go through the runtime API; only a new or removed app
    (a new backend section) needs a reload, and reloads are hitless. A new
    instance adopts a HAProxy left running by an earlier one: call `sync` first.
    """

    def __init__(
        self,
        state_dir: Path,
        http_host: str = "127.0.0.1",
        http_port: int = 80,
        domain: str = "localhost",
        haproxy_bin: str = "haproxy",
        https_port: int | None = None,
        issuer: CertificateIssuer | None = None,
        queue_timeout_s: float = QUEUE_TIMEOUT_S,
        metrics_port: int | None = None,
        fallback_issuer: CertificateIssuer | None = None,
        threads: int | None = None,
    ) -> None:
        """HTTPS is served on `https_port` with certificates from `issuer`, if both
        given; `fallback_issuer` signs the one for other names (default: `issuer`)."""
        self.paths = EdgePaths.under(state_dir)
        self.http_host = http_host
        self.http_port = http_port
        self.domain = domain
        tls = https_port is not None and issuer is not None
        self.listen = Listeners(
            http_host,
            http_port,
            https_port if tls else None,
            queue_timeout_s=queue_timeout_s,
            metrics_port=metrics_port,
            threads=threads,
        )
        self._certificates = (
            CertificateFiles(
                self.paths.certs_dir, self.paths.crt_list, issuer, domain, fallback_issuer
            )
            if issuer is not None and tls
            else None
        )
        self._process = HAProxyProcess(haproxy_bin, self.paths)
        self._desired = DesiredRoutes()
        self._domains: dict[str, tuple[str, ...]] = {}  # also of apps not routed yet
        self._challenges: dict[str, str] = {}  # ACME's HTTP-01 tokens being answered
        self._lock = threading.RLock()
        self._stale = False  # an adopted process may run an older config

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        """The HAProxy master's PID while it runs."""
        return self._process.pid

    def start(self) -> None:
        """Start HAProxy on the current desired routes, or adopt one left running."""
        with self._lock:
            if self.running:
                return
            if self._process.adopt():
                self._stale = True
                return
            self._write_files(check=True)
            self._process.start()

    def stop(self, graceful: bool = False) -> None:
        """Stop HAProxy; `graceful` lets in-flight requests finish first."""
        with self._lock:
            self._process.stop(graceful=graceful)

    def sync(self, routes: list[Route]) -> None:
        """Serve exactly `routes`; reload hitlessly only if the running worker differs."""
        with self._lock:
            policies = self._desired.policies()
            self._desired = DesiredRoutes.from_routes(routes)
            self._domains = {r.app: r.domains for r in routes if r.domains}
            if not self.running:
                self.start()
            policies_changed = policies != self._desired.policies()
            if self._stale or policies_changed or not self._worker_matches():
                self._reload()
            else:
                self._write_files()

    def add_backend(self, app: str, backend: Backend, policy: RoutePolicy | None) -> None:
        """Route `app` to `backend` too: `add server` + `enable server`, no reload
        unless the app is new or its policy changed (a new backend section)."""
        policy = policy or RoutePolicy()
        with self._lock:
            if not self._desired.has_app(app):
                self._add_app(app, backend, policy)
                return
            if self._desired.add(app, backend, policy):  # validates before touching HAProxy
                self._reload_if_running()
                return
            self._write_files()
            if self.running:
                _ensure_server(self._process.stats, app, backend, policy)

    def drain_backend(self, app: str, name: str, timeout_s: float) -> None:
        """No new requests to `name`; wait for in-flight ones (or timeout), then maint."""
        with self._lock:
            if self._desired.backend(app, name) is None:
                return
            self._desired.park(app, name)
            self._write_files()
            self._set_state(app, name, "drain")
        self._wait_drained(app, name, time.monotonic() + timeout_s)
        with self._lock:
            if self._desired.is_parked(app, name):
                self._set_state(app, name, "maint")

    def remove_backend(self, app: str, name: str) -> None:
        """Take `name` out: maint, then `del server` (cutting sessions if any), no reload."""
        with self._lock:
            self._desired.remove(app, name)
            self._write_files()
            if self.running:
                _remove_server(self._process.stats, app, name)

    def in_flight(self, app: str) -> dict[str, int]:
        if not self.running:
            return {}
        with self._lock:
            routed = {b.name for r in self._desired.routes() if r.app == app for b in r.backends}
        return {s.name: s.in_flight for s in self._process.stats.servers(app) if s.name in routed}

    def set_domains(self, app: str, domains: tuple[str, ...]) -> None:
        """Route `domains` to `app` too (a hitless reload, with their certificates)."""
        with self._lock:
            if not self._desired.has_app(app):
                validate_route(Route(app, f"{app}.{self.domain}", domains=domains))
                self._domains[app] = domains  # routed with the app's first machine
                return
            previous = self._domains.get(app, ())
            if not self._desired.set_domains(app, domains):
                return
            try:
                self._reload_if_running()
            except EdgeFailure:
                self._desired.set_domains(app, previous)  # the caller's change is undone
                self._write_files()
                raise
            self._domains[app] = domains

    def certificate(self, hostname: str) -> CertificateState | None:
        if self._certificates is None:
            return None
        return self._certificates.state(hostname)

    def remove_app(self, app: str) -> None:
        """Stop routing the app's hostname; in-flight requests finish in the old worker."""
        with self._lock:
            self._domains.pop(app, None)
            if not self._desired.has_app(app):
                return
            self._desired.remove_app(app)
            self._reload_if_running()

    def refresh_certificates(self) -> None:
        """Write the certificates that are new or renewed and load them, no reload."""
        with self._lock:
            if self._certificates is not None:
                self._write_files()

    def publish_challenge(self, token: str, key_authorization: str) -> None:
        """Answer GET /.well-known/acme-challenge/TOKEN on every hostname, no reload."""
        with self._lock:
            self._challenges[token] = key_authorization
            self._write_challenges()
            if self.running:
                self._process.stats.add_map_entry(
                    self.paths.acme_challenges_map, token, key_authorization
                )

    def withdraw_challenge(self, token: str) -> None:
        with self._lock:
            if self._challenges.pop(token, None) is None:
                return
            self._write_challenges()
            if self.running:
                self._process.stats.del_map_entry(self.paths.acme_challenges_map, token)

    def _add_app(self, app: str, backend: Backend, policy: RoutePolicy) -> None:
        hostname = f"{app}.{self.domain}"
        validate_route(Route(app, hostname, (backend,), policy))
        self._desired.add_app(app, hostname, self._domains.get(app, ()))
        self._desired.add(app, backend, policy)
        self._reload_if_running()

    def _reload_if_running(self) -> None:
        if self.running:
            self._reload()
        else:
            self._write_files()

    def _reload(self) -> None:
        self._write_files(check=True)
        self._process.reload()
        self._stale = False

    def _write_files(self, check: bool = False) -> None:
        """Write what HAProxy reads. `check` comes before a reload, which loads every
        certificate; otherwise the new and renewed ones are loaded at runtime."""
        routes = self._desired.routes()
        config = render_config(routes, self.listen, self.paths)
        write_pages(self.paths.pages_dir)
        write_atomic(self.paths.host_map, render_map(routes))
        write_atomic(self.paths.https_only_map, render_https_only_map(routes))
        write_wake_script(self.paths.wake_script, self.paths.wake_socket)
        self._write_challenges()
        changes = CertificateChanges()
        if self._certificates is not None:
            changes = self._certificates.write(name for r in routes for name in r.hostnames)
        if check:
            self._process.check(config)
        write_atomic(self.paths.config, config)
        if changes and not check and self.running:
            self._load_certificates(changes)

    def _write_challenges(self) -> None:
        lines = "".join(f"{token} {value}\n" for token, value in sorted(self._challenges.items()))
        write_atomic(self.paths.acme_challenges_map, lines)

    def _load_certificates(self, changes: CertificateChanges) -> None:
        assert self._certificates is not None
        api, files = self._process.stats, self._certificates
        try:
            for hostname in changes.renewed:
                api.replace_certificate(files.path(hostname), _bundle(files.path(hostname)))
            for hostname in changes.added:
                path = files.path(hostname)
                api.add_certificate(files.crt_list, path, _bundle(path), hostname)
        except EdgeFailure as exc:
            log.warning("loading certificates at runtime failed (%s); reloading instead", exc)
            self._reload()

    def _worker_matches(self) -> bool:
        api = self._process.stats
        backends = [b for b in api.backends() if b != NOT_FOUND_BACKEND]
        host_map = api.show_map(self.paths.host_map)
        return self._desired.matches(backends, host_map, api.servers())

    def _set_state(self, app: str, name: str, state: ServerState) -> None:
        if self.running:
            _set_state_if_present(self._process.stats, app, name, state)

    def _wait_drained(self, app: str, name: str, deadline: float) -> None:
        while self.running and self._in_flight(app, name) > 0:
            if time.monotonic() >= deadline:
                log.warning("%s/%s still had requests when its drain timed out", app, name)
                return
            time.sleep(_DRAIN_POLL_S)

    def _in_flight(self, app: str, name: str) -> int:
        """Requests `name` has, or may still get, in the current and old workers.

        An old worker's proxies are stopped (they refuse `set server`), but it
        still answers one last request on each idle keep-alive connection, with
        its old servers: while it knows `name`, count it as busy.
        """
        stat = self._process.stats.server(app, name)
        total = stat.in_flight if stat else 0
        old_workers = self._old_workers()
        if old_workers is None:
            return max(total, 1)  # the master did not answer: unknown counts as busy
        for api in old_workers:
            stat = api.server(app, name)
            total += max(stat.in_flight, 1) if stat else 0
        return total

    def _old_workers(self) -> list[RuntimeAPI] | None:
        """The old workers' runtime APIs; None when the master cannot be asked."""
        try:
            _, old = self._process.worker_pids()
        except EdgeFailure:
            return None
        return [self._process.worker(pid) for pid in old]


def _bundle(path: Path) -> str:
    return path.read_text()


def _ensure_server(api: RuntimeAPI, app: str, backend: Backend, policy: RoutePolicy) -> None:
    """Make `backend` a ready server of `app` in the worker behind `api`."""
    current = api.server(app, backend.name)
    if current is not None and current.addr != f"127.0.0.1:{backend.port}":
        _remove_server(api, app, backend.name)
        current = None
    if current is None:
        api.add_server(app, backend.name, backend.port, server_options(policy))
        if policy.check is not None:
            api.enable_health(app, backend.name)
        api.enable_server(app, backend.name)
    else:
        api.set_state(app, backend.name, "ready")


def _remove_server(api: RuntimeAPI, app: str, name: str) -> None:
    current = api.server(app, name)
    if current is None:
        return
    if not current.status.startswith("MAINT"):
        api.set_state(app, name, "maint")
    api.del_server(app, name)


def _set_state_if_present(api: RuntimeAPI, app: str, name: str, state: ServerState) -> None:
    if api.server(app, name) is not None:
        api.set_state(app, name, state)
