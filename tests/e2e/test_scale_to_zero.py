"""Scale to zero on a real server: an idle app's machines stop, and the next request
is held while one starts (slowpoke boots for 3 s) and then answered normally."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import app_name
from tests.support.server import Cli, start_server

SLOWPOKE = Path(__file__).parents[2] / "examples" / "slowpoke"
IDLE_S = 2


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory):
    running = start_server(
        tmp_path_factory.mktemp("idle-data"), extra=("--auto-stop-idle", f"{IDLE_S}s")
    )
    yield running
    running.stop()


def machine_states(cli: Cli, name: str) -> list[str]:
    machines = json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)
    return sorted(m["state"] for m in machines)


def wait_for_states(cli: Cli, name: str, wanted: list[str], timeout_s: float = 40) -> list[str]:
    deadline = time.monotonic() + timeout_s
    states = machine_states(cli, name)
    while states != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
        states = machine_states(cli, name)
    return states


def test_an_idle_app_stops_and_its_next_request_waits_for_a_machine(idle_server, tmp_path):
    cli = Cli(tmp_path / "home", idle_server.api_url)
    cli.ok("auth", "signup", "--email", "idle@example.com", "--password", "correct-horse")
    project = tmp_path / "slowpoke"
    shutil.copytree(SLOWPOKE, project)
    name = app_name("zero")
    (project / "fly.toml").write_text(
        f'app = "{name}"\n\n[http_service]\ninternal_port = 8080\n'
        'auto_stop_machines = "stop"\nauto_start_machines = true\nmin_machines_running = 0\n'
    )
    cli.ok("apps", "create", name)
    try:
        held_request_is_answered(idle_server, cli, project, name)
    finally:
        cli("apps", "destroy", name, "--yes")


def held_request_is_answered(idle_server, cli: Cli, project: Path, name: str) -> None:
    cli.ok("deploy", cwd=project)
    assert wait_for_states(cli, name, ["stopped", "stopped"]) == ["stopped", "stopped"]
    listed = {a["name"]: a for a in json.loads(cli.ok("apps", "list", "--json").stdout)}
    assert listed[name]["status"] == "suspended"

    started = time.monotonic()
    answer = idle_server.get(name, "/", timeout=60)
    held_s = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith("slowpoke v1 on ")
    assert held_s >= 2.5  # slowpoke's 3 s boot, waited out by the edge
    assert machine_states(cli, name) == ["started", "stopped"]
    again = idle_server.get(name, "/", timeout=10)
    assert again.status_code == 200 and again.text == answer.text  # the same machine
    logs = cli.ok("logs", "-a", name).stdout
    assert "(auto stop)" in logs and "(auto start)" in logs
    # idle again: back to zero; a deploy now leaves them stopped, on the new release
    assert wait_for_states(cli, name, ["stopped", "stopped"]) == ["stopped", "stopped"]
    told = cli.ok("deploy", cwd=project).stdout
    assert "2 stopped machine(s) stay stopped, now on v2" in told
    woken = idle_server.get(name, "/", timeout=60)  # a new container, of v2
    assert woken.status_code == 200 and woken.text.startswith("slowpoke v2 on ")
