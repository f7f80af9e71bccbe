"""Which TCP ports a machine's own sockets listen on, as its network namespace sees them.

Docker's userland proxy accepts on a published port whether or not the app
listens, so a connection through it proves nothing. The kernel's socket table
of the container's network namespace (/proc/PID/net/tcp and tcp6, read as
root on the engine's host) does.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # TCP_LISTEN in the kernel's `st` column
LOOPBACKS = frozenset({"127.0.0.1", "::1"})


@dataclass(frozen=True)
class Listening:
    """The addresses the machine's sockets listen on, per port."""

    ports: dict[int, frozenset[str]]

    def verdict(self, port: int) -> str:
        """ "" when something outside the machine can reach `port`, else why not."""
        addresses = self.ports.get(port)
        if not addresses:
            return f"nothing listens on port {port} inside the machine"
        if addresses <= LOOPBACKS:
            return (
                f"the app listens on {', '.join(sorted(addresses))}:{port} only, "
                "which the edge cannot reach; listen on 0.0.0.0"
            )
        return ""


def listening(pid: int, container_id: str) -> Listening | None:
    """The listening sockets of the container whose process is `pid`.

    None when this host cannot tell: no such process here (an engine on
    another host), or `pid` is not a process of that container.
    """
    base = PROC / str(pid)
    try:
        if container_id not in (base / "cgroup").read_text():
            return None
        tables = [(base / "net" / name).read_text() for name in ("tcp", "tcp6")]
    except OSError:
        return None
    ports: dict[int, set[str]] = {}
    for table, family in zip(tables, (socket.AF_INET, socket.AF_INET6), strict=True):
        for port, address in _listeners(table, family):
            ports.setdefault(port, set()).add(address)
    return Listening({port: frozenset(found) for port, found in ports.items()})


def _listeners(table: str, family: int) -> list[tuple[int, str]]:
    found = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == LISTEN:
            address, port = fields[1].split(":")
            found.append((int(port, 16), _address(address, family)))
    return found


def _address(hex_address: str, family: int) -> str:
    """The kernel prints each 32-bit word of the address in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, words)
