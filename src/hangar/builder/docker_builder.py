"""The Builder port on the Docker Engine: `docker build` with a live log."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import requests

from hangar.builder.archive import require_dockerfile
from hangar.builder.base_images import base_images
from hangar.builder.build_log import BuildLog
from hangar.builder.egress import EgressPolicy, host_policy
from hangar.builder.local_sources import LocalSources
from hangar.builder.remote_add import localise_remote_adds
from hangar.builder.sandbox import BuildSandbox
from hangar.domain.image_names import is_another_apps_release, is_named_by
from hangar.errors import BuildFailed
from hangar.runtime.docker_errors import connect, docker_errors, explain, translate

BUILD_TIMEOUT_S = 1800  # a step may print nothing for this long
BASE_IMAGE_HINT = (
    "no registry is reachable, so base images must be built locally: "
    "use FROM hangar/busybox:1 (made by scripts/base-image.sh) or build your base image first"
)


class DockerBuilder:
    """Builds a context folder (holding a Dockerfile) into a tagged image.

    Uses the engine's classic builder with `pull=False`: base images must exist
    locally (no registry is reachable here). The docker SDK packs the folder
    itself, honouring its .dockerignore. `RUN` steps run in the build sandbox;
    remote `ADD` sources are fetched under `fetch_policy` (the host's egress
    policy unless a test says otherwise) and the Dockerfile in `context_dir`
    is rewritten to take the checked copies.
    """

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        timeout_s: int = BUILD_TIMEOUT_S,
        fetch_policy: Callable[[], EgressPolicy] = host_policy,
    ) -> None:
        self._client = client or connect()
        self._timeout_s = timeout_s
        self._fetch_policy = fetch_policy
        self._sandbox = BuildSandbox(self._client)

    def close(self) -> None:
        self._client.close()

    def build(
        self,
        context_dir: Path,
        tag: str,
        on_line: Callable[[str], None],
        dockerfile: str = "Dockerfile",
        args: dict[str, str] | None = None,
    ) -> str:
        """Build `context_dir` as `tag`, streaming each log line to `on_line`; return the id.

        Raises BuildFailed (naming the failing step, with the last log lines, or
        a FROM image missing on this machine), InvalidInput if there is no
        Dockerfile, RuntimeFailure if the engine is unreachable.
        """
        require_dockerfile(context_dir, dockerfile)
        self._require_base_images(context_dir / dockerfile, tag, args or {})
        network = self._sandbox.ensure(host_policy())
        log = BuildLog(on_line)
        with tempfile.TemporaryDirectory(prefix="hangar-add-") as workdir, LocalSources() as served:
            localise_remote_adds(
                context_dir / dockerfile, Path(workdir), served, self._fetch_policy(), on_line
            )
            self._stream_build(context_dir, tag, log, dockerfile, args or {}, network)
        log.flush()
        if log.error is not None:
            raise log.failure(tag, log.error)
        return log.image_id or self._image_id(tag)

    def _stream_build(
        self,
        context_dir: Path,
        tag: str,
        log: BuildLog,
        dockerfile: str,
        args: dict[str, str],
        network: str,
    ) -> None:
        try:
            chunks = self._client.api.build(
                path=str(context_dir.resolve()),
                dockerfile=dockerfile,
                buildargs=args,
                tag=tag,
                rm=True,
                forcerm=True,
                decode=True,
                pull=False,
                network_mode=network,
                timeout=self._timeout_s,
            )
            for chunk in chunks:
                log.feed(chunk)
        except docker.errors.APIError as exc:
            if exc.is_client_error():  # e.g. 400 "dockerfile parse error line 2: ..."
                raise log.failure(tag, explain(exc)) from exc
            raise translate(f"building {tag}", exc) from exc
        except (docker.errors.DockerException, requests.RequestException) as exc:
            raise translate(f"building {tag}", exc) from exc

    def _require_base_images(self, dockerfile: Path, tag: str, args: dict[str, str]) -> None:
        """Fail fast instead of letting the engine try to pull from a registry. An image
        named by id, or by another app's release tag, is as missing as one that is not
        there: nobody builds on another tenant's image or layers, nor learns they exist."""
        for image in base_images(dockerfile, args):
            missing = BuildFailed(
                f"build of {tag} failed: base image {image} is not on this machine",
                hint=BASE_IMAGE_HINT,
            )
            if is_another_apps_release(tag, image):
                raise missing
            try:
                found = self._client.images.get(image)
            except docker.errors.APIError as exc:  # absent, or an ambiguous id prefix
                raise missing from exc
            except (docker.errors.DockerException, requests.RequestException) as exc:
                raise translate(f"checking base image {image}", exc) from exc
            if not is_named_by(image, found.tags, found.attrs.get("RepoDigests") or []):
                raise missing

    def _image_id(self, tag: str) -> str:
        with docker_errors(f"inspecting the image just built as {tag}"):
            image_id = self._client.images.get(tag).id
        return image_id or tag
