"""What the edge should route, kept in memory so a reload never loses a server."""

from __future__ import annotations

from dataclasses import dataclass, field

from hangar.edge.config import validate_route
from hangar.edge.runtime_api import ServerStat
from hangar.ports import Backend, Route, RoutePolicy


@dataclass
class _App:
    hostname: str
    servers: dict[str, Backend] = field(default_factory=dict)
    parked: set[str] = field(default_factory=set)  # drained or in maintenance
    policy: RoutePolicy = field(default_factory=RoutePolicy)
    domains: tuple[str, ...] = ()


class DesiredRoutes:
    """Apps with their hostnames and machines; parked machines get no new requests."""

    def __init__(self) -> None:
        self._apps: dict[str, _App] = {}

    @classmethod
    def from_routes(cls, routes: list[Route]) -> DesiredRoutes:
        desired = cls()
        for route in routes:
            validate_route(route)
            servers = {b.name: b for b in route.backends}
            desired._apps[route.app] = _App(
                route.hostname, servers, policy=route.policy, domains=route.domains
            )
        return desired

    def has_app(self, app: str) -> bool:
        return app in self._apps

    def add_app(self, app: str, hostname: str, domains: tuple[str, ...] = ()) -> None:
        validate_route(Route(app, hostname, domains=domains))
        self._apps.setdefault(app, _App(hostname, domains=domains))

    def set_domains(self, app: str, domains: tuple[str, ...]) -> bool:
        """Route `domains` to `app` too; True if they changed."""
        entry = self._apps[app]
        validate_route(Route(app, entry.hostname, domains=domains))
        changed, entry.domains = entry.domains != domains, domains
        return changed

    def remove_app(self, app: str) -> None:
        self._apps.pop(app, None)

    def backend(self, app: str, name: str) -> Backend | None:
        entry = self._apps.get(app)
        return entry.servers.get(name) if entry else None

    def is_parked(self, app: str, name: str) -> bool:
        entry = self._apps.get(app)
        return entry is not None and name in entry.parked

    def add(self, app: str, backend: Backend, policy: RoutePolicy) -> bool:
        """Route to `backend` (replacing a parked or older one of the same name) and
        treat every machine of the app by `policy`; True if the policy changed."""
        entry = self._apps[app]
        validate_route(Route(app, entry.hostname, (backend,), policy))
        entry.servers[backend.name] = backend
        entry.parked.discard(backend.name)
        changed, entry.policy = entry.policy != policy, policy
        return changed

    def policies(self) -> dict[str, RoutePolicy]:
        """Each app's policy: a change needs a reload."""
        return {app: entry.policy for app, entry in self._apps.items()}

    def park(self, app: str, name: str) -> None:
        """Keep `name` known but out of the config: no new requests after a reload."""
        if self.backend(app, name) is not None:
            self._apps[app].parked.add(name)

    def remove(self, app: str, name: str) -> None:
        entry = self._apps.get(app)
        if entry:
            entry.servers.pop(name, None)
            entry.parked.discard(name)

    def routes(self) -> list[Route]:
        """The routes to render: every app, with its ready (unparked) machines."""
        return [
            Route(
                app,
                e.hostname,
                tuple(b for n, b in e.servers.items() if n not in e.parked),
                e.policy,
                e.domains,
            )
            for app, e in self._apps.items()
        ]

    def matches(
        self, backends: list[str], host_map: dict[str, str], servers: list[ServerStat]
    ) -> bool:
        """True if a worker reporting this runtime state already serves these routes."""
        routes = self.routes()
        if set(backends) != {r.app for r in routes}:
            return False
        if host_map != {hostname: r.app for r in routes for hostname in r.hostnames}:
            return False
        wanted = {(r.app, b.name): f"127.0.0.1:{b.port}" for r in routes for b in r.backends}
        running = {(s.backend, s.name): s for s in servers if s.backend in self._apps}
        return running.keys() == wanted.keys() and all(
            running[key].ready and running[key].addr == addr for key, addr in wanted.items()
        )
