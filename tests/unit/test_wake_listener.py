"""The control plane's end of the edge's `wake APP` question (a real UNIX socket)."""

from __future__ import annotations

import socket

import pytest

from hangar.edge.wake import WakeListener


def ask(path, line: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(line)
        return sock.recv(64)


@pytest.fixture
def asked(tmp_path):
    apps: list[str] = []

    def on_wake(app: str) -> bool:
        apps.append(app)
        if app == "broken":
            raise RuntimeError("the store is gone")
        return app == "web"

    listener = WakeListener(tmp_path / "wake.sock", on_wake)
    listener.start()
    yield tmp_path / "wake.sock", apps
    listener.close()


def test_wake_is_answered_starting_or_no(asked):
    path, apps = asked
    assert ask(path, b"wake web\n") == b"starting\n"
    assert ask(path, b"wake other\n") == b"no\n"
    assert ask(path, b"wake broken\n") == b"no\n"  # a failure is a no, never a hang
    assert apps == ["web", "other", "broken"]
    assert (path.stat().st_mode & 0o777) == 0o600


def test_anything_else_is_a_no_and_asks_nothing(asked):
    path, apps = asked
    assert ask(path, b"sleep web\n") == b"no\n"
    assert ask(path, b"wake\n") == b"no\n"
    assert apps == []
