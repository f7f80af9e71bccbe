"""haproxy.cfg and host map rendering, and the edge's desired state (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hangar.edge.config import (
    EdgePaths,
    Listeners,
    render_config,
    render_https_only_map,
    render_map,
)
from hangar.edge.desired import DesiredRoutes
from hangar.edge.pages import write_pages
from hangar.edge.runtime_api import ServerStat
from hangar.errors import InvalidInput
from hangar.ports import Backend, CheckSpec, Route, RoutePolicy

PATHS = EdgePaths.under(Path("/srv/hangar/edge"))
UNAVAILABLE = (
    'http-error status 503 content-type "text/html; charset=utf-8"'
    " hdr Cache-Control no-store lf-file /srv/hangar/edge/pages/503.html"
)
WEB = Route("web", "web.example.com", (Backend("a1b2", 9001), Backend("c3d4", 9002)))
API = Route("api", "api.example.com")


def render(*routes: Route, https_port: int | None = None) -> str:
    return render_config(list(routes), Listeners("127.0.0.1", 8080, https_port), PATHS)


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


def test_one_leastconn_backend_per_app_with_one_server_per_machine() -> None:
    config = render(WEB, API)
    assert section(config, "backend web") == [
        "balance leastconn",
        UNAVAILABLE,
        "server a1b2 127.0.0.1:9001 pool-max-conn 64 pool-purge-delay 10s",
        "server c3d4 127.0.0.1:9002 pool-max-conn 64 pool-purge-delay 10s",
    ]
    assert section(config, "backend api") == ["balance leastconn", UNAVAILABLE]


def test_a_hard_limit_caps_each_machine_and_the_queue_wait_is_bounded() -> None:
    limited = Route("web", "web.example.com", WEB.backends, RoutePolicy(hard_limit=25))
    servers = [line for line in section(render(limited), "backend web") if "server" in line]
    assert all(line.endswith(" maxconn 25") for line in servers)
    assert "timeout queue 10000ms" in section(render(limited), "defaults")


def test_the_503_page_says_no_machine_or_at_capacity_by_the_usable_servers(tmp_path) -> None:
    write_pages(tmp_path)
    page = (tmp_path / "503.html").read_text()
    assert f"%[nbsrv,bool,map_int({tmp_path}/503-titles.map)]" in page
    titles = (tmp_path / "503-titles.map").read_text().splitlines()
    assert titles == ["0 App has no healthy machine", "1 App is at capacity"]


def test_haproxy_runs_the_apps_http_check_on_every_machine() -> None:
    check = CheckSpec(kind="http", path="/healthz?deep=1", interval_s=2.5, timeout_s=1)
    route = Route("web", "web.example.com", WEB.backends, RoutePolicy(check))
    lines = section(render(route), "backend web")
    assert lines[2:6] == [
        "timeout check 1000ms",
        "option httpchk",
        "http-check send meth GET uri /healthz?deep=1 ver HTTP/1.1 hdr Host web.example.com",
        "http-check expect status 200-399",
    ]
    # however seldom the app asks, the edge checks every 2 s, every 0.5 s once one failed
    assert lines[6].endswith(
        "pool-purge-delay 10s check inter 2000ms fastinter 500ms fall 2 rise 2"
    )


def test_a_tcp_check_is_a_plain_connect() -> None:
    route = Route("web", "web.example.com", WEB.backends, RoutePolicy(CheckSpec(kind="tcp")))
    lines = section(render(route), "backend web")
    assert "option httpchk" not in lines
    assert lines[3].endswith("check inter 1000ms fastinter 500ms fall 2 rise 2")


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
        Route("web", "web.example.com", (), RoutePolicy(CheckSpec(kind="http", path="/a b"))),
        Route("web", "web.example.com", (), RoutePolicy(CheckSpec(kind="http", path="/#x"))),
        Route("web", "web.example.com", (), RoutePolicy(CheckSpec(kind="http", method="get /"))),
    ],
)
def test_names_haproxy_cannot_hold_are_refused(route: Route) -> None:
    with pytest.raises(InvalidInput):
        render(route)


def test_state_dir_with_spaces_is_refused() -> None:
    with pytest.raises(InvalidInput):
        EdgePaths.under(Path("/tmp/my edge"))


def test_parked_machines_stay_known_but_leave_the_config() -> None:
    desired = DesiredRoutes.from_routes([WEB])
    desired.park("web", "a1b2")
    assert desired.routes() == [Route("web", "web.example.com", (Backend("c3d4", 9002),))]
    assert desired.is_parked("web", "a1b2")
    desired.add("web", Backend("a1b2", 9001), RoutePolicy())
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


def test_https_binds_with_the_crt_list_tls12_and_h2_only_when_asked() -> None:
    assert [line for line in section(render(WEB), "frontend http") if " ssl " in line] == []
    lines = section(render(WEB, https_port=8443), "frontend http")
    assert (
        f"bind 127.0.0.1:8443 ssl crt-list {PATHS.crt_list} alpn h2,http/1.1 ssl-min-ver TLSv1.2"
        in lines
    )


@pytest.mark.parametrize(("port", "suffix"), [(443, ""), (8443, ":8443")])
def test_force_https_redirects_plain_http_to_the_https_port_except_acme(port, suffix) -> None:
    lines = section(render(WEB, https_port=port), "frontend http")
    redirect = next(line for line in lines if "redirect" in line)
    assert f"location https://%[var(txn.host)]{suffix}%[pathq]" in redirect
    assert "!{ ssl_fc }" in redirect and f"map({PATHS.https_only_map})" in redirect
    assert "!{ path_beg /.well-known/acme-challenge/ }" in redirect
    https_app = Route("api", "api.example.com", policy=RoutePolicy(force_https=True))
    assert render_https_only_map([WEB, https_app]) == "api.example.com 1\n"


def test_forwarded_headers_are_set_by_the_edge_never_passed_from_the_client() -> None:
    lines = section(render(WEB), "frontend http")
    for name in (
        "X-Forwarded-For",
        "X-Forwarded-Port",
        "X-Forwarded-Host",
        "Fly-Client-IP",
        "Fly-Forwarded-Port",
        "Fly-Request-Id",
        "Fly-Region",
        "X-Request-Id",
    ):
        assert any(line.startswith(f"http-request set-header {name} ") for line in lines), name
    assert "http-request del-header Forwarded" in lines
    for spoofable in ("X-Forwarded-Scheme", "X-Real-IP", "Fly-Forwarded-Proto"):
        assert f"http-request del-header {spoofable}" in lines
    assert "http-request set-header X-Forwarded-Ssl off unless { ssl_fc }" in lines
    assert "http-response set-header X-Request-Id %[var(txn.request_id)]" in lines
    # the headers are set before the backend is chosen
    assert lines.index("http-request del-header Forwarded") < next(
        i for i, line in enumerate(lines) if line.startswith("use_backend")
    )


def test_haproxys_prometheus_exporter_listens_on_loopback_only_when_asked() -> None:
    assert "frontend metrics" not in render(WEB)
    listen = Listeners("0.0.0.0", 8080, metrics_port=9101)
    lines = section(render_config([WEB], listen, PATHS), "frontend metrics")
    assert lines[0] == "bind 127.0.0.1:9101"
    assert "http-request use-service prometheus-exporter if { path /metrics }" in lines


def test_requests_of_apps_with_auto_start_are_held_by_the_wake_action():
    waking = Route("web", "web.example.com", policy=RoutePolicy(auto_start=True))
    config = render(waking, API)
    assert f"lua-load {PATHS.wake_script}" in section(config, "global")
    hold = "http-request lua.hangar_hold if { nbsrv eq 0 }"
    assert hold in section(config, "backend web")  # only while it has no usable machine
    assert hold not in section(config, "backend api")
    assert not any("lua" in line for line in section(config, "frontend http"))


def test_acme_challenges_are_answered_from_their_map_before_any_redirect():
    frontend = section(render(WEB, https_port=8443), "frontend http")
    (answer,) = [line for line in frontend if "acme-challenge" in line and "return" in line]
    assert f"map({PATHS.acme_challenges_map})" in answer
    redirect = next(line for line in frontend if "redirect" in line)
    assert frontend.index(answer) < frontend.index(redirect)
