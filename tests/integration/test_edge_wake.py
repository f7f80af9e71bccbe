"""The edge's wake action in the real HAProxy: a request to an app without a usable
machine is held while the control plane says a machine is starting, answered once
one is routed, and sent on to the 503 page when the start fails."""

from __future__ import annotations

import http.client
import os
import shutil
import threading
import time
from collections.abc import Iterator

import pytest

from hangar.edge import HAProxyEdge
from hangar.edge.wake import WakeListener
from hangar.ports import Route, RoutePolicy
from tests.support.backends import NamedServer, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
WAKING = RoutePolicy(auto_start=True)
pytestmark = pytest.mark.haproxy


class ControlPlane:
    """Answers `wake` as told: `starting` until `failed` is set."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.failed = False

    def wake(self, app: str) -> bool:
        self.asked.append(app)
        return not self.failed


@pytest.fixture
def edge(tmp_path) -> Iterator[HAProxyEdge]:
    if not os.access(HAPROXY, os.X_OK):
        pytest.skip("needs HAProxy")
    edge = HAProxyEdge(tmp_path / "edge", http_port=free_port(), haproxy_bin=HAPROXY)
    yield edge
    edge.stop()


@pytest.fixture
def control(edge) -> Iterator[ControlPlane]:
    control = ControlPlane()
    edge.paths.wake_socket.parent.mkdir(parents=True, exist_ok=True)
    listener = WakeListener(edge.paths.wake_socket, control.wake)
    listener.start()
    yield control
    listener.close()


def timed_get(edge: HAProxyEdge, host: str) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", edge.http_port, timeout=70)
    try:
        conn.request("GET", "/", headers={"Host": host})
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        conn.close()


def test_a_held_request_is_answered_once_a_machine_is_routed(edge, control):
    edge.sync([Route("web", "web.localhost", policy=WAKING)])
    machine = NamedServer("m1")
    later = threading.Timer(0.5, lambda: edge.add_backend("web", machine.backend, WAKING))
    later.start()
    try:
        status, took = timed_get(edge, "web.localhost")
    finally:
        later.join()
        machine.close()
    assert status == 200 and took >= 0.45
    assert control.asked[0] == "web"


def test_a_failed_start_ends_the_wait_with_the_503_page(edge, control):
    edge.sync([Route("web", "web.localhost", policy=WAKING)])
    threading.Timer(0.3, lambda: setattr(control, "failed", True)).start()
    status, took = timed_get(edge, "web.localhost")
    assert status == 503 and took < 3  # asked again within a second, not held for a minute
    assert len(control.asked) >= 2


def test_apps_without_auto_start_and_a_control_plane_down_are_not_held(edge):
    edge.sync([Route("web", "web.localhost", policy=WAKING), Route("api", "api.localhost")])
    for host in ("web.localhost", "api.localhost"):  # nobody listens on the wake socket
        status, took = timed_get(edge, host)
        assert status == 503 and took < 1
