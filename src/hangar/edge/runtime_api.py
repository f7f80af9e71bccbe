"""A small client for HAProxy's runtime API (stats socket or master CLI)."""

from __future__ import annotations

import csv
import io
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hangar.errors import EdgeFailure

ServerState = Literal["ready", "drain", "maint"]

_BUSY = "still has connections"


@dataclass(frozen=True)
class ServerStat:
    """One server line of `show stat`."""

    backend: str
    name: str
    status: str  # "no check", "UP", "DRAIN", "MAINT", ...
    addr: str  # "127.0.0.1:8080"
    scur: int  # requests being served now
    qcur: int  # requests queued for this server

    @property
    def in_flight(self) -> int:
        return self.scur + self.qcur

    @property
    def ready(self) -> bool:
        return not self.status.startswith(("MAINT", "DRAIN"))


class RuntimeAPI:
    """Send one command per connection; `prefix` routes master-CLI commands (`@!pid `).

    The master re-executes itself on every reload and refuses connections for a
    moment meanwhile: `reconnect_s` is how long a refused connect is tried again.
    """

    def __init__(
        self,
        socket_path: Path,
        timeout_s: float = 5.0,
        prefix: str = "",
        reconnect_s: float = 0.0,
    ) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s
        self.prefix = prefix
        self.reconnect_s = reconnect_s

    def send(self, command: str) -> str:
        """Send `command`, return the whole answer (HAProxy closes when done)."""
        try:
            with self._connect() as sock:
                sock.sendall(f"{self.prefix}{command}\n".encode())
                sock.shutdown(socket.SHUT_WR)
                return _read_all(sock).decode(errors="replace")
        except OSError as exc:
            raise EdgeFailure(
                f"HAProxy runtime API at {self.socket_path} did not answer"
                f" `{_first_line(command)}`: {exc}",
                "Check that HAProxy is running (see haproxy.log in the edge state dir).",
            ) from exc

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + self.reconnect_s
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout_s)
            try:
                sock.connect(str(self.socket_path))
                return sock
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
            except OSError:
                sock.close()
                raise

    def execute(self, command: str, *accepted: str) -> str:
        """Send `command`; raise EdgeFailure unless the answer is empty or in `accepted`."""
        answer = self.send(command).strip()
        if answer and answer not in accepted:
            raise EdgeFailure(f"HAProxy refused `{command}`: {answer}")
        return answer

    def add_server(self, backend: str, server: str, port: int, options: str) -> None:
        """Add a dynamic server; it starts in maintenance, so enable it after."""
        addr = f"127.0.0.1:{port}"
        command = f"add server {backend}/{server} {addr} {options}"
        self.execute(command, "New server registered.")

    def enable_health(self, backend: str, server: str) -> None:
        """Start the checks of a dynamic server (they start disabled)."""
        self.execute(f"enable health {backend}/{server}")

    def enable_server(self, backend: str, server: str) -> None:
        self.execute(f"enable server {backend}/{server}")

    def set_state(self, backend: str, server: str, state: ServerState) -> None:
        self.execute(f"set server {backend}/{server} state {state}")

    def shutdown_sessions(self, backend: str, server: str) -> None:
        self.execute(f"shutdown sessions server {backend}/{server}")

    def del_server(self, backend: str, server: str, timeout_s: float = 5.0) -> None:
        """Delete a server in maintenance; cut its sessions if they block the delete."""
        deadline = time.monotonic() + timeout_s
        command = f"del server {backend}/{server}"
        while True:
            answer = self.send(command).strip()
            if answer == "Server deleted.":
                return
            if _BUSY not in answer or time.monotonic() > deadline:
                raise EdgeFailure(f"HAProxy refused `{command}`: {answer}")
            self.shutdown_sessions(backend, server)
            time.sleep(0.05)

    def servers(self, backend: str | None = None) -> list[ServerStat]:
        """`show stat` for the servers of `backend` (or of every backend)."""
        target = backend or "-1"
        answer = self.send(f"show stat {target} 4 -1")
        if not answer.startswith("# pxname"):
            raise EdgeFailure(f"HAProxy refused `show stat {target}`: {answer.strip()}")
        return [_server_stat(row) for row in csv.DictReader(io.StringIO(answer[2:]))]

    def server(self, backend: str, server: str) -> ServerStat | None:
        """The stats of one server, or None when the backend or server is missing."""
        try:
            stats = self.servers(backend)
        except EdgeFailure:
            return None
        return next((s for s in stats if s.name == server), None)

    def backends(self) -> list[str]:
        """Names of all backends, from `show backend`."""
        answer = self.send("show backend")
        if not answer.startswith("# name"):
            raise EdgeFailure(f"HAProxy refused `show backend`: {answer.strip()}")
        return [line for line in answer.splitlines()[1:] if line]

    def show_map(self, map_file: Path) -> dict[str, str]:
        """Key → value of a loaded map file."""
        answer = self.send(f"show map {map_file}")
        pairs = (line.split()[1:3] for line in answer.splitlines() if line.startswith("0x"))
        return {key: value for key, value in pairs}

    def add_map_entry(self, map_file: Path, key: str, value: str) -> None:
        self.execute(f"add map {map_file} {key} {value}")

    def del_map_entry(self, map_file: Path, key: str) -> None:
        self.execute(f"del map {map_file} {key}")

    def replace_certificate(self, cert_file: Path, bundle: str) -> None:
        """New handshakes get this PEM bundle for `cert_file`; no reload, no dropped
        connection (`set ssl cert` opens a transaction, `commit ssl cert` applies it)."""
        self._expect(f"set ssl cert {cert_file} <<\n{bundle}", "Transaction")
        self._expect(f"commit ssl cert {cert_file}", "Success!")

    def add_certificate(self, crt_list: Path, cert_file: Path, bundle: str, sni: str) -> None:
        """Serve `bundle` for `sni` from now on, as the crt-list's new last line."""
        self._expect(f"new ssl cert {cert_file}", "New empty certificate store")
        self.replace_certificate(cert_file, bundle)
        self._expect(f"add ssl crt-list {crt_list} <<\n{cert_file} {sni}\n", "Success!")

    def _expect(self, command: str, marker: str) -> None:
        """Send `command` (a payload after `<<` is never quoted back) and raise
        EdgeFailure unless the answer says `marker`."""
        answer = self.send(command).strip()
        if marker not in answer:
            raise EdgeFailure(f"HAProxy refused `{_first_line(command)}`: {answer}")

    def pid(self) -> int:
        """The PID of the process answering on this socket."""
        for line in self.send("show info").splitlines():
            if line.startswith("Pid:"):
                return int(line.split(":", 1)[1])
        raise EdgeFailure(f"HAProxy at {self.socket_path} did not report its PID")


def _first_line(command: str) -> str:
    return command.split("\n", 1)[0]


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _server_stat(row: dict[str, str]) -> ServerStat:
    return ServerStat(
        backend=row["pxname"],
        name=row["svname"],
        status=row["status"],
        addr=row["addr"],
        scur=int(row["scur"] or 0),
        qcur=int(row["qcur"] or 0),
    )
