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


def is_another_apps_release(app_tag: str, ref: str) -> bool:
    """True if `ref` names a release image of an app other than the one whose release is
    tagged `app_tag`. The name written decides: a shared base image may carry an app's
    tag too (a build of one FROM line is that base image)."""
    short = _short(ref)
    own = app_tag.split(":", 1)[0] + ":"
    return short.startswith("hangar/") and f":{_TAG_PREFIX}" in short and not short.startswith(own)


def is_named_by(ref: str, tags: list[str], digests: list[str]) -> bool:
    """True if `ref` names an image by one of its tags or digests, not by an id or an id
    prefix (which could reach an untagged layer of anyone's build)."""
    short = _short(ref)
    name, _, digest = short.partition("@")
    if digest:  # repo@digest, or repo:tag@digest (the digest decides)
        repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        return f"{repository}@{digest}" in digests
    tail = short.rsplit("/", 1)[-1]
    candidates = {short} if ":" in tail else {short, f"{short}:latest"}
    return bool(candidates & set(tags))


def _short(ref: str) -> str:
    return ref.lower().removeprefix("docker.io/").removeprefix("library/")
