"""Which files of a project folder go into its build context (.dockerignore)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pathspec import GitIgnoreSpec

IGNORE_FILE = ".dockerignore"
ALWAYS_INCLUDED = frozenset({"Dockerfile", IGNORE_FILE})


def load_ignore_spec(folder: Path) -> GitIgnoreSpec:
    """The folder's .dockerignore as gitignore-style patterns (empty if absent).

    gitignore semantics (pathspec's GitIgnoreSpec) differ slightly from Docker's:
    an unanchored pattern like `*.log` matches in every directory, not only at
    the top; write `/name` to anchor a pattern at the folder's root.
    """
    path = folder / IGNORE_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return GitIgnoreSpec.from_lines(lines)


def included_paths(folder: Path) -> Iterator[str]:
    """Relative POSIX paths to pack, sorted, each directory before its contents.

    Yields directories, regular files and symlinks; skips sockets, fifos and
    devices. Dockerfile and .dockerignore are always included.
    """
    spec = load_ignore_spec(folder)
    prune = not _has_exceptions(spec)
    yield from _walk(folder, "", spec, prune)


def _walk(folder: Path, rel_dir: str, spec: GitIgnoreSpec, prune: bool) -> Iterator[str]:
    with os.scandir(folder / rel_dir) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        if entry.is_dir(follow_symlinks=False):
            ignored = spec.match_file(rel + "/")
            if not ignored:
                yield rel
            if not (ignored and prune):
                yield from _walk(folder, rel, spec, prune)
        elif _is_packable(entry) and _included(rel, spec):
            yield rel


def _included(rel: str, spec: GitIgnoreSpec) -> bool:
    return rel in ALWAYS_INCLUDED or not spec.match_file(rel)


def _is_packable(entry: os.DirEntry[str]) -> bool:
    return entry.is_symlink() or entry.is_file(follow_symlinks=False)


def _has_exceptions(spec: GitIgnoreSpec) -> bool:
    """True if some `!pattern` may re-include files below an ignored directory."""
    return any(pattern.include is False for pattern in spec.patterns)
