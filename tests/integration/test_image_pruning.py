"""Disk hygiene on a real server: `--keep-images 2`, real builds, real Docker Engine."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest

from hangar.control.images import produced_layers
from tests.integration.conftest import BASE_IMAGE, REPO
from tests.support.server import Cli, RunningServer, start_server

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]

KEEP = 2
DEPLOYMENT = re.compile(r"\(deployment ([0-9a-f]+)\)")
FAILING_DOCKERFILE = "FROM hangar/busybox:1\nCOPY www/ /www/\nRUN false\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_image: str) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("prune") / "data"
    running = start_server(data_dir, extra=("--keep-images", str(KEEP)))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def cli(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    user = Cli(tmp_path_factory.mktemp("home"), server.api_url)
    user.ok("auth", "signup", "--email", "prune@example.com", "--password", "prune-password")
    return user


@pytest.fixture
def app(cli: Cli, tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[tuple[str, Path]]:
    """A copy of the example app, created on the server; destroyed (and checked) after."""
    name = f"prune-{uuid.uuid4().hex[:8]}"
    project = tmp_path / "app"
    shutil.copytree(REPO / "examples" / "hello", project)
    (project / "fly.toml").write_text(f'app = "{name}"\n\n[http_service]\ninternal_port = 8080\n')
    cli.ok("apps", "create", name)
    try:
        yield name, project
    finally:
        cli("apps", "destroy", name, "--yes")
    assert app_tags(docker_client, name) == set()
    docker_client.images.get(BASE_IMAGE)  # the base image survives every prune


def app_tags(client: docker.DockerClient, app: str) -> set[str]:
    images = client.images.list(name=f"hangar/{app}")
    return {t for image in images for t in image.tags if t.startswith(f"hangar/{app}:")}


def deploy(cli: Cli, app: str, project: Path, page: str) -> list[dict[str, Any]]:
    """Deploy a changed index page; return the deploy's events."""
    (project / "www" / "index.html.in").write_text(f"<h1>{page}</h1>\n")
    result = cli.ok("deploy", "-a", app, cwd=project)
    return settled(cli, app, result.stdout)


def settled(cli: Cli, app: str, output: str) -> list[dict[str, Any]]:
    """Every event of the deploy named in `hangar deploy`'s output."""
    match = DEPLOYMENT.search(output)
    assert match is not None, output
    token = cli.ok("auth", "token").stdout.strip()
    url = f"{cli.api_url}/v1/apps/{app}/deploys/{match.group(1)}/events"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=None) as http, http.stream("GET", url) as answer:
        answer.raise_for_status()
        return [json.loads(line) for line in answer.iter_lines() if line.strip()]


def release_images(cli: Cli, app: str) -> list[str]:
    return [r["image"] for r in json.loads(cli.ok("releases", "-a", app, "--json").stdout)]


def test_only_the_last_n_release_images_remain_and_the_app_serves(
    server: RunningServer, cli: Cli, app: tuple[str, Path], docker_client: docker.DockerClient
) -> None:
    name, project = app
    for number in range(1, KEEP + 3):
        events = deploy(cli, name, project, f"release {number}")
    newest_first = release_images(cli, name)
    assert len(newest_first) == KEEP + 2
    assert app_tags(docker_client, name) == set(newest_first[:KEEP])
    prune = next(e for e in events if e["type"] == "prune")
    assert prune["images"] == [newest_first[KEEP]]
    assert events[-1]["type"] == "done", "the deploy ends after its prune"
    response = server.get(name)
    assert response.status_code == 200
    assert f"release {KEEP + 2}" in response.text


def test_a_failed_builds_dangling_layers_go_with_the_next_deploy(
    cli: Cli, app: tuple[str, Path], docker_client: docker.DockerClient
) -> None:
    name, project = app
    deploy(cli, name, project, "good")
    good_dockerfile = (project / "Dockerfile").read_text()
    (project / "Dockerfile").write_text(FAILING_DOCKERFILE)
    (project / "www" / "index.html.in").write_text("<h1>this build fails</h1>\n")
    failed = cli("deploy", "-a", name, cwd=project)
    assert failed.returncode != 0
    settled(cli, name, failed.stdout)
    lines = (line.strip() for line in failed.stdout.splitlines())
    left = produced_layers(lines, lambda image: parent_of(docker_client, image))
    assert dangling(docker_client) & left, "the failed build left no dangling layer"
    (project / "Dockerfile").write_text(good_dockerfile)
    deploy(cli, name, project, "fixed")
    assert not existing(docker_client, left)


def parent_of(client: docker.DockerClient, image: str) -> str | None:
    try:
        return client.images.get(image).attrs.get("Parent") or None
    except docker.errors.ImageNotFound:
        return None


def dangling(client: docker.DockerClient) -> set[str]:
    return {str(image.id)[7:19] for image in client.images.list(filters={"dangling": True})}


def existing(client: docker.DockerClient, short_ids: frozenset[str]) -> set[str]:
    found = set()
    for short in short_ids:
        try:
            client.images.get(short)
            found.add(short)
        except docker.errors.ImageNotFound:
            pass
    return found
