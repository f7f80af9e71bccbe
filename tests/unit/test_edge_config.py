"""haproxy.cfg and host map rendering, and the edge's desired state (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hangar.edge.config import EdgePaths, render_config, render_map
from hangar.edge.desired import DesiredRoutes
from hangar.edge.pages import http_response
from hangar.edge.runtime_api import ServerStat
from hangar.errors import InvalidInput
from hangar.ports import Backend, CheckSpec, Route

PATHS = EdgePaths.under(Path("/srv/hangar/edge"))
WEB = Route("web", "web.example.com", (Backend("a1b2", 9001), Backend("c3d4", 9002)))
API = Route("api", "api.example.com")


def render(*routes: Route) -> str:
    return render_config(list(routes), "127.0.0.1", 8080, PATHS)


def section(config: str, header: str) -> list[str]:
    """The stripped lines of the section starting with `header`."""
    lines = config.splitlines()
    start = lines.index(header) + 1
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append(line.strip())
    return body


def test_global_enables_master_worker_admin_socket_and_hard_stop() -> None:
    lines = section(render(), "global")
    assert "master-worker" in lines
    assert (
        "stats socket /srv/hangar/edge/stats.sock mode 600 level admin expose-fd listeners" in lines
    )
    assert "hard-stop-after 60s" in lines


def test_defaults_retry_and_redispatch_connect_failures() -> None:
    lines = section(render(), "defaults")
    assert "mode http" in lines
    assert "retries 3" in lines
    assert "option redispatch 1" in lines
    assert "retry-on conn-failure empty-response response-timeout" in lines
    assert "option http-keep-alive" in lines
    assert "errorfile 503 /srv/hangar/edge/pages/503.http" in lines
    for timeout in ("connect 5s", "client 60s", "server 60s", "http-keep-alive 10s"):
        assert f"timeout {timeout}" in lines


def test_frontend_routes_by_host_through_the_map() -> None:
    lines = section(render(WEB), "frontend http")
    assert "bind 127.0.0.1:8080" in lines
    assert "use_backend %[var(txn.host),map(/srv/hangar/edge/hosts.map)]" in lines
    assert "default_backend _not_found" in lines
    assert any("req.fhdr(host),host_only" in line for line in lines)  # the whole header
    # A POST whose machine closed without answering may have reached the app: no replay.
    assert "http-request disable-l7-retry unless { method GET HEAD OPTIONS PUT DELETE }" in lines


def test_unknown_hosts_get_the_404_page() -> None:
    (line,) = section(render(), "backend _not_found")
    assert line.startswith("http-request return status 404")
    assert line.endswith("lf-file /srv/hangar/edge/pages/404.html")


def test_one_roundrobin_backend_per_app_with_one_server_per_machine() -> None:
    config = render(WEB, API)
    assert section(config, "backend web") == [
        "balance roundrobin",
        "server a1b2 127.0.0.1:9001 pool-max-conn 64 pool-purge-delay 10s",
        "server c3d4 127.0.0.1:9002 pool-max-conn 64 pool-purge-delay 10s",
    ]
    assert section(config, "backend api") == ["balance roundrobin"]


def test_haproxy_runs_the_apps_http_check_on_every_machine() -> None:
    check = CheckSpec(kind="http", path="/healthz?deep=1", interval_s=2.5, timeout_s=1)
    route = Route("web", "web.example.com", WEB.backends, check)
    lines = section(render(route), "backend web")
    assert lines[1:5] == [
        "timeout check 1000ms",
        "option httpchk",
        "http-check send meth GET uri /healthz?deep=1 ver HTTP/1.1 hdr Host web.example.com",
        "http-check expect status 200-399",
    ]
    # however seldom the app asks, the edge checks every 2 s, every 0.5 s once one failed
    assert lines[5].endswith(
        "pool-purge-delay 10s check inter 2000ms fastinter 500ms fall 2 rise 2"
    )


def test_a_tcp_check_is_a_plain_connect() -> None:
    route = Route("web", "web.example.com", WEB.backends, CheckSpec(kind="tcp"))
    lines = section(render(route), "backend web")
    assert "option httpchk" not in lines
    assert lines[2].endswith("check inter 1000ms fastinter 500ms fall 2 rise 2")


def test_map_has_one_sorted_line_per_app() -> None:
    assert render_map([WEB, API]) == "api.example.com api\nweb.example.com web\n"
    assert render_map([]) == ""


@pytest.mark.parametrize(
    "route",
    [
        Route("Web", "web.example.com"),
        Route("web app", "web.example.com"),
        Route("_not_found", "x.example.com"),
        Route("web", "web.example.com:80"),
        Route("web", "WEB.example.com"),
        Route("web", "web.example.com", (Backend("a b", 9001),)),
        Route("web", "web.example.com", (Backend("a1", 70000),)),
        Route("web", "web.example.com", (), CheckSpec(kind="http", path="/a b")),
        Route("web", "web.example.com", (), CheckSpec(kind="http", path="/#x")),
        Route("web", "web.example.com", (), CheckSpec(kind="http", method="get /")),
    ],
)
def test_names_haproxy_cannot_hold_are_refused(route: Route) -> None:
    with pytest.raises(InvalidInput):
        render(route)


def test_state_dir_with_spaces_is_refused() -> None:
    with pytest.raises(InvalidInput):
        EdgePaths.under(Path("/tmp/my edge"))


def test_errorfile_response_has_exact_content_length() -> None:
    response = http_response(503, "Service Unavailable", "<p>é</p>")
    head, body = response.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert f"Content-Length: {len(body)}".encode() in head


def test_parked_machines_stay_known_but_leave_the_config() -> None:
    desired = DesiredRoutes.from_routes([WEB])
    desired.park("web", "a1b2")
    assert desired.routes() == [Route("web", "web.example.com", (Backend("c3d4", 9002),))]
    assert desired.is_parked("web", "a1b2")
    desired.add("web", Backend("a1b2", 9001), None)
    assert desired.routes() == [WEB]


def test_remove_forgets_a_machine_and_remove_app_an_app() -> None:
    desired = DesiredRoutes.from_routes([WEB, API])
    desired.remove("web", "a1b2")
    desired.remove_app("api")
    assert desired.routes() == [Route("web", "web.example.com", (Backend("c3d4", 9002),))]


def stat(app: str, name: str, port: int, status: str = "no check") -> ServerStat:
    return ServerStat(app, name, status, f"127.0.0.1:{port}", scur=0, qcur=0)


def test_matches_a_worker_serving_the_same_routes() -> None:
    desired = DesiredRoutes.from_routes([WEB, API])
    hosts = {"web.example.com": "web", "api.example.com": "api"}
    servers = [stat("web", "a1b2", 9001), stat("web", "c3d4", 9002)]
    assert desired.matches(["web", "api"], hosts, servers)


@pytest.mark.parametrize(
    ("backends", "hosts", "servers"),
    [
        (["web"], {"web.example.com": "web"}, []),  # app missing
        (["web", "api"], {"web.example.com": "web"}, []),  # host missing
        (["web", "api"], None, [("a1b2", 9001)]),  # machine missing
        (["web", "api"], None, [("a1b2", 9001), ("c3d4", 9999)]),  # port differs
        (["web", "api"], None, [("a1b2", 9001), ("c3d4", 9002), ("ffff", 9003)]),  # extra
    ],
)
def test_differences_with_the_worker_are_detected(
    backends: list[str], hosts: dict[str, str] | None, servers: list[tuple[str, int]]
) -> None:
    desired = DesiredRoutes.from_routes([WEB, API])
    all_hosts = {"web.example.com": "web", "api.example.com": "api"}
    stats = [stat("web", name, port) for name, port in servers]
    assert not desired.matches(backends, hosts or all_hosts, stats)


def test_a_drained_server_in_the_worker_is_a_difference() -> None:
    desired = DesiredRoutes.from_routes([WEB])
    servers = [stat("web", "a1b2", 9001, "DRAIN"), stat("web", "c3d4", 9002)]
    assert not desired.matches(["web"], {"web.example.com": "web"}, servers)
