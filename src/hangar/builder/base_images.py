"""The images a Dockerfile builds FROM: they must exist locally (nothing can be pulled)."""

from __future__ import annotations

import re
from pathlib import Path

from hangar.builder.dockerfile import instructions

_FROM = re.compile(r"^(?:--\S+\s+)*(?P<image>\S+)(?:\s+AS\s+(?P<alias>\S+))?", re.I)


def base_images(dockerfile: Path) -> list[str]:
    """The external images of `dockerfile`'s FROM lines, in order.

    Skips `scratch`, earlier build stages (`FROM build`), and references that
    use build args (`FROM $BASE`), which only the engine can resolve.
    """
    images: list[str] = []
    stages: set[str] = set()
    for instruction in instructions(dockerfile.read_text(encoding="utf-8")):
        match = _FROM.match(instruction.arguments)
        if instruction.keyword != "FROM" or match is None:
            continue
        image = match["image"]
        if image != "scratch" and image.lower() not in stages and "$" not in image:
            images.append(image)
        if match["alias"]:
            stages.add(match["alias"].lower())
    return images
