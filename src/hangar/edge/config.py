"""Render haproxy.cfg and the Host → backend map from routes (pure, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hangar.domain.check_syntax import CHECK_PATH, HTTP_METHOD
from hangar.edge.access_log import LOG_FORMAT, MAX_LINE
from hangar.errors import InvalidInput
from hangar.ports import CheckSpec, Route

NOT_FOUND_BACKEND = "_not_found"  # app names cannot start with "_": no clash
NOT_FOUND_PAGE = "404.html"  # an lf-file: `%[...]` in it is evaluated per request
NO_MACHINE_PAGE = "503.http"  # an errorfile: a full HTTP response, headers included
_MAX_SOCKET_PATH = 107  # sun_path is 108 bytes on Linux, with the final NUL
# Idle keep-alive connections to each machine are kept and reused. Servers added
# at runtime do not inherit `default-server` in HAProxy 2.6, so every server line
# and `add server` carries these itself.
SERVER_OPTIONS = "pool-max-conn 64 pool-purge-delay 10s"
# Methods that may be replayed on another machine after a response timeout or an
# empty response: the request may have reached the app. Others are retried only
# when the connection failed, before anything was sent.
IDEMPOTENT_METHODS = "GET HEAD OPTIONS PUT DELETE"
# HAProxy runs the app's check too, so a machine that dies while the control plane
# is away leaves rotation after CHECK_FALL failed checks. It starts a server UP:
# only the control plane, whose checks see inside the machine, routes one.
# However seldom the app asks to be checked, the edge checks at least every
# CHECK_MAX_INTERVAL_S, and every CHECK_FAST_INTERVAL_S once a check failed.
CHECK_FALL = 2
CHECK_RISE = 2
CHECK_MAX_INTERVAL_S = 2.0
CHECK_FAST_INTERVAL_S = 0.5

_APP_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SERVER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class EdgePaths:
    """Where the edge keeps its files; all inside one state directory."""

    config: Path
    host_map: Path
    stats_socket: Path
    master_socket: Path
    pages_dir: Path
    pid_file: Path
    log_file: Path
    access_socket: Path  # the access log's datagrams (edge/access_log.py)

    @classmethod
    def under(cls, state_dir: Path) -> EdgePaths:
        d = state_dir.resolve()
        if not re.match(r"^[\w./+-]+$", str(d)):
            raise InvalidInput(f"edge state dir {d} has characters haproxy.cfg cannot hold")
        if len(str(d / "master.sock")) > _MAX_SOCKET_PATH:
            raise InvalidInput(f"edge state dir {d} is too long for a UNIX socket path")
        return cls(
            config=d / "haproxy.cfg",
            host_map=d / "hosts.map",
            stats_socket=d / "stats.sock",
            master_socket=d / "master.sock",
            pages_dir=d / "pages",
            pid_file=d / "haproxy.pid",
            log_file=d / "haproxy.log",
            access_socket=d / "access.sock",
        )


def validate_route(route: Route) -> None:
    """Raise InvalidInput unless every name in `route` is safe in haproxy.cfg."""
    _check(_APP_RE, route.app, "app name", "lowercase letters, digits and dashes")
    _check(_HOST_RE, route.hostname, "hostname", "a lowercase DNS name without port")
    for backend in route.backends:
        _check(_SERVER_RE, backend.name, "machine id", "letters, digits, '.', '_', '-'")
        if not 0 < backend.port < 65536:
            raise InvalidInput(f"port {backend.port} of {backend.name} is out of range")
    if route.check is not None and route.check.kind == "http":
        _check(CHECK_PATH, route.check.path, "check path", "a URL path such as /health")
        _check(HTTP_METHOD, route.check.method, "check method", "an HTTP method such as GET")


def _check(pattern: re.Pattern[str], value: str, what: str, allowed: str) -> None:
    if not pattern.match(value):
        raise InvalidInput(f"{what} {value!r} cannot be routed", f"Use {allowed}.")


def render_map(routes: list[Route]) -> str:
    """One `hostname backend` line per app, sorted for stable output."""
    lines = sorted(f"{r.hostname} {r.app}" for r in routes)
    return "".join(f"{line}\n" for line in lines)


def render_config(routes: list[Route], bind_host: str, bind_port: int, paths: EdgePaths) -> str:
    """The full haproxy.cfg serving `routes` on bind_host:bind_port."""
    for route in routes:
        validate_route(route)
    parts = [
        _global_section(paths),
        _defaults_section(paths),
        _frontend_section(bind_host, bind_port, paths),
        _not_found_section(paths),
        *(_backend_section(r) for r in sorted(routes, key=lambda r: r.app)),
    ]
    return "\n".join(parts)


def _global_section(paths: EdgePaths) -> str:
    return (
        "global\n"
        "    master-worker\n"
        f"    stats socket {paths.stats_socket} mode 600 level admin expose-fd listeners\n"
        "    stats timeout 30s\n"
        "    hard-stop-after 60s\n"
        f"    log {paths.access_socket} len {MAX_LINE} format raw local0 info\n"
    )


def _defaults_section(paths: EdgePaths) -> str:
    return (
        "defaults\n"
        "    mode http\n"
        "    log global\n"
        f'    log-format "{LOG_FORMAT}"\n'
        "    timeout connect 5s\n"
        "    timeout client 60s\n"
        "    timeout server 60s\n"
        "    timeout http-keep-alive 10s\n"
        "    option http-keep-alive\n"
        "    option idle-close-on-response\n"
        "    option redispatch 1\n"
        "    retries 3\n"
        "    retry-on conn-failure empty-response response-timeout\n"
        f"    errorfile 503 {paths.pages_dir / NO_MACHINE_PAGE}\n"
    )


def _frontend_section(bind_host: str, bind_port: int, paths: EdgePaths) -> str:
    return (
        "frontend http\n"
        f"    bind {bind_host}:{bind_port}\n"
        # One Host, naming one host: a list ("evil, app") or a second Host is refused,
        # so no request reaches an app under another name (req.hdr splits at commas).
        "    http-request deny deny_status 400 if { req.fhdr_cnt(host) gt 1 }\n"
        "    http-request deny deny_status 400 if { req.fhdr(host) -m sub , }\n"
        "    http-request set-var(txn.host)"
        " req.fhdr(host),host_only,lower,regsub([^a-z0-9.-],_,g)\n"
        f"    http-request disable-l7-retry unless {{ method {IDEMPOTENT_METHODS} }}\n"
        f"    use_backend %[var(txn.host),map({paths.host_map})]\n"
        f"    default_backend {NOT_FOUND_BACKEND}\n"
    )


def _not_found_section(paths: EdgePaths) -> str:
    page = paths.pages_dir / NOT_FOUND_PAGE
    return (
        f"backend {NOT_FOUND_BACKEND}\n"
        '    http-request return status 404 content-type "text/html; charset=utf-8"'
        f" lf-file {page}\n"
    )


def _backend_section(route: Route) -> str:
    servers = "".join(f"    {server_line(b.name, b.port, route.check)}\n" for b in route.backends)
    checks = _check_lines(route)
    return f"backend {route.app}\n    balance roundrobin\n{checks}{servers}"


def _check_lines(route: Route) -> str:
    check = route.check
    if check is None:
        return ""
    lines = f"    timeout check {_ms(check.timeout_s)}\n"
    if check.kind == "http":
        lines += (
            "    option httpchk\n"
            f"    http-check send meth {check.method} uri {check.path} ver HTTP/1.1"
            f" hdr Host {route.hostname}\n"
            "    http-check expect status 200-399\n"
        )
    return lines


def server_line(name: str, port: int, check: CheckSpec | None) -> str:
    """The `server` line for one machine, as in the config file."""
    return f"server {name} 127.0.0.1:{port} {server_options(check)}"


def server_options(check: CheckSpec | None) -> str:
    """What every server of an app carries: the connection pool and the app's check."""
    if check is None:
        return SERVER_OPTIONS
    every = min(check.interval_s, CHECK_MAX_INTERVAL_S)
    fast = min(every, CHECK_FAST_INTERVAL_S)
    return (
        f"{SERVER_OPTIONS} check inter {_ms(every)} fastinter {_ms(fast)}"
        f" fall {CHECK_FALL} rise {CHECK_RISE}"
    )


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"
