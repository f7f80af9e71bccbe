"""`ADD <url>` sources, fetched by Hangar under the egress policy instead of by the engine.

Each remote source of an `ADD` is downloaded with `safe_fetch` (refused if it
points at this host or a private network) and the instruction is rewritten to
take the checked copy from `LocalSources`, so the engine itself never opens a
connection the user chose. Sources that use build args (`$VERSION`) cannot be
checked before the engine expands them, so they are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hangar.builder.dockerfile import Instruction, instructions, replace_instruction
from hangar.builder.egress import EgressPolicy
from hangar.builder.local_sources import LocalSources
from hangar.builder.safe_fetch import Fetched, fetch
from hangar.errors import BuildFailed

_REMOTE = re.compile(r"^https?://", re.I)
Fetcher = Callable[[str, Path, EgressPolicy], Fetched]


@dataclass(frozen=True)
class AddInstruction:
    instruction: Instruction
    flags: list[str]
    sources: list[str]
    dest: str
    json_form: bool

    def remote(self) -> list[str]:
        return [source for source in self.sources if _REMOTE.match(source)]

    def written_with(self, replacements: dict[str, str]) -> str:
        paths = [replacements.get(source, source) for source in self.sources] + [self.dest]
        words = self.flags + ([json.dumps(paths)] if self.json_form else paths)
        return " ".join(["ADD", *words])


def parse_add(instruction: Instruction) -> AddInstruction | None:
    """The flags, sources and destination of an ADD (None for anything else)."""
    if instruction.keyword != "ADD":
        return None
    words = instruction.arguments.split()
    flags = [w for w in words[: _flag_count(words)]]
    rest = instruction.arguments.split(None, len(flags))[-1] if flags else instruction.arguments
    paths = _json_paths(rest) if rest.startswith("[") else rest.split()
    if paths is None or len(paths) < 2:
        return None  # malformed: the engine says what is wrong
    return AddInstruction(instruction, flags, paths[:-1], paths[-1], rest.startswith("["))


def localise_remote_adds(
    dockerfile: Path,
    workdir: Path,
    served: LocalSources,
    policy: EgressPolicy,
    on_line: Callable[[str], None],
    fetcher: Fetcher = fetch,
) -> None:
    """Fetch every remote ADD source of `dockerfile` and rewrite it (in place) to the copy."""
    text = dockerfile.read_text(encoding="utf-8")
    adds = [a for a in map(parse_add, instructions(text)) if a is not None and a.remote()]
    for add in adds:
        replacements: dict[str, str] = {}
        for url in add.remote():
            if "$" in url:
                raise BuildFailed(
                    f"ADD {url}: a remote source with a build arg cannot be checked",
                    hint="write the address out in full, or download it in a RUN step",
                )
            on_line(f"Fetching {url}")
            fetched = fetcher(
                url, workdir / f"source-{len(replacements)}-{add.instruction.first_line}", policy
            )
            replacements[url] = served.serve(fetched, _file_name(url))
        text = replace_instruction(text, add.instruction, add.written_with(replacements))
    if adds:
        dockerfile.write_text(text, encoding="utf-8")


def _flag_count(words: list[str]) -> int:
    count = 0
    while count < len(words) and words[count].startswith("--"):
        count += 1
    return count


def _json_paths(rest: str) -> list[str] | None:
    try:
        paths = json.loads(rest)
    except json.JSONDecodeError:
        return None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return None
    return paths


def _file_name(url: str) -> str:
    """The name the engine gives a downloaded file: the last part of the URL's path."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])
