"""Build-context archives: .dockerignore on packing, hostile tarballs on unpacking."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hangar.builder.archive import pack, require_dockerfile, unpack_safely
from hangar.errors import InvalidInput

MiB = 1 << 20


def write(root: Path, rel: str, text: str = "x", mode: int = 0o644) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def names_in(archive: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return set(tar.getnames())


# -- pack ------------------------------------------------------------------------


def test_pack_honours_dockerignore_with_exceptions(tmp_path: Path) -> None:
    for rel in [
        "Dockerfile",
        "app.py",
        "secret.env",
        "debug.log",
        "keep.log",
        "logs/old.log",
        "node_modules/lib/index.js",
        "src/main.py",
        "src/cache/blob.bin",
    ]:
        write(tmp_path, rel)
    write(
        tmp_path,
        ".dockerignore",
        "# comment\n*.log\n!keep.log\nsecret.env\nnode_modules/\nsrc/cache\nDockerfile\n",
    )

    names = names_in(pack(tmp_path))

    assert {"Dockerfile", ".dockerignore", "app.py", "keep.log", "src/main.py"} <= names
    for excluded in ["secret.env", "debug.log", "logs/old.log", "node_modules/lib/index.js"]:
        assert excluded not in names
    assert "src/cache/blob.bin" not in names
    assert "node_modules" not in names


def test_pack_without_exceptions_prunes_ignored_directories(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile")
    write(tmp_path, "vendor/deep/file.txt")
    write(tmp_path, ".dockerignore", "vendor\n")

    assert names_in(pack(tmp_path)) == {"Dockerfile", ".dockerignore"}


def test_pack_without_dockerignore_takes_everything(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile")
    write(tmp_path, "a/b/c.txt")
    (tmp_path / "empty").mkdir()

    assert names_in(pack(tmp_path)) == {"Dockerfile", "a", "a/b", "a/b/c.txt", "empty"}


def test_pack_keeps_modes_and_symlinks_and_drops_owners(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile")
    write(tmp_path, "run.sh", "#!/bin/sh\n", mode=0o755)
    (tmp_path / "link").symlink_to("run.sh")

    with tarfile.open(fileobj=io.BytesIO(pack(tmp_path)), mode="r:gz") as tar:
        script, link = tar.getmember("run.sh"), tar.getmember("link")

    assert script.mode & 0o777 == 0o755
    assert link.issym() and link.linkname == "run.sh"
    assert (script.uid, script.gid, script.uname, script.gname) == (0, 0, "", "")


def test_pack_skips_fifos(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile")
    os.mkfifo(tmp_path / "pipe")

    assert names_in(pack(tmp_path)) == {"Dockerfile"}


def test_pack_then_unpack_round_trips(tmp_path: Path) -> None:
    src, dest = tmp_path / "src", tmp_path / "dest"
    write(src, "Dockerfile", "FROM scratch\n")
    write(src, "www/cgi-bin/slow", "#!/bin/sh\n", mode=0o755)
    write(src, "www/index.html", "<h1>hi</h1>")
    (src / "www/home.html").symlink_to("index.html")
    os.link(src / "www/index.html", src / "www/hard.html")
    dest.mkdir()

    unpack_safely(io.BytesIO(pack(src)), dest, max_bytes=MiB)

    assert (dest / "Dockerfile").read_text() == "FROM scratch\n"
    assert (dest / "www/index.html").read_text() == "<h1>hi</h1>"
    assert os.readlink(dest / "www/home.html") == "index.html"
    assert (dest / "www/hard.html").read_text() == "<h1>hi</h1>"
    assert stat.S_IMODE((dest / "www/cgi-bin/slow").stat().st_mode) == 0o755


def test_require_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no Dockerfile in") as caught:
        require_dockerfile(tmp_path)
    assert caught.value.hint

    write(tmp_path, "Dockerfile")
    require_dockerfile(tmp_path)


# -- unpack_safely: hostile archives ----------------------------------------------

Entry = Callable[[tarfile.TarFile], None]


def file_entry(name: str, data: bytes = b"x") -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    return add


def special_entry(name: str, kind: bytes, linkname: str = "") -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        tar.addfile(info)

    return add


def declared_size_entry(name: str, size: int) -> Entry:
    """A header that claims `size` bytes (the content is never read: refused first)."""

    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.fileobj.write(info.tobuf())

    return add


def make_tar(*entries: Entry, gz: bool = True) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as tar:
        for add in entries:
            add(tar)
    buffer.seek(0)
    return buffer


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    path = tmp_path / "dest"
    path.mkdir()
    return path


HOSTILE: dict[str, tuple[list[Entry], str]] = {
    "absolute path": ([file_entry("/etc/cron.d/pwned")], "absolute path"),
    "dotdot": ([file_entry("a/../../pwned")], "'..' component"),
    "dotdot only": ([file_entry("..")], "'..' component"),
    "absolute symlink": ([special_entry("link", tarfile.SYMTYPE, "/etc/passwd")], "symlink"),
    "relative symlink out": ([special_entry("a/link", tarfile.SYMTYPE, "../../x")], "symlink"),
    "hardlink out": ([special_entry("link", tarfile.LNKTYPE, "../outside")], "hard link"),
    "absolute hardlink": ([special_entry("link", tarfile.LNKTYPE, "/etc/shadow")], "hard link"),
    "hardlink to nothing": ([special_entry("link", tarfile.LNKTYPE, "missing")], "hard link"),
    "char device": ([special_entry("null", tarfile.CHRTYPE)], "device or fifo"),
    "block device": ([special_entry("sda", tarfile.BLKTYPE)], "device or fifo"),
    "fifo": ([special_entry("pipe", tarfile.FIFOTYPE)], "device or fifo"),
    "write through escaping link": (
        [
            special_entry("up", tarfile.SYMTYPE, "sub/.."),
            special_entry("sub", tarfile.SYMTYPE, "."),
            file_entry("up/pwned"),
        ],
        "written through a link",
    ),
    "link re-aimed by a later entry": (
        [
            special_entry("up", tarfile.SYMTYPE, "sub/.."),
            special_entry("sub", tarfile.SYMTYPE, "."),
        ],
        "resolves outside",
    ),
    "name part over 255 bytes": ([file_entry("d/" + "n" * 256)], "longer than 255 bytes"),
    # non-ASCII, so tarfile keeps the name in a PAX header, NUL and all
    "NUL in a name": ([file_entry("\u00e9\x00b")], "NUL character"),
    "NUL in a link target": ([special_entry("l", tarfile.SYMTYPE, "\u00e9\x00b")], "NUL character"),
    "path over the system's limit": ([file_entry("/".join(["d" * 200] * 25))], "cannot be written"),
    "declared size too big": ([declared_size_entry("big", 10 * MiB)], "expands beyond"),
    "too many small files": (
        [file_entry(f"f{i}", b"x" * 1000) for i in range(1000)],
        "expands beyond",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_unpack_refuses_hostile_archive(case: str, dest: Path, tmp_path: Path) -> None:
    entries, reason = HOSTILE[case]

    with pytest.raises(InvalidInput, match=reason) as caught:
        unpack_safely(make_tar(*entries), dest, max_bytes=MiB)

    assert caught.value.hint
    assert not (tmp_path / "pwned").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]


def test_refusal_names_the_entry(dest: Path) -> None:
    with pytest.raises(InvalidInput, match=r"'/etc/cron.d/pwned'"):
        unpack_safely(make_tar(file_entry("/etc/cron.d/pwned")), dest, max_bytes=MiB)


def test_unpack_accepts_inside_links_and_dot_root(dest: Path) -> None:
    archive = make_tar(
        special_entry("./", tarfile.DIRTYPE),
        file_entry("./www/index.html", b"hi"),
        special_entry("www/home.html", tarfile.SYMTYPE, "index.html"),
        special_entry("current", tarfile.SYMTYPE, "www"),
        file_entry("current/via-link.txt", b"ok"),
        special_entry("www/copy.html", tarfile.LNKTYPE, "www/index.html"),
        gz=False,
    )

    unpack_safely(archive, dest, max_bytes=MiB)

    assert (dest / "www/home.html").read_text() == "hi"
    assert (dest / "www/via-link.txt").read_text() == "ok"
    assert (dest / "www/copy.html").read_text() == "hi"


def test_unpack_lets_a_later_entry_replace_an_earlier_one(dest: Path) -> None:
    archive = make_tar(
        special_entry("app.txt", tarfile.SYMTYPE, "other"), file_entry("app.txt", b"new")
    )

    unpack_safely(archive, dest, max_bytes=MiB)

    assert not (dest / "app.txt").is_symlink()
    assert (dest / "app.txt").read_text() == "new"


def test_unpack_refuses_garbage(dest: Path) -> None:
    with pytest.raises(InvalidInput, match="not a valid tar"):
        unpack_safely(io.BytesIO(b"this is not an archive" * 100), dest, max_bytes=MiB)


def test_unpack_refuses_gzip_bomb(dest: Path) -> None:
    bomb = make_tar(file_entry("zeros", bytes(4 * MiB)))
    assert len(bomb.getvalue()) < 64 * 1024

    with pytest.raises(InvalidInput, match="expands beyond"):
        unpack_safely(bomb, dest, max_bytes=MiB)
    assert not (dest / "zeros").exists()
