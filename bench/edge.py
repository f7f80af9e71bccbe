"""The edge's throughput beside a plain nginx reverse proxy, side by side in one run.

An app of 2 machines running nginx (Debian's nginx-light, in an image built on
hangar/python:3, the local debootstrap root file system) serving a small
static page: fast enough that the proxy in front is the bottleneck. wrk
(Debian's) drives each row for a bounded time, one thread, on core 1, beside
the machines; each proxy runs one thread pinned to core 0:

  (a) direct to one machine's published port (no proxy)
  (b) Hangar's edge over HTTP (HAProxy with --edge-threads 1: TLS listener,
      forwarded headers, request ids, access log and limits all on)
  (c) a plain nginx reverse proxy to the same two machines, started here
      (worker_processes 1, upstream keepalive, least_conn, access log on)
  (d) Hangar's edge over HTTPS, kept-alive connections

Prints req/s, p50 and p99 per row, the ratios b/a and b/c, and whether the
engine's userland proxy (docker-proxy) carries the published ports.

    .venv/bin/python bench/edge.py [--seconds 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.backends import free_port  # noqa: E402
from tests.support.server import Cli, RunningServer, start_server  # noqa: E402

PROXY_CORE, LOAD_CORE = "0", "1"
WARMUP_S = 2
NGINX_IMAGE = "hangar-bench/nginx-proxy"

MACHINE_DOCKERFILE = """\
FROM hangar/python:3
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light \\
    && rm -rf /var/lib/apt/lists/*
COPY nginx.conf /etc/nginx/nginx.conf
COPY index.html /srv/index.html
EXPOSE 8080
CMD ["nginx", "-g", "daemon off;"]
"""
MACHINE_CONF = """\
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 8080; location / { root /srv; } }
}
"""
PROXY_CONF = """\
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr;
events { worker_connections 4096; }
http {
  access_log /tmp/access.log;
  upstream machines { least_conn; %(servers)s keepalive 64; }
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://machines;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
    }
  }
}
"""


@dataclass(frozen=True)
class Row:
    label: str
    requests_s: float
    p50_ms: float
    p99_ms: float
    requests: int = 0
    proxy_cpu_s: float = 0.0  # CPU time the proxy's processes used during the run

    @property
    def per_core(self) -> float | None:
        """Requests a second one core of the proxy could serve: requests per CPU second."""
        return self.requests / self.proxy_cpu_s if self.proxy_cpu_s else None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` (and their threads) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def write_app(folder: Path, name: str, service_extra: str = "") -> Path:
    project = folder / "nginx-app"
    project.mkdir()
    (project / "Dockerfile").write_text(MACHINE_DOCKERFILE)
    (project / "nginx.conf").write_text(MACHINE_CONF)
    (project / "index.html").write_text("<h1>hello from nginx</h1>\n")
    (project / "fly.toml").write_text(
        f'app = "{name}"\n\n[http_service]\ninternal_port = 8080\n{service_extra}'
        # limits on, set above what wrk's connections can reach: nginx has none
        "[http_service.concurrency]\nsoft_limit = 500\nhard_limit = 1000\n"
    )
    return project


def machine_ports(client: docker.DockerClient, name: str) -> list[int]:
    containers = client.containers.list(filters={"label": f"hangar.app={name}"})
    ports = [int(c.ports["8080/tcp"][0]["HostPort"]) for c in containers]
    for container in containers:
        container.update(cpuset_cpus=LOAD_CORE)
    return sorted(ports)


def pin(pids: list[int], core: str) -> None:
    for pid in pids:
        subprocess.run(["taskset", "-a", "-cp", core, str(pid)], check=True, capture_output=True)


def pids_of(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def pin_edge(server: RunningServer) -> list[int]:
    """Pin the edge's HAProxy to the proxy core; its PIDs."""
    master = int((server.data_dir / "edge" / "haproxy.pid").read_text().split()[0])
    pids = sorted({master, *pids_of(f"haproxy.*{server.data_dir}")})
    pin(pids, PROXY_CORE)
    return pids


def container_pids(container: Any) -> list[int]:
    top = container.top(ps_args="-o pid")
    return [int(process[0]) for process in top["Processes"]]


def userland_proxy(ports: list[int]) -> list[int]:
    """The docker-proxy processes carrying `ports` (none: the kernel's NAT does)."""
    return [pid for port in ports for pid in pids_of(f"docker-proxy.*-host-port {port} ")]


def start_nginx_proxy(client: docker.DockerClient, folder: Path, ports: list[int]) -> tuple:
    listen = free_port()
    servers = " ".join(f"server 127.0.0.1:{p};" for p in ports)
    conf = folder / "proxy.conf"
    conf.write_text(PROXY_CONF % {"servers": servers, "port": listen})
    container = client.containers.run(
        NGINX_IMAGE,
        ["nginx", "-c", "/etc/nginx/proxy.conf", "-g", "daemon off;"],
        detach=True,
        network_mode="host",
        cpuset_cpus=PROXY_CORE,
        volumes={str(conf): {"bind": "/etc/nginx/proxy.conf", "mode": "ro"}},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if wrk_ok(f"http://127.0.0.1:{listen}/"):
            return container, listen
        time.sleep(0.2)
    container.remove(force=True)
    raise SystemExit("the nginx proxy did not answer")


def wrk_ok(url: str) -> bool:
    done = subprocess.run(["curl", "-sf", "-o", "/dev/null", url], capture_output=True)
    return done.returncode == 0


def run_wrk(
    url: str, host: str | None, seconds: int, connections: int, proxy: list[int] | None = None
) -> Row:
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", "--latency"]
    if host:
        command += ["-H", f"Host: {host}"]
    subprocess.run([*command, f"-d{WARMUP_S}s", url], check=True, capture_output=True)
    before = cpu_seconds(proxy or [])
    done = subprocess.run(
        [*command, f"-d{seconds}s", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    row = parse_wrk(url, done.stdout)
    return replace(row, proxy_cpu_s=cpu_seconds(proxy or []) - before)


def parse_wrk(label: str, output: str) -> Row:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    count = re.search(r"(\d+) requests in", output)
    if not (rate and p50 and p99 and count) or errors:
        raise SystemExit(f"wrk on {label} failed or saw errors:\n{output}")
    p50_ms, p99_ms = _ms(*p50.groups()), _ms(*p99.groups())
    return Row(label, float(rate.group(1)), p50_ms, p99_ms, int(count.group(1)))


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def build_proxy_image(client: docker.DockerClient, project: Path) -> None:
    client.images.build(path=str(project), tag=NGINX_IMAGE, rm=True)


def measure(seconds: int, connections: int, service_extra: str = "") -> None:
    client = docker.from_env()
    with tempfile.TemporaryDirectory(prefix="hangar-edge-bench-") as tmp:
        folder = Path(tmp)
        server = start_server(folder / "data", extra=("--edge-threads", "1"))
        cli = Cli(folder / "home", server.api_url)
        name = "edge-bench"
        proxy = None
        try:
            cli.ok("auth", "signup", "--email", "bench@example.com", "--password", "correct-horse")
            project = write_app(folder, name, service_extra)
            cli.ok("apps", "create", name)
            print("deploying the nginx app (its first build installs nginx-light)...", flush=True)
            cli.ok("deploy", cwd=project)
            build_proxy_image(client, project)
            ports = machine_ports(client, name)
            edge = pin_edge(server)
            pin([server.process.pid], LOAD_CORE)  # the control plane reads the access log
            carriers = userland_proxy(ports)
            pin(carriers, LOAD_CORE)
            proxy, proxy_port = start_nginx_proxy(client, folder, ports)
            nginx = container_pids(proxy)
            host = f"{name}.localhost"
            edge_http = f"http://127.0.0.1:{server.http_port}/"
            edge_https = f"https://127.0.0.1:{server.https_port}/"
            rows = [
                run_wrk(f"http://127.0.0.1:{ports[0]}/", None, seconds, connections),
                run_wrk(edge_http, host, seconds, connections, edge),
                run_wrk(f"http://127.0.0.1:{proxy_port}/", host, seconds, connections, nginx),
                run_wrk(edge_https, host, seconds, connections, edge),
            ]
            report(rows, bool(carriers), seconds, connections)
        finally:
            if proxy is not None:
                proxy.remove(force=True)
            cli("apps", "destroy", name, "--yes")
            server.stop()


def report(rows: list[Row], userland: bool, seconds: int, connections: int) -> None:
    labels = ["(a) direct", "(b) edge HTTP", "(c) nginx proxy", "(d) edge HTTPS"]
    print(f"wrk -t1 -c{connections} -d{seconds}s on core {LOAD_CORE}; proxies on core {PROXY_CORE}")
    print(f"userland proxy (docker-proxy) on the published ports: {'on' if userland else 'off'}")
    heads = f"{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'proxy CPU s':>13}{'req/CPU s':>11}"
    print(f"{'row':<18}{heads}")
    for label, row in zip(labels, rows, strict=True):
        per_core = f"{row.per_core:>11.0f}" if row.per_core else f"{'-':>11}"
        print(
            f"{label:<18}{row.requests_s:>10.0f}{row.p50_ms:>10.2f}{row.p99_ms:>10.2f}"
            f"{row.proxy_cpu_s:>13.2f}{per_core}"
        )
    direct, edge, nginx, _ = rows
    print(f"b/a = {edge.requests_s / direct.requests_s:.2f}")
    print(f"b/c = {edge.requests_s / nginx.requests_s:.2f}   (to reach: >= 1.1)")
    if edge.per_core and nginx.per_core:
        print(f"b/c per proxy CPU second = {edge.per_core / nginx.per_core:.2f}")
    print(f"p99 edge {edge.p99_ms:.2f} ms vs nginx {nginx.p99_ms:.2f} ms   (to reach: <=)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--no-auto-start",
        action="store_true",
        help="the app with auto_start_machines = false (no request-holding action at the edge)",
    )
    args = parser.parse_args()
    extra = "auto_start_machines = false\n" if args.no_auto_start else ""
    measure(args.seconds, args.connections, extra)


if __name__ == "__main__":
    main()
