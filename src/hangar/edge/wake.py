"""Holding a request while its app's machine starts (fly's auto_start_machines).

A Lua action in HAProxy runs in the backend of each app whose machines may be
started on demand, when that app has no usable machine. It asks the control plane, over
a UNIX socket, to start one: `wake APP` answered by `starting` or `no`. On
`starting` it holds the request, looking every few milliseconds, until a
machine is routed (then HAProxy sends the request on as usual) or HOLD_S has
passed (then the app's 503 page); every second it asks again, and a `no` (the
start failed, nothing else can start) ends the wait with the 503 page. On a
first `no`, or with the control plane down, the request goes on at once. The
decisions are the control plane's; the edge only asks and waits.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from hangar.edge.files import write_atomic

log = logging.getLogger(__name__)

HOLD_S = 60.0  # a request waits this long for a machine to start
POLL_MS = 10
ASK_AGAIN_MS = 1000  # a held request asks again this often, and stops waiting on a `no`
_MAX_APP = 64

_SCRIPT = """\
-- Written by Hangar (edge/wake.py): hold a request while its app's machine starts.
local wake_socket = "unix@%(socket)s"

local function ask_to_wake(app)
  local sock = core.tcp()
  sock:settimeout(2)
  if not sock:connect(wake_socket) then
    return false
  end
  sock:send("wake " .. app .. "\\n")
  local answer = sock:receive("*l")
  sock:close()
  return answer == "starting"
end

core.register_action("hangar_hold", {"http-req"}, function(txn)
  local app = txn.f:be_name()
  if app == nil or txn.f:nbsrv(app) > 0 then
    return
  end
  if not ask_to_wake(app) then
    return
  end
  local waited = 0
  while txn.f:nbsrv(app) == 0 and waited < %(hold_ms)d do
    core.msleep(%(poll_ms)d)
    waited = waited + %(poll_ms)d
    if waited %% %(ask_ms)d == 0 and not ask_to_wake(app) then
      return -- the start failed and nothing else can start: the 503 page now
    end
  end
end, 0)
"""


def write_wake_script(script: Path, socket_path: Path) -> None:
    values = {
        "socket": socket_path,
        "hold_ms": int(HOLD_S * 1000),
        "poll_ms": POLL_MS,
        "ask_ms": ASK_AGAIN_MS,
    }
    write_atomic(script, _SCRIPT % values)


class WakeListener:
    """Answers the edge's `wake APP` in a thread of its own until closed.

    `on_wake(app)` decides at once, without waiting for the start: True if a
    machine is being started (the edge then holds the request).
    """

    def __init__(self, path: Path, on_wake: Callable[[str], bool]) -> None:
        self._path = path
        self._on_wake = on_wake
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._thread = threading.Thread(target=self._serve, name="edge-wake", daemon=True)

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # a socket the last server left
        self._socket.bind(str(self._path))
        self._path.chmod(0o600)
        self._socket.listen(64)
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:  # closed
                return
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.sendall(b"starting\n" if self._answer(conn) else b"no\n")

    def _answer(self, conn: socket.socket) -> bool:
        words = conn.recv(_MAX_APP + 8).decode("ascii", "replace").split()
        if len(words) != 2 or words[0] != "wake":
            return False
        try:
            return self._on_wake(words[1])
        except Exception:
            log.exception("waking app %s failed", words[1])
            return False
