"""Wait until a machine answers its health checks on 127.0.0.1 (stdlib only)."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable

from hangar.edge.listening import listening
from hangar.errors import HealthCheckFailed
from hangar.ports import CheckSpec, ProbeTarget

HOST = "127.0.0.1"  # machines publish on loopback only
HOLD_S = 0.2  # a proxy with nothing behind it closes at once; the app keeps the connection
RETRY_S = 0.2  # until a check first passes, it is retried at least this often


class HttpProbe:
    """The HealthProbe port: checks a machine on its published loopback port."""

    def wait_healthy(
        self,
        target: ProbeTarget,
        checks: list[CheckSpec],
        timeout_s: float,
        running: Callable[[], bool] = lambda: True,
    ) -> None:
        wait_healthy(target, checks, timeout_s, running=running)


def describe(check: CheckSpec, target: ProbeTarget) -> str:
    if check.kind == "tcp":
        return f"tcp check on port {target.internal_port}"
    return f"http check {check.method} {check.path} on port {target.internal_port}"


def wait_healthy(
    target: ProbeTarget,
    checks: list[CheckSpec],
    timeout_s: float,
    grace_s: float = 0,
    running: Callable[[], bool] = lambda: True,
) -> None:
    """Poll every check until each has passed once.

    Polling starts at once and a failed check is tried again after its interval
    or RETRY_S, whichever is shorter: a machine takes traffic as soon as it can.
    Failures only count after the grace period (the largest of `grace_s` and the
    checks' own), so the deadline is grace + timeout_s.
    Raises HealthCheckFailed naming the first check still failing and why.
    """
    start = time.monotonic()
    grace = max([grace_s, *(c.grace_s for c in checks)])
    deadline = start + grace + timeout_s
    next_try = dict.fromkeys(checks, start)
    while next_try:
        for check, due in list(next_try.items()):
            now = time.monotonic()
            if now < due and now < deadline:
                continue
            reason = run_check(target, check, max(min(check.timeout_s, deadline - now), 0.1))
            if not reason:
                del next_try[check]
            elif time.monotonic() >= deadline or not running():
                raise _failed(target, check, reason)
            else:
                next_try[check] = time.monotonic() + min(check.interval_s, RETRY_S)
        if next_try:
            _sleep_until(min(next_try.values()), deadline)


def run_check(target: ProbeTarget, check: CheckSpec, timeout_s: float) -> str:
    """Run `check` once; return "" on success, else the reason it failed."""
    try:
        if check.kind == "tcp":
            return _tcp_check(target, timeout_s)
        return _http_check(target.host_port, check, timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _tcp_check(target: ProbeTarget, timeout_s: float) -> str:
    """The app's own socket must listen (when this host can see it), and a connection
    through the published port must stay open: Docker's proxy accepts either way."""
    seen = None
    if target.pid is not None and target.container_id:
        seen = listening(target.pid, target.container_id)
        if seen is not None and (why := seen.verdict(target.internal_port)):
            return why
    with socket.create_connection((HOST, target.host_port), timeout=timeout_s) as sock:
        # The app's own socket listens: the published port leads to it. Unseen, a
        # connection that stays open a moment is the only sign something is behind it.
        return "" if seen is not None else _held_open(sock)


def _held_open(sock: socket.socket) -> str:
    sock.settimeout(HOLD_S)
    try:
        if sock.recv(1) == b"":
            return "the connection was closed at once: nothing listens behind the port"
    except TimeoutError:
        return ""  # still open: the app holds it
    return ""  # the app spoke first (a banner)


def _http_check(port: int, check: CheckSpec, timeout_s: float) -> str:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        conn.request(check.method, check.path, headers={"User-Agent": "hangar-health"})
        status = conn.getresponse().status
    finally:
        conn.close()
    return "" if 200 <= status < 400 else f"answered HTTP {status}"


def _sleep_until(when: float, deadline: float) -> None:
    time.sleep(max(0.0, min(when, deadline) - time.monotonic()))


def _failed(target: ProbeTarget, check: CheckSpec, reason: str) -> HealthCheckFailed:
    return HealthCheckFailed(
        f"machine failed its {describe(check, target)}: {reason}",
        "Check `hangar logs` and that the app listens on 0.0.0.0 at internal_port.",
    )
