"""The Runtime port on the Docker Engine: one container per machine."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Generator
from typing import Any

import docker
import docker.errors
import requests

from hangar.errors import RuntimeFailure
from hangar.ports import (
    APP_LABEL,
    MANAGED_LABEL,
    ContainerInfo,
    ContainerSpec,
    LogLine,
    UsageSample,
)
from hangar.runtime.app_networks import DEFAULT_POOL, AppNetworks
from hangar.runtime.container_info import info_from_attrs
from hangar.runtime.create_args import create_args
from hangar.runtime.docker_errors import connect, docker_errors, explain, is_conflict
from hangar.runtime.log_lines import split_lines, to_log_line
from hangar.runtime.usage import usage_from_stats

KILL_WAIT_S = 10  # how long to wait for a container to die after SIGKILL


class DockerRuntime:
    """Runs, stops and inspects Hangar's containers on one Docker Engine."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        instance: str = "default",
        machine_subnets: str = DEFAULT_POOL,
    ) -> None:
        """`instance` names the server owning the containers: each sees only its own."""
        self.instance = instance
        self._client = client or connect()
        self._api = self._client.api
        self._networks = AppNetworks(self._client, instance, machine_subnets)

    def close(self) -> None:
        self._client.close()

    # -- lifecycle -----------------------------------------------------------

    def run(self, spec: ContainerSpec) -> ContainerInfo:
        """Create and start `spec`'s container, replacing one of the same name."""
        self.remove(spec.name)
        network = self._networks.ensure(spec.app)
        with docker_errors(f"creating container {spec.name} from image {spec.image}"):
            container = self._client.containers.create(**create_args(spec, self.instance, network))
        self._start_or_discard(container.id or spec.name, spec.name)
        return self._require(container.id or spec.name)

    def start(self, container_id: str) -> ContainerInfo:
        with docker_errors(f"starting container {container_id}"):
            self._api.start(container_id)
        return self._require(container_id)

    def stop(self, container_id: str, signal: str, timeout_s: int) -> None:
        """Send `signal`, wait up to `timeout_s` for the exit, then SIGKILL.

        Docker API 1.41 (Debian's engine) cannot override the stop signal on
        `stop`, so this is kill(signal) + wait + kill(SIGKILL). Stopping a
        container that is not running is a no-op; `timeout_s <= 0` kills at once.
        """
        with docker_errors(f"stopping container {container_id} with {signal}"):
            if not self._signal(container_id, signal):
                return
            if timeout_s > 0 and self._wait_stopped(container_id, timeout_s):
                return
            self._signal(container_id, "SIGKILL")
            if not self._wait_stopped(container_id, KILL_WAIT_S):
                raise RuntimeFailure(
                    f"container {container_id} did not die {KILL_WAIT_S}s after SIGKILL",
                    hint="check the dockerd log (journalctl -u docker)",
                )

    def remove(self, container_id: str) -> None:
        """Remove the container by id or name (force); a missing one is a no-op."""
        with docker_errors(f"removing container {container_id}"):
            try:
                self._api.remove_container(container_id, force=True, v=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:
                if not (is_conflict(exc) and "in progress" in explain(exc)):
                    raise

    def remove_app_network(self, app: str) -> None:
        """Remove the app's private network; its containers must be removed first."""
        self._networks.remove(app)

    # -- queries -------------------------------------------------------------

    def inspect(self, container_id: str) -> ContainerInfo | None:
        attrs = self._inspect_attrs(container_id)
        return info_from_attrs(attrs) if attrs is not None else None

    def list_managed(self, app: str | None = None) -> list[ContainerInfo]:
        """Every container Hangar manages (running or not), or only `app`'s."""
        filters = [f"{MANAGED_LABEL}={self.instance}"]
        if app is not None:
            filters.append(f"{APP_LABEL}={app}")
        with docker_errors("listing Hangar's containers"):
            summaries = self._api.containers(all=True, filters={"label": filters})
        found = (self.inspect(summary["Id"]) for summary in summaries)
        return [info for info in found if info is not None]

    def logs(
        self, container_id: str, machine_id: str, tail: int = 100, follow: bool = False
    ) -> DockerLogStream:
        """The last `tail` lines of stdout+stderr, then new ones if `follow`.

        Errors such as a missing container are raised here, before iterating.
        """
        with docker_errors(f"reading the logs of container {container_id}"):
            stream = self._api.logs(
                container_id, stream=True, follow=follow, timestamps=True, tail=tail
            )
        return DockerLogStream(stream, container_id, machine_id)

    def usage(self, container_id: str) -> UsageSample | None:
        try:
            stats = self._api.stats(container_id, stream=False, one_shot=True)
        except (docker.errors.DockerException, requests.RequestException):
            return None  # gone or stopped: no sample, not an error
        return usage_from_stats(stats)

    # -- images --------------------------------------------------------------

    def image_exists(self, ref: str) -> bool:
        with docker_errors(f"inspecting image {ref}"):
            try:
                self._client.images.get(ref)
            except docker.errors.NotFound:
                return False
        return True

    def remove_image(self, ref: str) -> None:
        """Remove an image; a missing or still-used image is not an error."""
        with docker_errors(f"removing image {ref}"):
            try:
                self._api.remove_image(ref)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:
                if not is_conflict(exc):
                    raise

    def image_tags(self, repository: str) -> set[str]:
        """The `repository:tag` references of `repository` present on the engine."""
        with docker_errors(f"listing the images of {repository}"):
            summaries = self._api.images(name=repository)
        tags = (tag for summary in summaries for tag in summary.get("RepoTags") or ())
        return {tag for tag in tags if tag.startswith(f"{repository}:")}

    def image_id(self, ref: str) -> str | None:
        with docker_errors(f"inspecting image {ref}"):
            try:
                return str(self._client.images.get(ref).id)
            except docker.errors.NotFound:
                return None

    def image_parent(self, image_id: str) -> str | None:
        with docker_errors(f"inspecting image {image_id}"):
            try:
                parent = self._client.images.get(image_id).attrs.get("Parent")
            except docker.errors.NotFound:
                return None
        return parent or None

    def dangling_images(self) -> list[str]:
        """The ids of dangling images: untagged, and no other image's parent."""
        with docker_errors("listing dangling images"):
            ids: list[str] = self._api.images(filters={"dangling": True}, quiet=True)
        return ids

    def remove_dangling_image(self, image_id: str) -> bool:
        """Remove an image by id only if it is still untagged; True if it was removed.

        Removing by id would untag a tagged image, so the tags are read first.
        Docker also removes the untagged parents nothing else uses. A missing
        image, a tagged one or one a container uses (409) is left alone.
        """
        with docker_errors(f"removing dangling image {image_id}"):
            try:
                if self._client.images.get(image_id).tags:
                    return False
                self._api.remove_image(image_id)
            except docker.errors.NotFound:
                return False
            except docker.errors.APIError as exc:
                if is_conflict(exc):
                    return False
                raise
        return True

    # -- helpers -------------------------------------------------------------

    def _start_or_discard(self, container_id: str, name: str) -> None:
        """Start a fresh container; if that fails, remove it so no husk is left."""
        try:
            with docker_errors(f"starting container {name}"):
                self._api.start(container_id)
        except Exception:
            self.remove(container_id)
            raise

    def _require(self, container_id: str) -> ContainerInfo:
        info = self.inspect(container_id)
        if info is None:
            raise RuntimeFailure(
                f"container {container_id} vanished right after it was started",
                hint="something else removes containers on this engine; check `docker events`",
            )
        return info

    def _inspect_attrs(self, container_id: str) -> dict[str, Any] | None:
        with docker_errors(f"inspecting container {container_id}"):
            try:
                attrs: dict[str, Any] = self._api.inspect_container(container_id)
            except docker.errors.NotFound:
                return None
        return attrs

    def _signal(self, container_id: str, signal: str) -> bool:
        """Send `signal`; False if the container is not running (nothing to stop)."""
        try:
            self._api.kill(container_id, signal=signal)
        except docker.errors.APIError as exc:
            if is_conflict(exc):
                return False
            raise
        return True

    def _wait_stopped(self, container_id: str, timeout_s: int) -> bool:
        """Wait until the container is not running; False on timeout."""
        try:
            self._api.wait(container_id, timeout=timeout_s, condition="not-running")
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError):
            return False
        return True


class DockerLogStream:
    """docker-py's CancellableStream as log lines; its close() shuts the socket down."""

    def __init__(self, stream: Any, container_id: str, machine_id: str) -> None:
        self._stream = stream
        self._container_id = container_id
        self._machine_id = machine_id
        self._lines: Generator[LogLine, None, None] = self._read()

    def __iter__(self) -> DockerLogStream:
        return self

    def _read(self) -> Generator[LogLine, None, None]:
        try:
            with docker_errors(f"reading the logs of container {self._container_id}"):
                for line in split_lines(self._stream):
                    yield to_log_line(self._machine_id, line)
        finally:
            self._stream._response.close()

    def __next__(self) -> LogLine:
        return next(self._lines)

    def close(self) -> None:
        """Safe from another thread: a read blocked on the socket ends at once.

        The reading thread then closes the response; with none reading, this does.
        """
        with contextlib.suppress(OSError):
            self._stream.close()
        if inspect.getgeneratorstate(self._lines) != inspect.GEN_RUNNING:
            with contextlib.suppress(ValueError):  # a read began meanwhile: it closes it
                self._lines.close()
