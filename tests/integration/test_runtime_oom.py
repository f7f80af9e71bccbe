"""ContainerInfo.oom_killed and the exit code, from the real Docker Engine."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import docker
import pytest

from hangar.ports import ContainerInfo, ContainerSpec
from hangar.runtime.docker_runtime import DockerRuntime

pytestmark = pytest.mark.docker

HOG = "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo survived ${#x}"


@pytest.fixture
def runtime(docker_client: docker.DockerClient, base_image: str) -> Iterator[DockerRuntime]:
    runtime = DockerRuntime(docker_client, instance=f"oom-test-{uuid.uuid4().hex[:8]}")
    yield runtime
    for info in runtime.list_managed():
        runtime.remove(info.container_id)


def _exited(runtime: DockerRuntime, container_id: str, timeout_s: float = 20) -> ContainerInfo:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = runtime.inspect(container_id)
        if info is not None and info.state == "exited":
            return info
        time.sleep(0.1)
    raise AssertionError(f"container {container_id} did not exit in {timeout_s}s")


def _run(runtime: DockerRuntime, base_image: str, shell: str, memory_mb: int) -> ContainerInfo:
    spec = ContainerSpec(
        app="oom-test",
        machine_id="m1",
        release=1,
        image=base_image,
        cmd=["sh", "-c", shell],
        memory_mb=memory_mb,
    )
    return runtime.run(spec)


def test_a_container_over_its_memory_limit_is_reported_oom_killed(runtime, base_image):
    info = _exited(runtime, _run(runtime, base_image, HOG, memory_mb=16).container_id)
    assert (info.oom_killed, info.exit_code) == (True, 137)


def test_a_plain_failure_is_not_an_oom_kill(runtime, base_image):
    info = _exited(runtime, _run(runtime, base_image, "exit 3", memory_mb=64).container_id)
    assert (info.oom_killed, info.exit_code) == (False, 3)
