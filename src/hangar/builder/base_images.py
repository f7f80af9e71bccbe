"""The images a Dockerfile builds on: FROM lines and `COPY --from=IMAGE`. They must
exist locally (nothing can be pulled)."""

from __future__ import annotations

import re
from pathlib import Path

from hangar.builder.dockerfile import instructions

_FROM = re.compile(r"^(?:--\S+\s+)*(?P<image>\S+)(?:\s+AS\s+(?P<alias>\S+))?", re.I)
_COPY_FROM = re.compile(r"--from=(?P<image>\S+)", re.I)


def base_images(dockerfile: Path) -> list[str]:
    """The external images `dockerfile` builds FROM or copies from, in order.

    Skips `scratch`, earlier build stages (`FROM build`, `--from=0`), and
    references that use build args (`FROM $BASE`), which only the engine can resolve.
    """
    images: list[str] = []
    stages: set[str] = set()
    for instruction in instructions(dockerfile.read_text(encoding="utf-8")):
        image, alias = _image_of(instruction.keyword, instruction.arguments)
        external = image not in (None, "scratch") and image.lower() not in stages
        if image is not None and external and "$" not in image and not image.isdigit():
            images.append(image)
        if alias:
            stages.add(alias.lower())
    return images


def _image_of(keyword: str, arguments: str) -> tuple[str | None, str | None]:
    """The image an instruction names, and the stage alias it makes."""
    if keyword == "FROM" and (match := _FROM.match(arguments)):
        return match["image"], match["alias"]
    if keyword == "COPY" and (match := _COPY_FROM.search(arguments)):
        return match["image"], None
    return None, None
