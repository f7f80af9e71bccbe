"""Cold starts, measured: time to first byte of a request to an app whose machines
are all stopped (scaled to zero), beside `docker start` -> first 200 of the same
image on the same machine.

For each example app on its own `hangar server` (temporary data dir, free
ports, `--auto-stop-idle 1s`), deployed with auto_stop_machines = "stop" and
min_machines_running = 0: ROUNDS times, wait until every machine is stopped,
then time one request through the edge (it is held while a machine starts).
The baseline: a container of the app's image outside Hangar, with the same CPU
and memory limits as the app's machines, `docker stop`
then `docker start` and a GET every 5 ms on its published port until a 200,
ROUNDS times. Prints the median and the slowest of each, and the difference.

    .venv/bin/python bench/cold_start.py [--app all|hello|slowpoke] [--rounds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.server import Cli, RunningServer, start_server  # noqa: E402

from hangar.appconfig import parse, render  # noqa: E402

APPS = ("hello", "slowpoke")
STOPPED_WITHIN_S = 60.0  # every wait here is bounded
FIRST_200_WITHIN_S = 60.0


def on_demand_config(example: Path, name: str) -> str:
    data = tomllib.loads((example / "fly.toml").read_text())
    data["app"] = name
    service = data.setdefault("http_service", {"internal_port": 8080})
    service.update(auto_stop_machines="stop", auto_start_machines=True, min_machines_running=0)
    return render(parse(data).config)


def deploy(server: RunningServer, cli: Cli, folder: Path, app: str, name: str) -> None:
    cli.ok("auth", "signup", "--email", "cold@example.com", "--password", "correct-horse")
    project = folder / app
    shutil.copytree(REPO / "examples" / app, project)
    (project / "fly.toml").write_text(on_demand_config(project, name))
    cli.ok("apps", "create", name)
    cli.ok("deploy", cwd=project)


def wait_all_stopped(cli: Cli, name: str) -> None:
    deadline = time.monotonic() + STOPPED_WITHIN_S
    while time.monotonic() < deadline:
        machines = json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)
        if machines and all(m["state"] == "stopped" for m in machines):
            return
        time.sleep(0.2)
    raise SystemExit(f"the machines of {name} did not all stop within {STOPPED_WITHIN_S:.0f} s")


def first_byte_s(port: int, host: str, timeout_s: float = FIRST_200_WITHIN_S) -> float:
    """Seconds from sending a GET until the response's status line and headers arrive."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    started = time.perf_counter()
    try:
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        took = time.perf_counter() - started
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise SystemExit(f"{host} answered {response.status} after a cold start")
    return took


def hangar_cold_starts(server: RunningServer, cli: Cli, name: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        wait_all_stopped(cli, name)
        times.append(first_byte_s(server.http_port, f"{name}.localhost"))
    return times


def docker_start_baseline(client: docker.DockerClient, like: str, rounds: int) -> list[float]:
    """`like`: the id of an app container, whose image and CPU and memory limits are used."""
    host = client.containers.get(like).attrs["HostConfig"]
    container = client.containers.create(
        client.containers.get(like).attrs["Image"],
        ports={"8080/tcp": ("127.0.0.1", None)},
        nano_cpus=host.get("NanoCpus") or None,
        mem_limit=host.get("Memory") or None,
    )
    try:
        times = []
        for _ in range(rounds):
            container.stop(timeout=10)
            started = time.perf_counter()
            container.start()
            container.reload()
            port = int(container.ports["8080/tcp"][0]["HostPort"])
            _poll_until_200(port)
            times.append(time.perf_counter() - started)
        return times
    finally:
        container.remove(force=True)


def _poll_until_200(port: int) -> None:
    deadline = time.monotonic() + FIRST_200_WITHIN_S
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.005)
    raise SystemExit(f"the baseline container on port {port} never answered 200")


def app_container(client: docker.DockerClient, name: str) -> str:
    containers = client.containers.list(all=True, filters={"label": f"hangar.app={name}"})
    if not containers:
        raise SystemExit(f"no container of {name} to take the image from")
    return str(containers[0].id)


def measure(app: str, rounds: int, client: docker.DockerClient) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="hangar-cold-") as tmp:
        folder = Path(tmp)
        server = start_server(folder / "data", extra=("--auto-stop-idle", "1s"))
        cli = Cli(folder / "home", server.api_url)
        name = f"cold-{app}"
        try:
            deploy(server, cli, folder, app, name)
            cold = hangar_cold_starts(server, cli, name, rounds)
            baseline = docker_start_baseline(client, app_container(client, name), rounds)
            return cold, baseline
        finally:
            cli("apps", "destroy", name, "--yes")
            server.stop()


def row(label: str, times: list[float]) -> str:
    return f"{label:<34} median {statistics.median(times):6.3f} s   slowest {max(times):6.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="all", choices=("all", *APPS))
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    client = docker.from_env()
    for app in APPS if args.app == "all" else (args.app,):
        cold, baseline = measure(app, args.rounds, client)
        gap = statistics.median(cold) - statistics.median(baseline)
        print(f"{app} ({args.rounds} rounds)")
        print("  " + row("hangar, fully stopped -> first byte", cold))
        print("  " + row("docker start -> first 200", baseline))
        print(f"  difference of the medians: {gap:+.3f} s")


if __name__ == "__main__":
    main()
