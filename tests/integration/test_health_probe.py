"""Health checks tell the truth: against plain listeners (a published port that refuses
when nothing listens, as an engine without the userland proxy gives) and against real
containers behind Docker's userland proxy, which accepts whether or not the app listens."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import docker
import pytest

from hangar.edge import wait_healthy
from hangar.edge.listening import listening
from hangar.errors import HealthCheckFailed
from hangar.ports import CheckSpec, ProbeTarget
from hangar.runtime.container_info import info_from_attrs
from tests.support.backends import NamedServer, free_port

TCP = CheckSpec("tcp", interval_s=0.05, timeout_s=0.5)


def plain(port: int) -> ProbeTarget:
    """A listener on this host: no container to look into, only the port."""
    return ProbeTarget(port, port)


@contextlib.contextmanager
def late_listener(after_s: float) -> Iterator[int]:
    """A port nothing listens on until `after_s` has passed."""
    port = free_port()
    holder: list[NamedServer] = []
    late = threading.Timer(after_s, lambda: holder.append(NamedServer("late", port)))
    late.start()
    try:
        yield port
    finally:
        late.join()
        for server in holder:
            server.close()


def test_tcp_and_http_checks_pass_on_a_listener() -> None:
    server = NamedServer("a1")
    try:
        checks = [TCP, CheckSpec("http", path="/health", interval_s=0.1)]
        wait_healthy(plain(server.port), checks, timeout_s=2)
    finally:
        server.close()


def test_the_failing_check_is_named() -> None:
    server = NamedServer("a1")
    check = CheckSpec("http", path="/fail", interval_s=0.05, timeout_s=0.5)
    try:
        with pytest.raises(HealthCheckFailed, match="HTTP 500"):
            wait_healthy(plain(server.port), [check], timeout_s=0.3)
    finally:
        server.close()


def test_a_machine_still_booting_is_tried_again_long_before_its_interval() -> None:
    """An app checked every 30 s must not wait 30 s for traffic because it booted late."""
    check = CheckSpec("http", path="/health", interval_s=30, timeout_s=1)
    with late_listener(after_s=0.3) as port:  # a wait of one interval would time out
        wait_healthy(plain(port), [check], timeout_s=10)


def test_a_late_listener_is_waited_for() -> None:
    with late_listener(after_s=0.3) as port:
        wait_healthy(plain(port), [TCP], timeout_s=3)


def test_a_refusing_port_fails_the_tcp_check() -> None:
    with pytest.raises(HealthCheckFailed, match="tcp check"):
        wait_healthy(plain(free_port()), [TCP], timeout_s=0.2)


def test_a_stopped_container_ends_the_wait_at_once() -> None:
    asked: list[bool] = []

    def stopped() -> bool:
        asked.append(False)
        return False

    with pytest.raises(HealthCheckFailed):
        wait_healthy(plain(free_port()), [TCP], timeout_s=30, running=stopped)
    assert len(asked) == 1, "the check was tried again after the container stopped"


# -- behind Docker's userland proxy -------------------------------------------------


@pytest.fixture
def container_factory(docker_client: docker.DockerClient, base_image: str) -> Iterator:
    made = []

    def run(script: str) -> ProbeTarget:
        container = docker_client.containers.run(
            base_image,
            ["sh", "-c", script],
            detach=True,
            ports={"8080/tcp": ("127.0.0.1", None)},
            labels={"hangar.test": "probe"},
        )
        made.append(container)
        info = info_from_attrs(docker_client.api.inspect_container(container.id))
        target = ProbeTarget.of(info, 8080)
        assert target is not None and target.pid
        return target

    yield run
    for container in made:
        container.remove(force=True)


@pytest.mark.docker
def test_the_proxy_accepting_for_a_booting_app_does_not_pass_the_check(container_factory):
    target = container_factory("sleep 3; exec httpd -f -p 8080")
    with pytest.raises(HealthCheckFailed, match="nothing listens on port 8080 inside"):
        wait_healthy(target, [TCP], timeout_s=1)
    wait_healthy(target, [TCP], timeout_s=10)  # and once it listens, it passes


@pytest.mark.docker
def test_without_a_view_inside_the_held_connection_still_tells(container_factory):
    booting = container_factory("sleep 3; exec httpd -f -p 8080")
    outside = ProbeTarget(booting.host_port, 8080)  # an engine on another host: no /proc
    # The userland proxy accepts and closes; an engine without it refuses.
    with pytest.raises(HealthCheckFailed, match=r"closed at once|Connection refused"):
        wait_healthy(outside, [TCP], timeout_s=1)
    wait_healthy(outside, [TCP], timeout_s=10)


@pytest.mark.docker
def test_an_app_on_loopback_only_is_told_to_listen_on_all_addresses(container_factory):
    target = container_factory("exec httpd -f -p 127.0.0.1:8080")
    with pytest.raises(HealthCheckFailed, match=r"127\.0\.0\.1:8080 only.*0\.0\.0\.0"):
        wait_healthy(target, [TCP], timeout_s=1.5)


@pytest.mark.docker
def test_the_sockets_seen_are_the_containers_own(container_factory):
    target = container_factory("exec httpd -f -p 8080")
    assert target.pid is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = listening(target.pid, target.container_id)
        assert seen is not None
        if 8080 in seen.ports:
            break
        time.sleep(0.05)
    assert seen.verdict(8080) == ""
    assert listening(target.pid, "0" * 64) is None  # not that container's process
