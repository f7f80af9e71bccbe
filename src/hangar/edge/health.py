"""Wait until a machine answers its health checks on 127.0.0.1 (stdlib only)."""

from __future__ import annotations

import http.client
import socket
import time

from hangar.errors import HealthCheckFailed
from hangar.ports import CheckSpec

HOST = "127.0.0.1"  # machines publish on loopback only


class HttpProbe:
    """The HealthProbe port: checks a machine on its published loopback port."""

    def wait_healthy(self, port: int, checks: list[CheckSpec], timeout_s: float) -> None:
        wait_healthy(port, checks, timeout_s)


def describe(check: CheckSpec, port: int) -> str:
    if check.kind == "tcp":
        return f"tcp check on {HOST}:{port}"
    return f"http check {check.method} {check.path} on {HOST}:{port}"


def wait_healthy(port: int, checks: list[CheckSpec], timeout_s: float, grace_s: float = 0) -> None:
    """Poll every check until each has passed once.

    Polling starts at once; failures only count after the grace period (the
    largest of `grace_s` and the checks' own), so the deadline is grace + timeout_s.
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
            reason = run_check(port, check, max(min(check.timeout_s, deadline - now), 0.1))
            if not reason:
                del next_try[check]
            elif time.monotonic() >= deadline:
                raise _failed(port, check, reason)
            else:
                next_try[check] = time.monotonic() + check.interval_s
        if next_try:
            _sleep_until(min(next_try.values()), deadline)


def run_check(port: int, check: CheckSpec, timeout_s: float) -> str:
    """Run `check` once; return "" on success, else the reason it failed."""
    try:
        if check.kind == "tcp":
            socket.create_connection((HOST, port), timeout=timeout_s).close()
            return ""
        return _http_check(port, check, timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


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


def _failed(port: int, check: CheckSpec, reason: str) -> HealthCheckFailed:
    return HealthCheckFailed(
        f"machine failed its {describe(check, port)}: {reason}",
        "Check `hangar logs` and that the app listens on 0.0.0.0 at internal_port.",
    )
