"""Requests a second to a container's published 127.0.0.1 port, as the engine runs now.

Run it once on dockerd's default (userland proxy on) and once on a dockerd
started with `--userland-proxy=false` to compare the two ways of publishing.
It starts busybox httpd from the local base image, drives it from a few
threads (a new connection per request: busybox closes after each answer) for
a bounded time, prints req/s and latency, then removes the container.

    .venv/bin/python bench/published_port.py [--seconds 10] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time
from pathlib import Path

import docker

IMAGE = "hangar/busybox:1"
MAX_REQUESTS_PER_THREAD = 200_000


def proxied(port: int) -> bool:
    """True when a docker-proxy process serves `port` (the userland proxy is on)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"docker-proxy") and str(port).encode() in args:
            return True
    return False


def drive(port: int, until: float, latencies: list[float], errors: list[str]) -> None:
    for _ in range(MAX_REQUESTS_PER_THREAD):
        if time.monotonic() >= until:
            return
        began = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/index.html")
            conn.getresponse().read()
            latencies.append(time.monotonic() - began)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
        finally:
            conn.close()


def wait_answering(port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/index.html")
            conn.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    engine = docker.from_env()
    shell = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"
    container = engine.containers.run(
        IMAGE, ["sh", "-c", shell], detach=True, ports={"8080/tcp": ("127.0.0.1", None)}
    )
    try:
        container.reload()
        port = int(container.ports["8080/tcp"][0]["HostPort"])
        wait_answering(port)
        latencies: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=drive, args=(port, until, latencies, errors))
            for _ in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ms = sorted(1000 * t for t in latencies)
        mode = "userland proxy (docker-proxy)" if proxied(port) else "iptables (no userland proxy)"
        print(f"published port 127.0.0.1:{port} via {mode}")
        print(f"  requests:  {len(ms)} in {args.seconds:.0f}s = {len(ms) / args.seconds:.0f} req/s")
        print(f"  errors:    {len(errors)}")
        if ms:
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            print(f"  latency:   p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms")
    finally:
        container.remove(force=True)
        engine.close()


if __name__ == "__main__":
    main()
