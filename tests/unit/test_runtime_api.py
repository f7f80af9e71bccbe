"""The runtime API client rides out the moment a reloading master is not listening."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from hangar.edge.runtime_api import RuntimeAPI
from hangar.errors import EdgeFailure


def _answer_once_after(path: Path, delay_s: float) -> threading.Thread:
    def serve() -> None:
        time.sleep(delay_s)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(path))
            listener.listen(1)
            listener.settimeout(5)
            conn, _ = listener.accept()
            with conn:
                conn.recv(100)
                conn.sendall(b"pong\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_socket_that_comes_back_within_reconnect_s_answers(tmp_path: Path) -> None:
    path = tmp_path / "master.sock"
    server = _answer_once_after(path, 0.3)
    assert RuntimeAPI(path, reconnect_s=2.0).send("show proc").strip() == "pong"
    server.join(5)


def test_without_reconnect_a_missing_socket_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(EdgeFailure, match="did not answer `show proc`"):
        RuntimeAPI(tmp_path / "none.sock").send("show proc")
