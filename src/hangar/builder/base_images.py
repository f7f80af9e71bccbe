"""The images a Dockerfile builds on: FROM lines and `COPY --from=IMAGE` (ONBUILD ones
too). They must exist locally (nothing can be pulled).

Build args are expanded as the engine expands them (the ARG defaults, then the
deploy's build args), so that what is checked is what the engine will look up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from hangar.builder.dockerfile import Instruction, instructions
from hangar.errors import BuildFailed

_FROM = re.compile(r"^(?:--\S+\s+)*(?P<image>\S+)(?:\s+AS\s+(?P<alias>\S+))?", re.I)
_COPY_FROM = re.compile(r"--from=(?P<image>\S+)", re.I)
_ARG = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<value>.*))?$")
_VARIABLE = re.compile(
    r"\$(?:(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:[-+])(?P<word>[^}$]*))?\})"
)


def base_images(dockerfile: Path, build_args: Mapping[str, str] | None = None) -> list[str]:
    """The external images `dockerfile` builds FROM or copies from, in order, with
    build args expanded.

    Skips `scratch` and earlier build stages (`FROM build`, `--from=0`).
    BuildFailed if a reference cannot be expanded (it must be known to be checked).
    """
    images: list[str] = []
    stages: set[str] = set()
    args = _ArgValues(build_args or {})
    for instruction in _with_onbuild(instructions(dockerfile.read_text(encoding="utf-8"))):
        if instruction.keyword == "ARG":
            args.declare(instruction.arguments)
            continue
        written, alias = _image_of(instruction.keyword, instruction.arguments)
        if written is not None:
            image = args.expand(written, in_from=instruction.keyword == "FROM")
            stage_index = instruction.keyword != "FROM" and image.isdigit()
            if image != "scratch" and image.lower() not in stages and not stage_index:
                images.append(image)
        if alias:
            stages.add(alias.lower())
    return images


class _ArgValues:
    """The values ARG instructions and the deploy's build args give to `$NAME`."""

    def __init__(self, build_args: Mapping[str, str]) -> None:
        self._given = dict(build_args)
        self._values: dict[str, str] = {}
        self._global: dict[str, str] | None = None  # those declared before the first FROM

    def declare(self, arguments: str) -> None:
        for word in arguments.split():
            if match := _ARG.match(word):
                name = match["name"]
                value = self._given.get(name, (match["value"] or "").strip("\"'"))
                self._values[name] = value

    def expand(self, reference: str, in_from: bool) -> str:
        """`reference` as the engine reads it: a FROM sees only the ARGs declared
        before the first FROM."""
        if in_from and self._global is None:
            self._global = dict(self._values)
        values = self._global if in_from and self._global is not None else self._values
        expanded = _VARIABLE.sub(lambda match: _value_of(match, values), reference)
        if "$" in expanded or "\\" in reference:
            raise BuildFailed(
                f"the image reference {reference!r} uses a variable Hangar cannot expand",
                hint="write the image name out, or give the ARG a plain default",
            )
        return expanded


def _value_of(match: re.Match[str], values: Mapping[str, str]) -> str:
    value = values.get(match["bare"] or match["name"], "")
    if match["op"] == ":-":
        return value or match["word"]
    if match["op"] == ":+":
        return match["word"] if value else ""
    return value


def _with_onbuild(found: list[Instruction]) -> list[Instruction]:
    """The instructions, with each ONBUILD's own instruction in its place: an image
    built FROM that stage runs it."""
    unwrapped = []
    for instruction in found:
        if instruction.keyword == "ONBUILD":
            keyword, _, rest = instruction.arguments.strip().partition(" ")
            instruction = Instruction(
                keyword.upper(), rest.strip(), instruction.first_line, instruction.last_line
            )
        unwrapped.append(instruction)
    return unwrapped


def _image_of(keyword: str, arguments: str) -> tuple[str | None, str | None]:
    """The image an instruction names, and the stage alias it makes."""
    if keyword == "FROM" and (match := _FROM.match(arguments)):
        return match["image"], match["alias"]
    if keyword == "COPY" and (match := _COPY_FROM.search(arguments)):
        return match["image"], None
    return None, None
