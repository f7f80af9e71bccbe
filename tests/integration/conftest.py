from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from hangar.runtime.docker_runtime import DockerRuntime

REPO = Path(__file__).resolve().parents[2]
BASE_IMAGE = "hangar/busybox:1"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The real engine; a missing engine fails the tests (run scripts/bootstrap.sh)."""
    client = docker.from_env()
    client.ping()
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The local base image, made by scripts/base-image.sh if missing (kept afterwards)."""
    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        subprocess.run([str(REPO / "scripts/base-image.sh")], check=True)
    return BASE_IMAGE


LAYER_ID = re.compile(r"^ ---> ([0-9a-f]{12})$")


class Log(list[str]):
    """An on_line callback that records each line and when it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[str, float] = {}

    def __call__(self, line: str) -> None:
        self.append(line)
        self.arrivals.setdefault(line, time.monotonic())


@pytest.fixture
def log(docker_client: docker.DockerClient) -> Iterator[Log]:
    """The build log; afterwards removes the layers the build made (a failed build's too)."""
    runtime = DockerRuntime(docker_client)
    lines = Log()
    yield lines
    base_id = docker_client.images.get(BASE_IMAGE).id or ""
    layers = [m.group(1) for m in map(LAYER_ID.match, lines) if m]
    for layer in reversed(layers):
        if not base_id.removeprefix("sha256:").startswith(layer):
            runtime.remove_image(layer)


@pytest.fixture
def tag(docker_client: docker.DockerClient) -> Iterator[str]:
    runtime = DockerRuntime(docker_client)
    name = f"hangar-test-{uuid.uuid4().hex[:10]}:1"
    yield name
    runtime.remove_image(name)
    assert not runtime.image_exists(name)


def context(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    return tmp_path
