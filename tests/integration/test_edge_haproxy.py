"""HAProxyEdge against the real HAProxy and tiny HTTP backends, all on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hangar.edge import HAProxyEdge
from hangar.edge.runtime_api import RuntimeAPI
from hangar.errors import EdgeFailure, InvalidInput
from hangar.ports import Backend, CheckSpec, Route, RoutePolicy
from tests.support.backends import SLOW_S, NamedServer, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def get(
    port: int, host: str, path: str = "/", conn: http.client.HTTPConnection | None = None
) -> tuple[int, str]:
    """One GET through the edge; a new connection unless `conn` is given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        if own:
            conn.close()


@pytest.fixture
def servers() -> Iterator[dict[str, NamedServer]]:
    started = {name: NamedServer(name) for name in ("a1", "b2", "c3", "d4")}
    yield started
    for server in started.values():
        server.close()


@pytest.fixture
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HAProxyEdge]:
    if not os.access(HAPROXY, os.X_OK):
        pytest.skip("needs HAProxy")
    state_dir = tmp_path_factory.mktemp("edge")
    edge = HAProxyEdge(state_dir, http_port=free_port(), haproxy_bin=HAPROXY)
    yield edge
    pid = edge.pid
    edge.stop()
    assert pid is None or not Path(f"/proc/{pid}").exists()


def worker_pid(edge: HAProxyEdge) -> int:
    return RuntimeAPI(edge.paths.stats_socket).pid()


def wait_for_old_workers_to_exit(edge: HAProxyEdge, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while edge._process.worker_pids()[1] and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.haproxy
def test_unknown_host_gets_the_404_page(edge: HAProxyEdge) -> None:
    edge.sync([Route("web", "web.localhost")])
    status, body = get(edge.http_port, "nope.localhost:8080")
    assert status == 404
    assert "No app at this address" in body
    assert "nope.localhost" in body


@pytest.mark.haproxy
def test_host_in_the_404_page_is_sanitised(edge: HAProxyEdge) -> None:
    edge.sync([])
    status, body = get(edge.http_port, "x<script>.localhost")
    assert status == 404
    assert "<script>" not in body


def raw_status(port: int, head: bytes) -> int:
    """The status HAProxy answers to a hand-written request head (headers as given)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1])


@pytest.mark.haproxy
def test_a_host_list_or_a_second_host_is_refused_not_routed(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", (Backend("a1", servers["a1"].port),))])
    port = edge.http_port
    assert raw_status(port, b"GET / HTTP/1.1\r\nHost: web.localhost\r\n\r\n") == 200
    listed = b"GET / HTTP/1.1\r\nHost: evil.example.com, web.localhost\r\n\r\n"
    twice = b"GET / HTTP/1.1\r\nHost: evil.example.com\r\nHost: web.localhost\r\n\r\n"
    assert raw_status(port, listed) == 400
    assert raw_status(port, twice) == 400


@pytest.mark.haproxy
def test_app_without_machines_gets_the_503_page(edge: HAProxyEdge) -> None:
    edge.sync([Route("web", "web.localhost")])
    status, body = get(edge.http_port, "web.localhost")
    assert status == 503
    assert "App has no healthy machine" in body


@pytest.mark.haproxy
def test_two_backends_share_requests_round_robin(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", servers["a1"].backend, None)
    edge.add_backend("web", servers["b2"].backend, None)
    answers = [get(edge.http_port, "WEB.localhost") for _ in range(4)]
    assert {status for status, _ in answers} == {200}
    names = [body for _, body in answers]
    assert sorted(names) == ["a1", "a1", "b2", "b2"]
    assert names[0] != names[1]


@pytest.mark.haproxy
def test_runtime_changes_do_not_reload(edge: HAProxyEdge, servers: dict[str, NamedServer]) -> None:
    edge.sync([Route("web", "web.localhost")])
    pid = worker_pid(edge)
    edge.add_backend("web", servers["a1"].backend, None)
    edge.drain_backend("web", "a1", timeout_s=1)
    edge.remove_backend("web", "a1")
    edge.sync([Route("web", "web.localhost")])
    assert worker_pid(edge) == pid


@pytest.mark.haproxy
def test_a_reload_keeps_runtime_added_machines(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", servers["a1"].backend, None)
    pid = worker_pid(edge)
    edge.add_backend("api", servers["b2"].backend, None)  # a new app: reload
    assert worker_pid(edge) != pid
    assert get(edge.http_port, "web.localhost") == (200, "a1")
    assert get(edge.http_port, "api.localhost") == (200, "b2")
    edge.remove_app("api")
    assert get(edge.http_port, "api.localhost")[0] == 404
    assert get(edge.http_port, "web.localhost") == (200, "a1")


@pytest.mark.haproxy
def test_drain_lets_the_slow_request_finish(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", (servers["a1"].backend,))])
    slow: list[tuple[int, str]] = []
    request = threading.Thread(
        target=lambda: slow.append(get(edge.http_port, "web.localhost", "/slow"))
    )
    request.start()
    time.sleep(0.3)  # the slow request is now on a1
    edge.add_backend("web", servers["b2"].backend, None)
    drain = threading.Thread(target=edge.drain_backend, args=("web", "a1", 5.0))
    started = time.monotonic()
    drain.start()
    time.sleep(0.1)
    during = [get(edge.http_port, "web.localhost") for _ in range(4)]
    drain.join()
    request.join()
    assert time.monotonic() - started >= SLOW_S - 0.5  # drain waited for it
    assert slow == [(200, "a1")]
    assert during == [(200, "b2")] * 4
    edge.remove_backend("web", "a1")
    assert [get(edge.http_port, "web.localhost") for _ in range(3)] == [(200, "b2")] * 3


class LoadLoop:
    """About 300 GETs over ~3 s, mixing one keep-alive connection and new ones."""

    def __init__(self, port: int, host: str, total: int = 300, pause_s: float = 0.01) -> None:
        self.port, self.host, self.total, self.pause_s = port, host, total, pause_s
        self.results: list[tuple[int, str]] = []
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        keep_alive = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for i in range(self.total):
            try:
                conn = None if i % 3 == 0 else keep_alive
                self.results.append(get(self.port, self.host, conn=conn))
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(repr(exc))
                keep_alive.close()
            time.sleep(self.pause_s)
        keep_alive.close()


@pytest.mark.haproxy
def test_swaps_and_a_reload_under_load_lose_no_request(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    a1, b2, c3, d4 = (servers[n] for n in ("a1", "b2", "c3", "d4"))
    edge.sync([Route("web", "web.localhost", (a1.backend, b2.backend))])
    load = LoadLoop(edge.http_port, "web.localhost")
    load.thread.start()
    time.sleep(0.3)
    replace(edge, old=a1, new=c3)
    edge.sync(  # a new app: hitless reload while requests flow
        [Route("web", "web.localhost", (b2.backend, c3.backend)), Route("api", "api.localhost")]
    )
    time.sleep(0.3)
    replace(edge, old=b2, new=d4)
    assert load.thread.is_alive(), "the swaps must happen under load"
    load.thread.join(timeout=30)
    assert load.errors == []
    assert len(load.results) == load.total
    assert {status for status, _ in load.results} == {200}
    assert {body for _, body in load.results[-20:]} <= {"c3", "d4"}


@pytest.mark.haproxy
def test_drain_waits_for_an_old_worker_that_may_still_use_the_machine(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    a1, c3 = servers["a1"], servers["c3"]
    edge.sync([Route("web", "web.localhost", (a1.backend,))])
    with contextlib.closing(http.client.HTTPConnection("127.0.0.1", edge.http_port)) as idle:
        assert get(edge.http_port, "web.localhost", conn=idle) == (200, "a1")
        edge.sync([Route("web", "web.localhost", (a1.backend,)), Route("api", "api.localhost")])
        _wait_for_an_old_worker(edge)
        edge.add_backend("web", c3.backend, None)
        drain = threading.Thread(target=edge.drain_backend, args=("web", "a1", 10.0))
        drain.start()
        time.sleep(0.3)
        assert drain.is_alive()  # `idle` is on the old worker, which still routes to a1
        assert get(edge.http_port, "web.localhost", conn=idle) == (200, "a1")
        drain.join(timeout=3)  # that last answer closed `idle`: the old worker leaves
        assert not drain.is_alive()
        edge.remove_backend("web", "a1")
        a1.close()
        assert get(edge.http_port, "web.localhost", conn=idle) == (200, "c3")


def _wait_for_an_old_worker(edge: HAProxyEdge, timeout_s: float = 5.0) -> None:
    """The master lists the worker a reload replaced a moment after the new one answers."""
    deadline = time.monotonic() + timeout_s
    while not edge._process.worker_pids()[1]:
        assert time.monotonic() < deadline, "the reload left no old worker"
        time.sleep(0.05)


def replace(edge: HAProxyEdge, old: NamedServer, new: NamedServer) -> None:
    """One rolling step: add the new machine, drain and remove the old, stop it."""
    edge.add_backend("web", new.backend, None)
    time.sleep(0.2)
    edge.drain_backend("web", old.name, timeout_s=3)
    edge.remove_backend("web", old.name)
    old.close()
    time.sleep(0.2)


@pytest.mark.haproxy
def test_refused_runtime_commands_raise_edge_failure(edge: HAProxyEdge) -> None:
    edge.sync([Route("web", "web.localhost")])
    api = RuntimeAPI(edge.paths.stats_socket)
    with pytest.raises(EdgeFailure, match="No such server"):
        api.set_state("web", "nope", "maint")
    with pytest.raises(EdgeFailure):
        api.execute("not a command")


@pytest.mark.haproxy
def test_bad_machine_names_never_reach_haproxy(edge: HAProxyEdge) -> None:
    edge.sync([Route("web", "web.localhost")])
    with pytest.raises(InvalidInput):
        edge.add_backend("web", Backend("bad name", 9000), None)


@pytest.mark.haproxy
def test_a_new_edge_adopts_the_running_haproxy(edge: HAProxyEdge) -> None:
    edge.sync([Route("web", "web.localhost")])
    again = HAProxyEdge(edge.paths.config.parent, http_port=edge.http_port, haproxy_bin=HAPROXY)
    again.start()
    assert again.pid == edge.pid
    again.sync([Route("api", "api.localhost")])  # adopted: reloads onto its own config
    assert get(edge.http_port, "api.localhost")[0] == 503


@pytest.mark.haproxy
def test_runtime_added_servers_pool_connections_as_configured_ones(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", (servers["a1"].backend,))])
    edge.add_backend("web", servers["b2"].backend, None)
    answer = RuntimeAPI(edge.paths.stats_socket).send("show servers conn web")
    rows = [line.split() for line in answer.splitlines() if line.startswith("web/")]
    header = answer.splitlines()[0].lstrip("# ").split()
    pools = {
        row[0]: (row[header.index("purge_delay")], row[header.index("idle_lim")]) for row in rows
    }
    assert pools["web/a1"] == pools["web/b2"]
    assert pools["web/b2"] != ("0", "0")
    for _ in range(40):  # a new client connection each time; the edge reuses its own
        assert get(edge.http_port, "web.localhost")[0] == 200
    opened = len(servers["a1"].httpd.connections) + len(servers["b2"].httpd.connections)
    assert opened <= 8, f"{opened} backend connections for 40 requests"


TCP_CHECK = CheckSpec(kind="tcp", interval_s=0.2, timeout_s=0.5)
HTTP_CHECK = CheckSpec(kind="http", path="/health", interval_s=0.2, timeout_s=0.5)


def status_of(edge: HAProxyEdge, name: str) -> str:
    stat = RuntimeAPI(edge.paths.stats_socket).server("web", name)
    return stat.status if stat else "missing"


def wait_status(edge: HAProxyEdge, name: str, prefix: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not status_of(edge, name).startswith(prefix):
        assert time.monotonic() < deadline, f"{name} is {status_of(edge, name)}, not {prefix}"
        time.sleep(0.05)


@pytest.mark.haproxy
def test_haproxy_takes_a_dead_machine_out_by_itself(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", (servers["a1"].backend,), RoutePolicy(TCP_CHECK))])
    edge.add_backend("web", servers["b2"].backend, RoutePolicy(TCP_CHECK))  # added at runtime
    assert status_of(edge, "b2").startswith("UP")
    servers["b2"].close()  # dies; nobody tells the edge
    wait_status(edge, "b2", "DOWN", timeout_s=3)
    assert [get(edge.http_port, "web.localhost") for _ in range(6)] == [(200, "a1")] * 6


@pytest.mark.haproxy
def test_haproxy_runs_the_apps_http_check(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    a1, b2 = servers["a1"], servers["b2"]
    edge.sync([Route("web", "web.localhost", (a1.backend, b2.backend), RoutePolicy(HTTP_CHECK))])
    b2.httpd.sick = True  # still accepts connections, but its /health fails
    wait_status(edge, "b2", "DOWN", timeout_s=3)
    assert [get(edge.http_port, "web.localhost") for _ in range(6)] == [(200, "a1")] * 6
    b2.httpd.sick = False
    wait_status(edge, "b2", "UP", timeout_s=3)
    assert {get(edge.http_port, "web.localhost")[1] for _ in range(4)} == {"a1", "b2"}


@pytest.mark.haproxy
def test_a_release_with_another_check_reloads_onto_it(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", (servers["a1"].backend,), RoutePolicy(TCP_CHECK))])
    pid = worker_pid(edge)
    edge.add_backend("web", servers["b2"].backend, RoutePolicy(TCP_CHECK))
    assert worker_pid(edge) == pid  # same check: a runtime change
    edge.add_backend("web", servers["c3"].backend, RoutePolicy(HTTP_CHECK))
    assert worker_pid(edge) != pid
    assert "uri /health" in edge.paths.config.read_text()
    servers["a1"].httpd.sick = True
    wait_status(edge, "a1", "DOWN", timeout_s=3)
    assert status_of(edge, "c3").startswith("UP")


@pytest.mark.haproxy
def test_bad_check_paths_never_reach_haproxy(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", (servers["a1"].backend,))])
    config = edge.paths.config.read_text()
    for path in ("/a b", "/x#y", '/"q"'):
        with pytest.raises(InvalidInput, match="check path"):
            edge.add_backend(
                "web", servers["b2"].backend, RoutePolicy(CheckSpec(kind="http", path=path))
            )
    assert edge.paths.config.read_text() == config
    assert status_of(edge, "b2") == "missing"


@pytest.fixture
def impatient_edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HAProxyEdge]:
    """An edge whose requests wait at most 0.3 s for a machine under its hard limit."""
    state_dir = tmp_path_factory.mktemp("edge")
    edge = HAProxyEdge(state_dir, http_port=free_port(), haproxy_bin=HAPROXY, queue_timeout_s=0.3)
    yield edge
    edge.stop()


@pytest.mark.haproxy
def test_a_machine_at_its_hard_limit_takes_no_more_and_the_waiter_hears_why(
    impatient_edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    one_at_a_time = RoutePolicy(hard_limit=1)
    impatient_edge.sync([Route("web", "web.localhost", policy=one_at_a_time)])
    impatient_edge.add_backend("web", servers["a1"].backend, one_at_a_time)
    answers: list[tuple[int, str]] = []
    slow = threading.Thread(
        target=lambda: answers.append(get(impatient_edge.http_port, "web.localhost", "/slow"))
    )
    slow.start()
    time.sleep(0.3)  # the slow request holds the machine's one place
    status, body = get(impatient_edge.http_port, "web.localhost")
    assert status == 503 and "App is at capacity" in body
    slow.join()
    assert answers == [(200, "a1")]
    assert get(impatient_edge.http_port, "web.localhost") == (200, "a1")  # free again


@pytest.mark.haproxy
def test_requests_queue_for_a_busy_machine_and_prefer_the_least_loaded(
    edge: HAProxyEdge, servers: dict[str, NamedServer]
) -> None:
    edge.sync([Route("web", "web.localhost", policy=RoutePolicy(hard_limit=1))])
    edge.add_backend("web", servers["a1"].backend, RoutePolicy(hard_limit=1))
    answers: list[tuple[int, str]] = []
    slow = threading.Thread(
        target=lambda: answers.append(get(edge.http_port, "web.localhost", "/slow"))
    )
    slow.start()
    time.sleep(0.3)
    assert get(edge.http_port, "web.localhost") == (200, "a1")  # waited its turn (< 10 s)
    slow.join()
    edge.add_backend("web", servers["b2"].backend, RoutePolicy(hard_limit=5))  # a reload
    wait_for_old_workers_to_exit(edge)  # each worker counts only its own requests
    slow = threading.Thread(
        target=lambda: answers.append(get(edge.http_port, "web.localhost", "/slow"))
    )
    slow.start()
    time.sleep(0.3)
    # the slow one holds one machine: the quick ones all go to the other
    quick = {get(edge.http_port, "web.localhost")[1] for _ in range(3)}
    slow.join()
    assert len(quick) == 1 and quick != {answers[-1][1]}, (quick, answers)


@pytest.mark.haproxy
def test_a_port_held_by_another_program_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        edge = HAProxyEdge(tmp_path / "edge", http_port=port, haproxy_bin=HAPROXY)
        with pytest.raises(EdgeFailure, match=f"could not listen on 127.0.0.1:{port}: another"):
            edge.sync([Route("web", "web.localhost")])
    assert not edge.running
