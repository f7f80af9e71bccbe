"""The edge's access log: HAProxy sends one datagram per request to a UNIX socket that
the control plane reads; each line becomes an EdgeRequest.

The socket is the control plane's: while it is down HAProxy's datagrams are
dropped (never queued, never slowing a request), and the next server binds it
again.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
# What HAProxy writes per request (haproxy.cfg's log-format): backend, server,
# status, total time in ms, bytes sent.
LOG_FORMAT = "hangar1 %b %s %ST %Ta %B"
MAX_LINE = 2048


@dataclass(frozen=True)
class EdgeRequest:
    app: str  # the backend: an app, or the edge's own "_not_found"
    machine: str  # "<NOSRV>" when no machine took it
    status: int  # -1 when the client went away first
    duration_ms: int
    bytes_sent: int


def parse_line(line: bytes) -> EdgeRequest | None:
    """One log line, or None if it is not one of ours."""
    words = line.decode("utf-8", "replace").split()
    if len(words) != 6 or words[0] != "hangar1":
        return None
    try:
        return EdgeRequest(words[1], words[2], int(words[3]), int(words[4]), int(words[5]))
    except ValueError:
        return None


class AccessLogReceiver:
    """Reads the edge's datagrams in a thread of its own until closed."""

    def __init__(self, path: Path, on_request: Callable[[EdgeRequest], None]) -> None:
        self._path = path
        self._on_request = on_request
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._thread = threading.Thread(target=self._read, name="edge-access-log", daemon=True)

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # a socket the last server left
        self._socket.bind(str(self._path))
        self._thread.start()

    def close(self) -> None:
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        self._thread.join(5)

    def _read(self) -> None:
        while True:
            try:
                line = self._socket.recv(MAX_LINE)
            except OSError:  # closed
                return
            request = parse_line(line)
            if request is not None:
                try:
                    self._on_request(request)
                except Exception:
                    log.exception("counting an edge request failed")
