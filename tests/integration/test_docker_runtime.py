"""DockerRuntime against the real Docker Engine (containers of the local base image)."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import docker
import docker.errors
import docker.types
import pytest

from hangar.errors import NotFound, RuntimeFailure
from hangar.ports import (
    APP_LABEL,
    MACHINE_LABEL,
    MANAGED_LABEL,
    RELEASE_LABEL,
    ContainerInfo,
    ContainerSpec,
)
from hangar.runtime.app_networks import AppNetworks
from hangar.runtime.docker_runtime import DockerRuntime
from hangar.runtime.log_lines import split_lines, to_log_line
from tests.integration.conftest import BASE_IMAGE

pytestmark = pytest.mark.docker

SERVE = "mkdir -p /w && echo ok > /w/index.html && echo serving && exec httpd -f -p 8080 -h /w"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
T = TypeVar("T")


@pytest.fixture
def runtime(docker_client: docker.DockerClient, base_image: str) -> DockerRuntime:
    return DockerRuntime(docker_client)


@pytest.fixture
def new_app(runtime: DockerRuntime) -> Iterator[Callable[[], str]]:
    """Hands out unique app names; removes every container of them afterwards."""
    apps: list[str] = []

    def make() -> str:
        apps.append(f"hangar-test-{uuid.uuid4().hex[:10]}")
        return apps[-1]

    yield make
    for app in apps:
        for info in runtime.list_managed(app):
            runtime.remove(info.container_id)
        assert runtime.list_managed(app) == []
        runtime.remove_app_network(app)


@pytest.fixture
def app(new_app: Callable[[], str]) -> str:
    return new_app()


def spec_for(app: str, machine: str = "m1", shell: str = SERVE, **kw: Any) -> ContainerSpec:
    return ContainerSpec(
        app=app,
        machine_id=machine,
        release=kw.pop("release", 1),
        image=kw.pop("image", BASE_IMAGE),
        internal_port=kw.pop("internal_port", 8080),
        cmd=["sh", "-c", shell],
        **kw,
    )


def eventually(probe: Callable[[], T | None], timeout_s: float = 10) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = probe()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{probe} did not succeed within {timeout_s}s")
        time.sleep(0.1)


def http_get(port: int, path: str = "/") -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        body: bytes = response.read()
        return body


def messages(runtime: DockerRuntime, info: ContainerInfo, tail: int = 100) -> list[str]:
    return [line.message for line in runtime.logs(info.container_id, info.machine_id, tail)]


def test_run_serves_on_a_random_loopback_port(runtime: DockerRuntime, app: str) -> None:
    info = runtime.run(spec_for(app))

    assert info.state == "running"
    assert info.host_port is not None
    assert eventually(lambda: http_get(info.host_port or 0)) == b"ok\n"


def test_run_labels_and_configures_the_container(
    runtime: DockerRuntime, docker_client: docker.DockerClient, app: str
) -> None:
    spec = spec_for(
        app, release=7, env={"GREETING": "hi"}, memory_mb=64, cpus=0.5, kill_signal="SIGTERM"
    )

    info = runtime.run(spec)
    attrs = docker_client.api.inspect_container(info.container_id)

    assert (info.app, info.machine_id, info.release, info.image) == (app, "m1", 7, BASE_IMAGE)
    assert attrs["Name"] == f"/{spec.name}"
    expected_labels = {
        MANAGED_LABEL: "default",
        APP_LABEL: app,
        MACHINE_LABEL: "m1",
        RELEASE_LABEL: "7",
    }
    assert attrs["Config"]["Labels"].items() >= expected_labels.items()  # + the image's
    assert "GREETING=hi" in attrs["Config"]["Env"]
    assert attrs["Config"]["StopSignal"] == "SIGTERM"
    host = attrs["HostConfig"]
    assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert host["RestartPolicy"]["Name"] in ("", "no")
    assert (host["Memory"], host["NanoCpus"]) == (64 * 1024 * 1024, 500_000_000)


def test_run_replaces_a_container_of_the_same_name(runtime: DockerRuntime, app: str) -> None:
    first = runtime.run(spec_for(app, release=1))
    second = runtime.run(spec_for(app, release=1))

    assert runtime.inspect(first.container_id) is None
    assert [(i.container_id, i.release) for i in runtime.list_managed(app)] == [
        (second.container_id, 1)
    ]


def test_a_machines_next_release_runs_beside_its_current_one(
    runtime: DockerRuntime, app: str
) -> None:
    current = runtime.run(spec_for(app, release=1))
    following = runtime.run(spec_for(app, release=2))

    running = sorted((i.release, i.container_id) for i in runtime.list_managed(app))
    assert running == [(1, current.container_id), (2, following.container_id)]


def test_run_with_a_missing_image_raises_not_found(runtime: DockerRuntime, app: str) -> None:
    missing = f"hangar-test-missing-{uuid.uuid4().hex[:8]}:1"

    with pytest.raises(NotFound, match="image not found") as caught:
        runtime.run(spec_for(app, image=missing))

    assert "registry" in caught.value.hint
    assert runtime.list_managed(app) == []


def test_stop_sends_the_given_signal(runtime: DockerRuntime, app: str) -> None:
    trap = "trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.1; done"
    info = runtime.run(spec_for(app, shell=trap, internal_port=None))
    eventually(lambda: "ready" in messages(runtime, info))

    runtime.stop(info.container_id, "SIGUSR1", timeout_s=10)

    stopped = runtime.inspect(info.container_id)
    assert stopped is not None
    assert (stopped.state, stopped.exit_code, stopped.host_port) == ("exited", 7, None)
    assert "got USR1" in messages(runtime, info)


def test_stop_kills_after_the_timeout(runtime: DockerRuntime, app: str) -> None:
    stubborn = "trap '' TERM; echo ready; while :; do sleep 0.1; done"
    info = runtime.run(spec_for(app, shell=stubborn, internal_port=None))
    eventually(lambda: "ready" in messages(runtime, info))

    started = time.monotonic()
    runtime.stop(info.container_id, "SIGTERM", timeout_s=1)

    assert time.monotonic() - started >= 1
    stopped = runtime.inspect(info.container_id)
    assert stopped is not None
    assert (stopped.state, stopped.exit_code) == ("exited", 137)


def test_stop_of_a_stopped_container_is_a_no_op_and_start_restarts(
    runtime: DockerRuntime, app: str
) -> None:
    info = runtime.run(spec_for(app))
    runtime.stop(info.container_id, "SIGINT", timeout_s=5)
    runtime.stop(info.container_id, "SIGINT", timeout_s=5)

    restarted = runtime.start(info.container_id)

    assert restarted.state == "running"
    assert restarted.host_port is not None
    assert eventually(lambda: http_get(restarted.host_port or 0)) == b"ok\n"


def test_logs_carry_docker_timestamps(runtime: DockerRuntime, app: str) -> None:
    shell = "echo one; sleep 0.2; echo two >&2; sleep 60"
    info = runtime.run(spec_for(app, shell=shell, internal_port=None))
    eventually(lambda: len(messages(runtime, info)) == 2)

    lines = list(runtime.logs(info.container_id, "m1", tail=10))

    assert [line.message for line in lines] == ["one", "two"]
    assert all(RFC3339.match(line.timestamp) for line in lines), lines
    assert {line.machine_id for line in lines} == {"m1"}
    assert messages(runtime, info, tail=1) == ["two"]


def test_logs_follow_yields_new_lines(runtime: DockerRuntime, app: str) -> None:
    shell = "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done"
    info = runtime.run(spec_for(app, shell=shell, internal_port=None))

    stream = runtime.logs(info.container_id, "m1", tail=0, follow=True)
    first_three = [next(stream).message for _ in range(3)]
    stream.close()

    assert all(message.startswith("tick ") for message in first_three)


def test_closing_a_followed_stream_ends_a_read_blocked_in_another_thread(
    runtime: DockerRuntime, app: str
) -> None:
    info = runtime.run(spec_for(app, shell="echo started; sleep 600", internal_port=None))
    stream = runtime.logs(info.container_id, "m1", tail=10, follow=True)
    assert next(stream).message == "started"
    read: list[object] = []

    def read_all() -> None:
        try:
            read.extend(line.message for line in stream)
        except Exception as exc:  # what a follow's thread would die of
            read.append(exc)

    reader = threading.Thread(target=read_all)
    reader.start()
    time.sleep(0.5)  # the reader is now blocked on the socket: the container prints nothing
    assert reader.is_alive()

    stream.close()

    reader.join(10)
    assert not reader.is_alive(), "the blocked read did not end when the stream was closed"
    assert read == []


def test_logs_of_a_missing_container_raise_not_found(runtime: DockerRuntime) -> None:
    with pytest.raises(NotFound):
        runtime.logs(f"hangar-test-missing-{uuid.uuid4().hex[:8]}", "m1")


def test_list_managed_filters_by_app(runtime: DockerRuntime, new_app: Callable[[], str]) -> None:
    app_a, app_b = new_app(), new_app()
    a1 = runtime.run(spec_for(app_a, "m1", internal_port=None, shell="sleep 60"))
    a2 = runtime.run(spec_for(app_a, "m2", internal_port=None, shell="sleep 60"))
    b1 = runtime.run(spec_for(app_b, "m1", internal_port=None, shell="sleep 60"))

    assert {i.container_id for i in runtime.list_managed(app_a)} == {
        a1.container_id,
        a2.container_id,
    }
    assert [i.container_id for i in runtime.list_managed(app_b)] == [b1.container_id]
    everything = {i.container_id for i in runtime.list_managed()}
    assert {a1.container_id, a2.container_id, b1.container_id} <= everything


def test_each_app_has_a_network_of_its_own_isolated_from_the_others(
    runtime: DockerRuntime, new_app: Callable[[], str], docker_client: docker.DockerClient
) -> None:
    """Read from the engine's state: no traffic goes to container addresses."""
    app_a, app_b = new_app(), new_app()
    a1 = runtime.run(spec_for(app_a, "m1"))
    a2 = runtime.run(spec_for(app_a, "m2", internal_port=None, shell="sleep 60"))
    b1 = runtime.run(spec_for(app_b, "m1", internal_port=None, shell="sleep 60"))

    def networks_of(info: ContainerInfo) -> set[str]:
        attrs = docker_client.containers.get(info.container_id).attrs
        return set(attrs["NetworkSettings"]["Networks"])

    net_a, net_b = f"hangar-default-{app_a}", f"hangar-default-{app_b}"
    assert networks_of(a1) == networks_of(a2) == {net_a}
    assert networks_of(b1) == {net_b}
    a, b = (docker_client.networks.get(name).attrs for name in (net_a, net_b))
    assert (a["Labels"][APP_LABEL], b["Labels"][APP_LABEL]) == (app_a, app_b)
    subnet_a, subnet_b = (ipaddress.ip_network(n["IPAM"]["Config"][0]["Subnet"]) for n in (a, b))
    assert subnet_a in ipaddress.ip_network("10.201.0.0/16").subnets(new_prefix=24)
    assert not subnet_a.overlaps(subnet_b)
    isolation = subprocess.run(
        ["iptables", "-S", "DOCKER-ISOLATION-STAGE-2"], capture_output=True, text=True, check=True
    ).stdout
    for network in (a, b):
        assert f"-o br-{network['Id'][:12]} -j DROP" in isolation  # Docker's bridge isolation
    assert eventually(lambda: http_get(a1.host_port or 0)) == b"ok\n"  # the edge's way in


def test_an_app_network_goes_once_its_containers_are_removed(
    runtime: DockerRuntime, app: str, docker_client: docker.DockerClient
) -> None:
    info = runtime.run(spec_for(app, internal_port=None, shell="sleep 60"))
    runtime.remove(info.container_id)

    runtime.remove_app_network(app)
    runtime.remove_app_network(app)  # a second time is a no-op

    assert docker_client.networks.list(names=[f"hangar-default-{app}"]) == []


def test_app_subnets_skip_taken_ranges_and_say_when_the_pool_is_full(
    docker_client: docker.DockerClient, new_app: Callable[[], str]
) -> None:
    instance = f"t{uuid.uuid4().hex[:8]}"
    networks = AppNetworks(docker_client, instance, pool="10.202.0.0/23")
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.202.0.0/24")])
    foreign = docker_client.networks.create(f"hangar-test-{instance}", ipam=ipam)
    first, second = new_app(), new_app()
    try:
        made = docker_client.networks.get(networks.ensure(first))
        assert made.attrs["IPAM"]["Config"][0]["Subnet"] == "10.202.1.0/24"
        assert networks.ensure(first) == made.name  # found, not made again
        with pytest.raises(
            RuntimeFailure, match=re.escape("no free /24 left in 10.202.0.0/23")
        ) as full:
            networks.ensure(second)
        assert "--machine-subnets" in (full.value.hint or "")
    finally:
        networks.remove(first)
        foreign.remove()


def test_missing_containers_inspect_to_none_and_remove_quietly(runtime: DockerRuntime) -> None:
    missing = f"hangar-test-missing-{uuid.uuid4().hex[:8]}"

    assert runtime.inspect(missing) is None
    runtime.remove(missing)
    with pytest.raises(NotFound):
        runtime.start(missing)


def test_images(runtime: DockerRuntime) -> None:
    missing = f"hangar-test-missing-{uuid.uuid4().hex[:8]}:1"

    assert runtime.image_exists(BASE_IMAGE)
    assert not runtime.image_exists(missing)
    runtime.remove_image(missing)


# -- pure helpers (no engine needed) ---------------------------------------------


def test_split_lines_reassembles_chunks() -> None:
    chunks = [
        b"2024-05-01T12:00:00.1Z he",
        b"llo\r\n2024-05-01T12:00:01Z a\n2024-05-01T12",
        b":00:02Z b",
    ]

    lines = [to_log_line("m1", line) for line in split_lines(chunks)]

    assert [(line.timestamp, line.message) for line in lines] == [
        ("2024-05-01T12:00:00.1Z", "hello"),
        ("2024-05-01T12:00:01Z", "a"),
        ("2024-05-01T12:00:02Z", "b"),
    ]


def test_an_image_knows_the_image_it_was_built_on(
    runtime: DockerRuntime, docker_client: docker.DockerClient, base_image: str, tmp_path
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nRUN echo layer > /layer\n")
    built, _ = docker_client.images.build(path=str(tmp_path), rm=True)
    try:
        base = docker_client.images.get(base_image).id
        assert runtime.image_parent(built.id) == base
        assert runtime.image_parent("sha256:" + "0" * 64) is None
    finally:
        docker_client.images.remove(built.id, force=True)


def test_an_image_reference_resolves_to_its_full_id(
    runtime: DockerRuntime, docker_client: docker.DockerClient, base_image: str
) -> None:
    full_id = docker_client.images.get(base_image).id
    assert runtime.image_id(base_image) == full_id
    assert runtime.image_id(full_id) == full_id
    assert runtime.image_id(full_id.removeprefix("sha256:")[:12]) == full_id
    assert runtime.image_id(f"hangar-test/missing-{uuid.uuid4().hex[:8]}:1") is None
