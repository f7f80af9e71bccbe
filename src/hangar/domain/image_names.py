"""The names of the images Hangar builds: `hangar/<app>:deployment-<id>`, made and read here."""

from __future__ import annotations

_TAG_PREFIX = "deployment-"
BASE_IMAGES = ("hangar/busybox:1", "hangar/python:3")  # made locally by scripts/base-image.sh


def release_repository(app: str) -> str:
    """The repository the app's built images are tagged in."""
    return f"hangar/{app}"


def release_image(app: str, deployment_id: str) -> str:
    """The tag of the image a deployment builds."""
    return f"{release_repository(app)}:{_TAG_PREFIX}{deployment_id}"


def is_release_image(app: str, ref: str) -> bool:
    """True for an image Hangar built for `app` (not a base image, not another app's)."""
    return ref.startswith(f"{release_repository(app)}:{_TAG_PREFIX}")


def is_another_apps_release(app_tag: str, image_tags: list[str]) -> bool:
    """True if an image tagged `image_tags` was built for an app other than the one whose
    release is tagged `app_tag`."""
    own = app_tag.split(":", 1)[0] + ":"
    return any(
        tag.startswith("hangar/") and f":{_TAG_PREFIX}" in tag and not tag.startswith(own)
        for tag in image_tags
    )


def is_named_by(ref: str, tags: list[str], digests: list[str]) -> bool:
    """True if `ref` names an image by one of its tags or digests, not by an id or an id
    prefix (which could reach an untagged layer of anyone's build)."""
    short = ref.removeprefix("docker.io/").removeprefix("library/")
    tail = short.rsplit("/", 1)[-1]
    candidates = {short} if ":" in tail or "@" in short else {short, f"{short}:latest"}
    return bool(candidates & (set(tags) | set(digests)))
