"""DockerBuilder against the real Docker Engine, and the hello example end to end."""

from __future__ import annotations

import io
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import pytest

from hangar.builder.archive import pack, unpack_safely
from hangar.builder.base_images import base_images
from hangar.builder.build_log import BuildLog
from hangar.builder.docker_builder import DockerBuilder
from hangar.errors import BuildFailed, InvalidInput
from hangar.ports import ContainerSpec
from hangar.runtime.docker_runtime import DockerRuntime
from tests.integration.conftest import BASE_IMAGE, REPO, Log, context

pytestmark = pytest.mark.docker


@pytest.fixture
def runtime(docker_client: docker.DockerClient) -> DockerRuntime:
    return DockerRuntime(docker_client)


@pytest.fixture
def builder(docker_client: docker.DockerClient, base_image: str) -> DockerBuilder:
    return DockerBuilder(docker_client)


def test_build_streams_lines_as_they_come_and_returns_the_image_id(
    builder: DockerBuilder, runtime: DockerRuntime, log: Log, tag: str, tmp_path: Path
) -> None:
    dockerfile = f"FROM {BASE_IMAGE}\nRUN echo first-line && sleep 2 && echo second-line\n"

    image_id = builder.build(context(tmp_path, dockerfile), tag, log)

    assert image_id.startswith("sha256:")
    assert runtime.image_exists(tag)
    assert runtime.image_exists(image_id)
    assert f"Step 1/2 : FROM {BASE_IMAGE}" in log
    assert log.arrivals["second-line"] - log.arrivals["first-line"] >= 1.5


def test_build_honours_dockerignore(
    builder: DockerBuilder, log: Log, tag: str, tmp_path: Path
) -> None:
    dockerfile = (
        f"FROM {BASE_IMAGE}\nCOPY . /ctx\nRUN test -e /ctx/app.txt && test ! -e /ctx/secret.env\n"
    )
    files = {"app.txt": "app", "secret.env": "s3cret", ".dockerignore": "secret.env\n"}
    folder = context(tmp_path, dockerfile, files)

    builder.build(folder, tag, log)


def test_failed_build_raises_build_failed_with_the_log(
    builder: DockerBuilder, runtime: DockerRuntime, log: Log, tag: str, tmp_path: Path
) -> None:
    dockerfile = f"FROM {BASE_IMAGE}\nRUN echo before-failure\nRUN false\n"

    with pytest.raises(BuildFailed) as caught:
        builder.build(context(tmp_path, dockerfile), tag, log)

    error = caught.value
    assert "Step 3/3 : RUN false" in error.message
    assert "returned a non-zero code: 1" in error.message
    assert "before-failure" in error.message  # the log tail
    assert error.hint == "fix the Dockerfile and deploy again"
    assert "before-failure" in log
    assert not runtime.image_exists(tag)


def test_bad_dockerfile_raises_build_failed(
    builder: DockerBuilder, log: Log, tag: str, tmp_path: Path
) -> None:
    with pytest.raises(BuildFailed, match=r"(?i)unknown instruction"):
        builder.build(context(tmp_path, f"FROM {BASE_IMAGE}\nFROBNICATE now\n"), tag, log)


def test_build_without_dockerfile_is_invalid_input(
    builder: DockerBuilder, tag: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="no Dockerfile"):
        builder.build(tmp_path, tag, lambda line: None)


def http_get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        assert response.status == 200
        body: bytes = response.read()
        return body


def wait_for(probe: Callable[[], bytes], timeout_s: float = 10) -> bytes:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return probe()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_hello_example_deploys_through_an_archive_and_serves(
    builder: DockerBuilder, runtime: DockerRuntime, log: Log, tag: str, tmp_path: Path
) -> None:
    """The server's path: pack the folder, unpack it safely, build it, run it."""
    unpacked = tmp_path / "context"
    unpacked.mkdir()
    unpack_safely(io.BytesIO(pack(REPO / "examples/hello")), unpacked, max_bytes=10 << 20)
    assert not (unpacked / "README.md").exists()  # .dockerignore'd
    builder.build(unpacked, tag, log)
    app = f"hangar-test-{uuid.uuid4().hex[:10]}"
    spec = ContainerSpec(app=app, machine_id="hello1", release=1, image=tag, internal_port=8080)

    try:
        info = runtime.run(spec)
        port = info.host_port or 0
        index = wait_for(lambda: http_get(port, "/")).decode()
        started = time.monotonic()
        slow = http_get(port, "/cgi-bin/slow?s=1").decode()
        slow_took = time.monotonic() - started
        live = http_get(port, "/cgi-bin/info").decode()
    finally:
        runtime.remove(spec.name)

    assert "Hello from Hangar" in index
    assert '<b id="version">1</b>' in index
    assert '<b id="hostname">hello1</b>' in index
    assert slow == "slept 1s on hello1 (version 1)\n"
    assert slow_took >= 1
    assert live == "version=1\nhostname=hello1\n"


def test_missing_base_image_fails_fast_without_pulling(
    builder: DockerBuilder, tag: str, tmp_path: Path
) -> None:
    missing = f"hangar-test-missing-{uuid.uuid4().hex[:8]}:1"
    lines: list[str] = []

    with pytest.raises(BuildFailed, match=f"base image {missing} is not on this machine") as caught:
        builder.build(context(tmp_path, f"FROM {missing}\nRUN true\n"), tag, lines.append)

    assert "scripts/base-image.sh" in caught.value.hint
    assert lines == []  # the engine was never asked


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM {tag}\nRUN true\n",
        "FROM {id}\nRUN true\n",
        "FROM hangar/busybox:1\nCOPY --from={tag} /bin/sh /stolen\n",
        "ARG BASE={id}\nFROM $BASE\nRUN true\n",
        "FROM hangar/busybox:1 AS a\nONBUILD COPY --from={tag} /bin/sh /stolen\nFROM a\n",
    ],
)
def test_another_apps_release_image_is_as_missing_as_an_absent_one(
    builder: DockerBuilder,
    docker_client: docker.DockerClient,
    base_image: str,
    tag: str,
    tmp_path: Path,
    dockerfile: str,
) -> None:
    theirs = f"hangar/other-{uuid.uuid4().hex[:8]}:deployment-d0000001"
    image = docker_client.images.get(base_image)
    image.tag(theirs)
    lines: list[str] = []
    try:
        text = dockerfile.format(tag=theirs, id=image.id.split(":")[1][:12])
        with pytest.raises(BuildFailed, match="is not on this machine"):
            builder.build(context(tmp_path, text), tag, lines.append)
    finally:
        docker_client.images.remove(theirs)
    assert lines == []  # the engine was never asked


def test_a_base_image_that_another_apps_build_also_tags_still_builds(
    builder: DockerBuilder,
    docker_client: docker.DockerClient,
    runtime: DockerRuntime,
    base_image: str,
    tag: str,
    tmp_path: Path,
) -> None:
    """A build of one FROM line is its base image, so an app's tag can sit on a shared
    base: other apps still build on the base by its own name."""
    theirs = f"hangar/other-{uuid.uuid4().hex[:8]}:deployment-d0000001"
    docker_client.images.get(base_image).tag(theirs)
    try:
        builder.build(context(tmp_path, f"FROM {base_image}\nRUN true\n"), tag, lambda _: None)
    finally:
        docker_client.images.remove(theirs)
    assert runtime.image_exists(tag)


# -- pure helpers (no engine needed) ---------------------------------------------


def test_base_images_skips_scratch_and_stages(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "# syntax comment\n"
        "ARG BASE=hangar/busybox:1\n"
        "FROM --platform=linux/amd64 hangar/busybox:1 AS Build\n"
        "RUN echo \\\n  FROM not-an-image\n"
        "FROM scratch\n"
        "from build as again\n"
        "FROM $BASE\n"
        "FROM localhost/tools:2\n"
        "COPY --from=build /a /b\n"
        "COPY --from=0 /a /b\n"
        "COPY --chown=1 --from=hangar/python:3 /usr/bin/python3 /p\n"
    )

    assert base_images(dockerfile) == [
        "hangar/busybox:1",
        "hangar/busybox:1",
        "localhost/tools:2",
        "hangar/python:3",
    ]


def test_base_images_expands_build_args_as_the_engine_does(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG PY=3 TOOLS\n"
        "FROM hangar/python:${PY}\n"
        "ARG PY=9\n"  # a stage's ARG: not seen by the next FROM
        "FROM ${TOOLS:-localhost/tools:1}\n"
        "FROM 0123\n"  # digits name an image (an id prefix) in FROM, a stage in --from
        "ONBUILD COPY --from=localhost/kit:$PY /a /b\n"
    )
    assert base_images(dockerfile) == [
        "hangar/python:3",
        "localhost/tools:1",
        "0123",
        "localhost/kit:9",
    ]
    given = base_images(dockerfile, {"PY": "4", "TOOLS": "localhost/other:2"})
    assert given[:2] == ["hangar/python:4", "localhost/other:2"]


def test_a_reference_that_cannot_be_expanded_is_refused(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    for text in ("FROM hangar/busybox:$(echo 1)\n", "ARG X\nFROM hangar/busybox:\\$X\n"):
        dockerfile.write_text(text)
        with pytest.raises(BuildFailed, match="cannot expand"):
            base_images(dockerfile)


def test_build_log_reassembles_lines_and_remembers_the_step() -> None:
    lines: list[str] = []
    log = BuildLog(lines.append, keep=3)

    for chunk in [
        {"stream": "Step 1/2 : FROM x\n ---> abc"},
        {"stream": "\nStep 2/2 : RUN make\n"},
        {"stream": "partial"},
        {"aux": {"ID": "sha256:123"}},
        {"error": "boom", "errorDetail": {"message": "make: *** boom"}},
    ]:
        log.feed(chunk)

    assert lines == [
        "Step 1/2 : FROM x",
        " ---> abc",
        "Step 2/2 : RUN make",
        "partial",
        "make: *** boom",
    ]
    assert (log.step, log.error, log.image_id) == (
        "Step 2/2 : RUN make",
        "make: *** boom",
        "sha256:123",
    )
    failure = log.failure("web:1", "make: *** boom")
    assert failure.message.startswith(
        "build of web:1 failed at Step 2/2 : RUN make: make: *** boom"
    )
    assert failure.message.endswith("Step 2/2 : RUN make\npartial\nmake: *** boom")


def test_build_uses_the_named_dockerfile_and_build_args(
    builder: DockerBuilder, runtime: DockerRuntime, log: Log, tag: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch-that-is-not-used\n")
    (tmp_path / "Dockerfile.prod").write_text(
        f"FROM {BASE_IMAGE}\nARG FLAVOUR\nRUN echo flavour=$FLAVOUR\n"
    )
    builder.build(tmp_path, tag, log, dockerfile="Dockerfile.prod", args={"FLAVOUR": "mint"})
    assert runtime.image_exists(tag)
    assert any("flavour=mint" in line for line in log)


def test_a_dockerfile_outside_the_folder_is_refused(
    builder: DockerBuilder, log: Log, tag: str, tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\n")
    with pytest.raises(InvalidInput, match="outside the project folder"):
        builder.build(tmp_path / "app", tag, log, dockerfile="../Dockerfile")
