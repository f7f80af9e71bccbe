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
from pathlib import Path

from hangar.ports import EdgeRequest

log = logging.getLogger(__name__)
# What HAProxy writes per request (haproxy.cfg's log-format): backend, server,
# status, total time in ms, bytes sent, method, request id, then the path: without
# the query string, which may hold secrets, and last, so nothing in it can shift
# the other fields.
LOG_FORMAT = "hangar2 %b %s %ST %Ta %B %HM %[var(txn.request_id)] %HP"
MAX_LINE = 2048
_FIELDS = 8  # before the path


def parse_line(line: bytes) -> EdgeRequest | None:
    """One log line, or None if it is not one of ours."""
    words = line.decode("utf-8", "replace").rstrip("\n").split(" ", _FIELDS)
    if len(words) != _FIELDS + 1 or words[0] != "hangar2":
        return None
    try:
        status, duration, sent = int(words[3]), int(words[4]), int(words[5])
    except ValueError:
        return None
    return EdgeRequest(words[1], words[2], status, duration, sent, words[6], words[7], words[8])


class AccessLogReceiver:
    """Reads the edge's datagrams in a thread of its own until closed."""

    def __init__(
        self,
        path: Path,
        on_request: Callable[[EdgeRequest], None],
        skip: frozenset[str] = frozenset(),
    ) -> None:
        self._path = path
        self._on_request = on_request
        self._skip = skip  # backends whose requests are not passed on
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
            if request is not None and request.app not in self._skip:
                try:
                    self._on_request(request)
                except Exception:
                    log.exception("counting an edge request failed")
