"""Pebble, the ACME test server (Debian's `pebble`), with pebble-challtestsrv as its DNS.

Everything listens on 127.0.0.1: Pebble's directory (HTTPS, with a certificate
made here), its management API, and the fake DNS that answers 127.0.0.1 for
every name unless told otherwise (`point`). Pebble validates HTTP-01 on
`http_port`: the edge's plain HTTP port.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hangar.edge.local_ca import LocalCA
from tests.support.backends import free_port

PEBBLE = shutil.which("pebble") or "/usr/bin/pebble"
CHALLTESTSRV = shutil.which("pebble-challtestsrv") or "/usr/bin/pebble-challtestsrv"


@dataclass
class Pebble:
    directory: str  # https://localhost:PORT/dir
    ca_file: Path  # trust this for the directory's own HTTPS
    management: str  # https://127.0.0.1:PORT
    dns_management: str  # http://127.0.0.1:PORT (pebble-challtestsrv)

    def point(self, hostname: str, address: str) -> None:
        """Make the fake DNS answer `address` for `hostname` (an A record)."""
        body = json.dumps({"host": f"{hostname}.", "addresses": [address]}).encode()
        urllib.request.urlopen(f"{self.dns_management}/add-a", data=body, timeout=5).close()

    def root_pem(self) -> bytes:
        """The root Pebble signs with (made anew at every start)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(
            f"{self.management}/roots/0", context=context, timeout=5
        ) as answer:
            return answer.read()


@contextlib.contextmanager
def running_pebble(folder: Path, http_port: int) -> Iterator[Pebble]:
    if not (os.access(PEBBLE, os.X_OK) and os.access(CHALLTESTSRV, os.X_OK)):
        pytest.skip("needs Debian's pebble package")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = _listener_certificate(folder)
    dns_port, dns_admin, acme_port, admin_port = (free_port() for _ in range(4))
    config = folder / "pebble.json"
    config.write_text(json.dumps({"pebble": {
        "listenAddress": f"127.0.0.1:{acme_port}",
        "managementListenAddress": f"127.0.0.1:{admin_port}",
        "certificate": str(cert),
        "privateKey": str(key),
        "httpPort": http_port,
        "tlsPort": free_port(),
        "ocspResponderURL": "",
        "externalAccountBindingRequired": False,
    }}))  # fmt: skip
    dns = _start(
        folder / "challtestsrv.log",
        [CHALLTESTSRV, "-dns01", f"127.0.0.1:{dns_port}", "-http01", "", "-https01", "",
         "-tlsalpn01", "", "-management", f"127.0.0.1:{dns_admin}",
         "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
    )  # fmt: skip
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
    acme = _start(
        folder / "pebble.log",
        [PEBBLE, "-config", str(config), "-dnsserver", f"127.0.0.1:{dns_port}"],
        env,
    )
    pebble = Pebble(
        f"https://localhost:{acme_port}/dir",  # the name its certificate has
        folder / "ca.crt",
        f"https://localhost:{admin_port}",
        f"http://127.0.0.1:{dns_admin}",
    )
    try:
        _wait_ready(pebble, [dns, acme])
        yield pebble
    finally:
        for process in (acme, dns):
            process.terminate()
            process.wait(timeout=10)


def _listener_certificate(folder: Path) -> tuple[Path, Path]:
    ca = LocalCA(folder / "listener-ca")
    issued = ca.issue(("localhost",))
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(issued.chain_pem)
    key.write_bytes(issued.key_pem)
    (folder / "ca.crt").write_bytes(ca.cert_path.read_bytes())
    return cert, key


def _start(log: Path, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)


def _wait_ready(pebble: Pebble, processes: list[subprocess.Popen], timeout_s: float = 20) -> None:
    context = ssl.create_default_context(cafile=str(pebble.ca_file))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("pebble or pebble-challtestsrv exited at start (see their logs)")
        try:
            urllib.request.urlopen(pebble.directory, context=context, timeout=2).close()
            _answers(f"{pebble.dns_management}/")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pebble did not answer at {pebble.directory} within {timeout_s} s")


def _answers(url: str) -> None:
    """Raise OSError unless something answers HTTP at `url` (any status will do)."""
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url, timeout=2).close()
