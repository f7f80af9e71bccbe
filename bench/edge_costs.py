"""What each part of the edge's haproxy.cfg costs: requests per CPU second of HAProxy
with the edge's own configuration, and with one part taken out at a time.

Two nginx machines (the image of bench/edge.py, built if missing) listen on
127.0.0.1 with host networking, on core 1 beside wrk (one thread, 50
connections) and a reader of the access log; HAProxy runs alone on core 0
with one thread. Each variant: 2 s of warm-up, then SECONDS of load; prints
req/s and requests per CPU second of HAProxy's processes.

    .venv/bin/python bench/edge_costs.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.edge import (  # noqa: E402
    LOAD_CORE,
    MACHINE_CONF,
    NGINX_IMAGE,
    PROXY_CORE,
    build_proxy_image,
    cpu_seconds,
    write_app,
)
from tests.support.backends import free_port  # noqa: E402

from hangar.edge.config import EdgePaths, Listeners, render_config  # noqa: E402
from hangar.edge.pages import write_pages  # noqa: E402
from hangar.edge.wake import write_wake_script  # noqa: E402
from hangar.ports import Backend, Route, RoutePolicy  # noqa: E402


def drop(config: str, *needles: str) -> str:
    return "".join(
        f"{line}\n" for line in config.splitlines() if not any(n in line for n in needles)
    )


def variants(config: str, paths: EdgePaths) -> dict[str, str]:
    no_log = drop(config, "log-format", f"log {paths.access_socket}").replace(
        "    log global\n", "    no log\n"
    )
    return {
        "the edge's configuration": config,
        "without the access log": no_log,
        "without the header rules": drop(config, "set-header", "del-header"),
        "without request ids": drop(config, "request_id"),
        "without l7 retries": drop(config, "retry-on", "disable-l7-retry"),
        "without the Host clean-up": config.replace(",regsub([^a-z0-9.-],_,g)", ""),
        "roundrobin, not leastconn": config.replace("balance leastconn", "balance roundrobin"),
        "without the 503 page": drop(config, "http-error"),
        "without the Host checks": drop(config, "http-request deny"),
    }


def start_machines(client: docker.DockerClient, folder: Path) -> tuple[list, list[int]]:
    if not client.images.list(name=NGINX_IMAGE):
        build_proxy_image(client, write_app(folder, "edge-costs"))
    ports = [free_port(), free_port()]
    machines = []
    for port in ports:
        conf = folder / f"machine-{port}.conf"
        conf.write_text(MACHINE_CONF.replace("listen 8080", f"listen 127.0.0.1:{port}"))
        machines.append(
            client.containers.run(
                NGINX_IMAGE,
                ["nginx", "-c", "/etc/nginx/machine.conf", "-g", "daemon off;"],
                detach=True,
                network_mode="host",
                cpuset_cpus=LOAD_CORE,
                volumes={str(conf): {"bind": "/etc/nginx/machine.conf", "mode": "ro"}},
            )
        )
    time.sleep(1)
    return machines, ports


def read_access_log(path: Path) -> socket.socket:
    """Receive (and drop) the access log's datagrams on the load core, as the server would."""
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))

    def drain() -> None:
        os.sched_setaffinity(0, {int(LOAD_CORE)})
        while True:
            try:
                receiver.recv(4096)
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    return receiver


def measure(name: str, config: str, folder: Path, http_port: int, seconds: int) -> None:
    path = folder / f"variant-{abs(hash(name))}.cfg"
    path.write_text(config)
    with (folder / "haproxy.log").open("ab") as log:
        haproxy = subprocess.Popen(
            ["taskset", "-c", PROXY_CORE, "haproxy", "-f", str(path)], stdout=log, stderr=log
        )
    try:
        time.sleep(0.8)
        workers = subprocess.run(["pgrep", "-P", str(haproxy.pid)], capture_output=True, text=True)
        pids = [haproxy.pid, *map(int, workers.stdout.split())]
        url = f"http://127.0.0.1:{http_port}/"
        wrk = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", "-c50", "-H", "Host: web.localhost"]
        subprocess.run([*wrk, "-d2s", url], capture_output=True, check=True)
        before = cpu_seconds(pids)
        out = subprocess.run(
            [*wrk, f"-d{seconds}s", url], capture_output=True, text=True, timeout=seconds + 30
        ).stdout
        cpu = cpu_seconds(pids) - before
    finally:
        haproxy.terminate()
        haproxy.wait(10)
    count = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not (count and rate) or "Non-2xx" in out or not cpu:
        raise SystemExit(f"wrk through {name!r} failed:\n{out}")
    print(
        f"{name:<30} {float(rate.group(1)):>8.0f} req/s {int(count.group(1)) / cpu:>9.0f} req/CPU s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    client = docker.from_env()
    with tempfile.TemporaryDirectory(prefix="hangar-edge-costs-") as tmp:
        folder = Path(tmp)
        paths = EdgePaths.under(folder / "edge")
        paths.pages_dir.mkdir(parents=True)
        write_pages(paths.pages_dir)
        write_wake_script(paths.wake_script, paths.wake_socket)
        for empty in (paths.https_only_map, paths.acme_challenges_map):
            empty.write_text("")
        paths.host_map.write_text("web.localhost web\n")
        receiver = read_access_log(paths.access_socket)
        machines, ports = start_machines(client, folder)
        try:
            backends = tuple(Backend(f"m{i}", port) for i, port in enumerate(ports))
            route = Route("web", "web.localhost", backends, RoutePolicy(hard_limit=1000))
            http_port = free_port()
            config = render_config([route], Listeners("127.0.0.1", http_port, threads=1), paths)
            for name, variant in variants(config, paths).items():
                measure(name, variant, folder, http_port, args.seconds)
        finally:
            for machine in machines:
                machine.remove(force=True)
            receiver.close()


if __name__ == "__main__":
    main()
