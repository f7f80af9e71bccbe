"""A Dockerfile read as instructions, each with the physical lines it spans.

Only what Hangar needs to look at before the engine builds: the instruction
word, its arguments as one logical line (continuations joined, comments
dropped) and where it sits, so that one instruction can be rewritten while
every other line, and every line number, stays as the author wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^\s*#\s*(\w+)\s*=\s*(\S+)\s*$")
_WORD = re.compile(r"^\s*(\w+)(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, ADD, RUN...
    arguments: str  # the rest of the logical line
    first_line: int  # index into the file's lines
    last_line: int  # inclusive


def escape_character(lines: list[str]) -> str:
    """The `# escape=` parser directive's character, else a backslash."""
    for line in lines:
        match = _DIRECTIVE.match(line)
        if match is None:
            break
        if match[1].lower() == "escape":
            return match[2][:1]
    return "\\"


def instructions(text: str) -> list[Instruction]:
    """Every instruction of `text`, in order."""
    lines = text.splitlines()
    escape = escape_character(lines)
    found: list[Instruction] = []
    parts: list[str] = []
    first = 0
    for index, line in enumerate(lines):
        if not parts:
            first = index
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # the engine skips these mid-instruction too
            continue
        continued = stripped.endswith(escape)
        parts.append(stripped[:-1] if continued else stripped)
        if not continued:
            _append(found, " ".join(parts), first, index)
            parts = []
    if parts:
        _append(found, " ".join(parts), first, len(lines) - 1)
    return found


def _append(found: list[Instruction], logical: str, first: int, last: int) -> None:
    match = _WORD.match(logical)
    if match is not None:
        found.append(Instruction(match[1].upper(), (match[2] or "").strip(), first, last))


def replace_instruction(text: str, instruction: Instruction, replacement: str) -> str:
    """`text` with `instruction` written as `replacement`, on as many lines as before."""
    lines = text.splitlines()
    span = instruction.last_line - instruction.first_line + 1
    lines[instruction.first_line : instruction.last_line + 1] = [replacement] + [""] * (span - 1)
    return "\n".join(lines) + "\n"
