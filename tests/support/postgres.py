"""A throwaway PostgreSQL server from Debian's package, on a unix socket in a tmp dir."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Yield a postgresql:// URL to a fresh server; stop it and remove its files after."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/bootstrap.sh")
    root = Path(tempfile.mkdtemp(prefix="hangar-pg-"))
    shutil.chown(root, "postgres")
    data, log = root / "data", root / "server.log"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_postgres, bindir / "initdb", "-A", "trust", "-U", "hangar", "-D", data],
        check=True,
        capture_output=True,
    )
    options = f"-k {root} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [*as_postgres, bindir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [bindir / "createdb", "-h", root, "-U", "hangar", "hangar"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://hangar@/hangar?host={root}"
    finally:
        subprocess.run(
            [*as_postgres, bindir / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)
