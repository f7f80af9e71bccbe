"""Build contexts as gzip tarballs: pack on the client, unpack safely on the server.

`pack` honours .dockerignore. `unpack_safely` treats the archive as hostile: it
refuses (InvalidInput naming the entry) absolute paths, `..` components, links
whose target resolves outside the destination, devices and fifos, and archives
that expand beyond a size limit.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NoReturn

from hangar.builder.dockerignore import included_paths
from hangar.errors import InvalidInput

NAME_MAX = 255  # bytes in one path component, on Linux file systems
HEADER_BYTES = 512  # each tar entry costs at least one header block
COPY_CHUNK = 1 << 16
ARCHIVE_HINT = "deploy from a normal project folder; Hangar packs it for you"


# -- packing -------------------------------------------------------------------


def require_dockerfile(folder: Path, dockerfile: str | None = None) -> None:
    """The Dockerfile ([build] dockerfile, else ./Dockerfile) must be a file in `folder`."""
    name = dockerfile or "Dockerfile"
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise InvalidInput(
            f"[build] dockerfile {name!r} is outside the project folder",
            hint="use a path inside the folder you deploy",
        )
    if not path.is_file():
        raise InvalidInput(
            f"no {name} in {folder}",
            hint="add a Dockerfile at the top of the project folder, or deploy the right folder",
        )


def pack(folder: Path) -> bytes:
    """A gzip tar of `folder` without what its .dockerignore excludes."""
    buffer = io.BytesIO()
    pack_into(folder, buffer)
    return buffer.getvalue()


def pack_into(folder: Path, out: BinaryIO) -> None:
    """Write the gzip tar of `folder` to `out` (a file, a spooled temp file...)."""
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar:
        for rel in included_paths(folder):
            tar.add(folder / rel, arcname=rel, recursive=False, filter=_anonymous)


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Drop the packer's user and group: the image must not depend on them."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


# -- unpacking -----------------------------------------------------------------


class ArchiveTooLarge(InvalidInput):
    """The archive expands beyond the bytes it was allowed."""


def unpack_safely(archive: BinaryIO, dest: Path, max_bytes: int) -> int:
    """Extract a (gzip) tar into the existing directory `dest`, refusing anything unsafe.

    `max_bytes` bounds the expanded size: file contents plus 512 bytes per entry;
    returns that size. On InvalidInput `dest` may hold a partial extraction:
    use a fresh directory and discard it on error.
    """
    root = Path(os.path.realpath(dest))
    try:
        size = _extract_all(archive, root, max_bytes)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InvalidInput(
            f"the archive is not a valid tar or tar.gz: {exc}", ARCHIVE_HINT
        ) from exc
    _check_links_stay_inside(root)
    return size


def _extract_all(archive: BinaryIO, root: Path, max_bytes: int) -> int:
    total = 0
    with tarfile.open(fileobj=archive, mode="r|*") as tar:
        for member in tar:
            total += HEADER_BYTES + max(member.size, 0)
            if total > max_bytes:
                raise ArchiveTooLarge(
                    f"archive expands beyond {max_bytes} bytes (at entry {member.name!r})",
                    hint="make the build context smaller: list big files in .dockerignore",
                )
            try:
                _extract_member(tar, member, root)
            except OSError as exc:  # a name the file system refuses, say; never the server's path
                _refuse(member, f"cannot be written here ({exc.strerror or exc})")
    return total


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path) -> None:
    rel = _relative_path(member)
    if not rel.parts:
        if member.isdir():
            return  # the archive's own root, "./"
        _refuse(member, "has an empty path")
    target = _target_path(root, rel, member)
    if member.isdir():
        _make_dir(target, member)
    elif member.isreg():
        _write_file(tar, member, target)
    elif member.issym():
        _make_symlink(root, target, member)
    elif member.islnk():
        _make_hardlink(root, target, member)
    elif member.ischr() or member.isblk() or member.isfifo():
        _refuse(member, "is a device or fifo")
    else:
        _refuse(member, f"has an unsupported type {member.type!r}")


def _relative_path(member: tarfile.TarInfo) -> PurePosixPath:
    if "\x00" in member.name or "\x00" in member.linkname:
        _refuse(member, "has a NUL character in its name")
    path = PurePosixPath(member.name)
    if any(len(part.encode("utf-8", "surrogateescape")) > NAME_MAX for part in path.parts):
        _refuse(member, f"has a name part longer than {NAME_MAX} bytes")
    if path.is_absolute():
        _refuse(member, "has an absolute path")
    if ".." in path.parts:
        _refuse(member, "has a '..' component")
    return _without_dots(path)


def _without_dots(path: PurePosixPath) -> PurePosixPath:
    return PurePosixPath(*[part for part in path.parts if part != "."])


def _target_path(root: Path, rel: PurePosixPath, member: tarfile.TarInfo) -> Path:
    """Where `member` lands; its parent directory must resolve inside `root`."""
    parent = Path(os.path.realpath(root.joinpath(*rel.parent.parts)))
    if not _inside(root, parent):
        _refuse(member, "would be written through a link that leaves the destination")
    target = parent / rel.name
    _clear_for(target, member)
    return target


def _clear_for(target: Path, member: tarfile.TarInfo) -> None:
    """Make room for `member` at `target`: a later entry replaces an earlier one."""
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir() and not member.isdir():
        _refuse(member, "would replace a directory")


def _make_dir(target: Path, member: tarfile.TarInfo) -> None:
    target.mkdir(parents=True, exist_ok=True)
    target.chmod((member.mode & 0o777) | 0o700)


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    if source is None:
        _refuse(member, "has no readable content")
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with source, os.fdopen(os.open(target, flags, 0o600), "wb") as out:
        shutil.copyfileobj(source, out, COPY_CHUNK)
    target.chmod((member.mode & 0o777) | 0o600)
    with contextlib.suppress(OverflowError, ValueError, OSError):
        os.utime(target, (member.mtime, member.mtime))


def _make_symlink(root: Path, target: Path, member: tarfile.TarInfo) -> None:
    link = PurePosixPath(member.linkname)
    resolved = Path(os.path.realpath(target.parent / link))
    if not member.linkname or link.is_absolute() or not _inside(root, resolved):
        _refuse(member, f"is a symlink to {member.linkname!r}, outside the destination")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(link)


def _make_hardlink(root: Path, target: Path, member: tarfile.TarInfo) -> None:
    link = PurePosixPath(member.linkname)
    source = Path(os.path.realpath(root / _without_dots(link)))
    if link.is_absolute() or ".." in link.parts or not _inside(root, source):
        _refuse(member, f"is a hard link to {member.linkname!r}, outside the destination")
    if source.is_symlink() or not source.is_file():
        _refuse(member, f"is a hard link to {member.linkname!r}, not an extracted file")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, target, follow_symlinks=False)


def _check_links_stay_inside(root: Path) -> None:
    """Links are checked when made, but a later entry can re-aim a path they use."""
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            if path.is_symlink() and not _inside(root, Path(os.path.realpath(path))):
                raise InvalidInput(
                    f"archive entry {str(path.relative_to(root))!r} is a symlink that "
                    "resolves outside the destination",
                    hint=ARCHIVE_HINT,
                )


def _inside(root: Path, path: Path) -> bool:
    return path == root or root in path.parents


def _refuse(member: tarfile.TarInfo, why: str) -> NoReturn:
    raise InvalidInput(f"archive entry {member.name!r} {why}; refusing it", hint=ARCHIVE_HINT)
