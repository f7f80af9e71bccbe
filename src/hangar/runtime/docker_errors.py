"""Translate Docker SDK errors into Hangar's error hierarchy, with a hint each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import docker
import docker.errors
import requests

from hangar.errors import HangarError, NotFound, RuntimeFailure

ENGINE_HINT = (
    "is dockerd running and /var/run/docker.sock reachable? "
    "(check `docker info`; DOCKER_HOST overrides the socket)"
)
API_HINT = "check `docker info` and the dockerd log (journalctl -u docker)"
IMAGE_HINT = (
    "build the image first (deploy the app again) or check the image reference; "
    "no registry is reachable, so images cannot be pulled "
    "(base images are made by scripts/base-image.sh)"
)
CONTAINER_HINT = "it was probably removed outside Hangar; the server recreates it from its state"


def explain(exc: Exception) -> str:
    """The Docker Engine's own words for `exc`, without the HTTP boilerplate."""
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return str(exc.explanation)
    return str(exc)


@contextmanager
def docker_errors(action: str) -> Iterator[None]:
    """Re-raise Docker SDK errors inside the block as NotFound or RuntimeFailure.

    `action` says what was being done, e.g. "starting container hangar-web-1".
    """
    try:
        yield
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise translate(action, exc) from exc


def translate(action: str, exc: Exception) -> HangarError:
    """The Hangar error for a Docker SDK (or HTTP transport) error `exc`."""
    if isinstance(exc, docker.errors.ImageNotFound):
        return NotFound(f"{action}: image not found: {explain(exc)}", hint=IMAGE_HINT)
    if isinstance(exc, docker.errors.NotFound):
        return NotFound(f"{action}: {explain(exc)}", hint=CONTAINER_HINT)
    if isinstance(exc, docker.errors.APIError):
        return RuntimeFailure(f"{action}: Docker Engine refused: {explain(exc)}", API_HINT)
    return RuntimeFailure(f"{action}: cannot talk to the Docker Engine: {exc}", ENGINE_HINT)


def connect() -> docker.DockerClient:
    """A client for the engine named by the environment (DOCKER_HOST or the local socket)."""
    with docker_errors("connecting to the Docker Engine"):
        return docker.from_env()


def is_conflict(exc: docker.errors.APIError) -> bool:
    """True for HTTP 409: e.g. "container is not running", "image is being used"."""
    return exc.status_code == 409
