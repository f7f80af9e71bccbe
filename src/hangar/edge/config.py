"""Render haproxy.cfg and the Host → backend map from routes (pure, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hangar.domain.check_syntax import CHECK_PATH, HTTP_METHOD
from hangar.edge.access_log import LOG_FORMAT, MAX_LINE
from hangar.errors import InvalidInput
from hangar.ports import Route, RoutePolicy

NOT_FOUND_BACKEND = "_not_found"  # app names cannot start with "_": no clash
NOT_FOUND_PAGE = "404.html"  # an lf-file: `%[...]` in it is evaluated per request
# An lf-file too: it says "no healthy machine" or "at capacity" by the count of
# usable servers, through two small maps written beside it (edge/pages.py).
UNAVAILABLE_PAGE = "503.html"
# A request that finds every machine at its hard limit waits this long for one.
QUEUE_TIMEOUT_S = 10.0
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

# The request id a client may send and have kept (else the edge makes one).
REQUEST_ID = r"^[A-Za-z0-9._:-]{8,128}$"
ACME_CHALLENGES = "/.well-known/acme-challenge/"  # answered over plain HTTP, always
# Headers frameworks read as the client's address or scheme that the edge does not
# set: a client's copies are removed (Rack trusts X-Forwarded-Ssl before -Proto).
UNTRUSTED_HEADERS = (
    "Forwarded",
    "X-Forwarded-Scheme",
    "X-Forwarded-Protocol",
    "X-Real-IP",
    "X-Client-IP",
    "Fly-Forwarded-Proto",
    "Fly-Forwarded-Ssl",
)
# Headers the edge sets on every request; a client's copies are replaced, never
# passed on.
FORWARDED_HEADERS = (
    ("X-Forwarded-For", "%[src]"),
    ("X-Forwarded-Port", "%[dst_port]"),
    ("X-Forwarded-Host", "%[req.fhdr(host)]"),
    ("X-Request-Id", "%[var(txn.request_id)]"),
    ("Fly-Client-IP", "%[src]"),
    ("Fly-Forwarded-Port", "%[dst_port]"),
    ("Fly-Request-Id", "%[var(txn.request_id)]"),
)

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
    https_only_map: Path  # hostnames whose plain HTTP requests are redirected
    certs_dir: Path  # one PEM per hostname (edge/tls_files.py)
    crt_list: Path
    acme_challenges_map: Path  # token -> key authorization, for HTTP-01
    wake_script: Path
    wake_socket: Path

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
            https_only_map=d / "https-only.map",
            certs_dir=d / "certs",
            crt_list=d / "certs.list",
            acme_challenges_map=d / "acme-challenges.map",
            wake_script=d / "wake.lua",
            wake_socket=d / "wake.sock",
        )


@dataclass(frozen=True)
class Listeners:
    """Where the edge listens: plain HTTP, and HTTPS when it has certificates."""

    host: str
    http_port: int
    https_port: int | None = None
    region: str = "local"  # said to apps in Fly-Region
    queue_timeout_s: float = QUEUE_TIMEOUT_S
    metrics_port: int | None = None  # HAProxy's Prometheus exporter, on 127.0.0.1
    threads: int | None = None  # HAProxy's nbthread; None: one per core


def validate_route(route: Route) -> None:
    """Raise InvalidInput unless every name in `route` is safe in haproxy.cfg."""
    _check(_APP_RE, route.app, "app name", "lowercase letters, digits and dashes")
    for hostname in route.hostnames:
        _check(_HOST_RE, hostname, "hostname", "a lowercase DNS name without port")
    for backend in route.backends:
        _check(_SERVER_RE, backend.name, "machine id", "letters, digits, '.', '_', '-'")
        if not 0 < backend.port < 65536:
            raise InvalidInput(f"port {backend.port} of {backend.name} is out of range")
    if route.check is not None and route.check.kind == "http":
        _check(CHECK_PATH, route.check.path, "check path", "a URL path such as /health")
        _check(HTTP_METHOD, route.check.method, "check method", "an HTTP method such as GET")


def _check(pattern: re.Pattern[str], value: str, what: str, allowed: str) -> None:
    if not pattern.fullmatch(value):
        raise InvalidInput(f"{what} {value!r} cannot be routed", f"Use {allowed}.")


def render_map(routes: list[Route]) -> str:
    """One `hostname backend` line per app, sorted for stable output."""
    lines = sorted(f"{hostname} {r.app}" for r in routes for hostname in r.hostnames)
    return "".join(f"{line}\n" for line in lines)


def render_https_only_map(routes: list[Route]) -> str:
    """The hostnames of apps with force_https, one per line."""
    ordered = sorted(routes, key=lambda r: r.hostname)
    return "".join(
        f"{hostname} 1\n" for r in ordered if r.policy.force_https for hostname in r.hostnames
    )


def render_config(routes: list[Route], listen: Listeners, paths: EdgePaths) -> str:
    """The full haproxy.cfg serving `routes` where `listen` says."""
    for route in routes:
        validate_route(route)
    parts = [
        _global_section(paths, listen),
        _defaults_section(listen, paths),
        _frontend_section(listen, paths),
        _not_found_section(paths),
        _metrics_section(listen),
        *(_backend_section(r, paths) for r in sorted(routes, key=lambda r: r.app)),
    ]
    return "\n".join(parts)


def _global_section(paths: EdgePaths, listen: Listeners) -> str:
    threads = f"    nbthread {listen.threads}\n" if listen.threads else ""
    return (
        "global\n"
        "    master-worker\n"
        f"{threads}"
        f"    stats socket {paths.stats_socket} mode 600 level admin expose-fd listeners\n"
        "    stats timeout 30s\n"
        "    hard-stop-after 60s\n"
        # A request's line and headers must fit in bufsize less maxrewrite (15 KiB);
        # a bigger one gets HAProxy's 400 and never reaches a machine.
        "    tune.bufsize 16384\n"
        "    tune.maxrewrite 1024\n"
        f"    log {paths.access_socket} len {MAX_LINE} format raw local0 info\n"
        f"    lua-load {paths.wake_script}\n"
    )


def _defaults_section(listen: Listeners, paths: EdgePaths) -> str:
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
        f"    timeout queue {_ms(listen.queue_timeout_s)}\n"
    )


def _frontend_section(listen: Listeners, paths: EdgePaths) -> str:
    return (
        "frontend http\n"
        f"    bind {listen.host}:{listen.http_port}\n"
        + _https_bind(listen, paths)
        # One Host, naming one host: a list ("evil, app") or a second Host is refused,
        # so no request reaches an app under another name (req.hdr splits at commas).
        + "    http-request deny deny_status 400 if { req.fhdr_cnt(host) gt 1 }\n"
        "    http-request deny deny_status 400 if { req.fhdr(host) -m sub , }\n"
        "    http-request set-var(txn.host)"
        " req.fhdr(host),host_only,lower,regsub([^a-z0-9.-],_,g)\n"
        + _acme_challenge_answer(paths)
        + _https_redirect(listen, paths)
        + _forwarded_headers(listen)
        + f"    http-request disable-l7-retry unless {{ method {IDEMPOTENT_METHODS} }}\n"
        f"    use_backend %[var(txn.host),map({paths.host_map})]\n"
        f"    default_backend {NOT_FOUND_BACKEND}\n"
    )


def _https_bind(listen: Listeners, paths: EdgePaths) -> str:
    if listen.https_port is None:
        return ""
    return (
        f"    bind {listen.host}:{listen.https_port} ssl crt-list {paths.crt_list}"
        " alpn h2,http/1.1 ssl-min-ver TLSv1.2\n"
    )


def _acme_challenge_answer(paths: EdgePaths) -> str:
    """HTTP-01: the edge itself answers a token the control plane published."""
    token = f"path,field(4,/),map({paths.acme_challenges_map})"
    return (
        "    http-request return status 200 content-type text/plain"
        f" lf-string %[{token}] if {{ path_beg {ACME_CHALLENGES} }} {{ {token} -m found }}\n"
    )


def _https_redirect(listen: Listeners, paths: EdgePaths) -> str:
    """force_https: plain HTTP gets a 301 to the same URL over HTTPS (not ACME's
    challenges, which must be answered over HTTP)."""
    if listen.https_port is None:
        return ""
    port = "" if listen.https_port == 443 else f":{listen.https_port}"
    return (
        f"    http-request redirect code 301 location https://%[var(txn.host)]{port}"
        f"%[pathq] if !{{ ssl_fc }} {{ var(txn.host),map({paths.https_only_map})"
        f" -m found }} !{{ path_beg {ACME_CHALLENGES} }}\n"
    )


def _forwarded_headers(listen: Listeners) -> str:
    lines = [
        "    http-request set-var(txn.request_id) req.fhdr(x-request-id)"
        " if { req.fhdr_cnt(x-request-id) eq 1 }"
        f" {{ req.fhdr(x-request-id) -m reg {REQUEST_ID} }}\n",
        "    http-request set-var(txn.request_id) uuid() unless { var(txn.request_id) -m found }\n",
        *(f"    http-request del-header {name}\n" for name in UNTRUSTED_HEADERS),
        "    http-request set-header X-Forwarded-Ssl on if { ssl_fc }\n",
        "    http-request set-header X-Forwarded-Ssl off unless { ssl_fc }\n",
        "    http-request set-header X-Forwarded-Proto https if { ssl_fc }\n",
        "    http-request set-header X-Forwarded-Proto http unless { ssl_fc }\n",
        *(f"    http-request set-header {name} {value}\n" for name, value in FORWARDED_HEADERS),
        f"    http-request set-header Fly-Region {listen.region}\n",
        "    http-response set-header X-Request-Id %[var(txn.request_id)]\n",
    ]
    return "".join(lines)


def _metrics_section(listen: Listeners) -> str:
    if listen.metrics_port is None:
        return ""
    return (
        "frontend metrics\n"
        f"    bind 127.0.0.1:{listen.metrics_port}\n"
        "    no log\n"
        "    http-request use-service prometheus-exporter if { path /metrics }\n"
        "    http-request return status 404\n"
    )


def _not_found_section(paths: EdgePaths) -> str:
    page = paths.pages_dir / NOT_FOUND_PAGE
    return (
        f"backend {NOT_FOUND_BACKEND}\n"
        '    http-request return status 404 content-type "text/html; charset=utf-8"'
        f" lf-file {page}\n"
    )


def _backend_section(route: Route, paths: EdgePaths) -> str:
    servers = "".join(f"    {server_line(b.name, b.port, route.policy)}\n" for b in route.backends)
    checks = _check_lines(route)
    # In each backend: HAProxy 2.6 crashes on an lf-file http-error in defaults.
    unavailable = (
        '    http-error status 503 content-type "text/html; charset=utf-8"'
        f" hdr Cache-Control no-store lf-file {paths.pages_dir / UNAVAILABLE_PAGE}\n"
    )
    # auto_start_machines: a request finding no usable machine is held while one starts
    # (edge/wake.py); only then does the Lua action run.
    hold = "    http-request lua.hangar_hold if { nbsrv eq 0 }\n" if route.policy.auto_start else ""
    return f"backend {route.app}\n    balance leastconn\n{hold}{unavailable}{checks}{servers}"


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


def server_line(name: str, port: int, policy: RoutePolicy) -> str:
    """The `server` line for one machine, as in the config file."""
    return f"server {name} 127.0.0.1:{port} {server_options(policy)}"


def server_options(policy: RoutePolicy) -> str:
    """What every server of an app carries: the connection pool, the app's hard
    limit and its check."""
    options = SERVER_OPTIONS
    if policy.hard_limit is not None:
        options += f" maxconn {policy.hard_limit}"
    check = policy.check
    if check is None:
        return options
    every = min(check.interval_s, CHECK_MAX_INTERVAL_S)
    fast = min(every, CHECK_FAST_INTERVAL_S)
    return (
        f"{options} check inter {_ms(every)} fastinter {_ms(fast)}"
        f" fall {CHECK_FALL} rise {CHECK_RISE}"
    )


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"
