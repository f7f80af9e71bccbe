from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

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
