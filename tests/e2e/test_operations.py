"""Day-two operations through the real CLI: status, logs, machines, config, failures, restarts."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time

import docker
import httpx
import pytest

from hangar.edge.runtime_api import RuntimeAPI
from hangar.server import instance_id
from tests.e2e.conftest import app_name, deploy_example_on, write_fly_toml
from tests.support.server import HANGAR, restart_server, start_server

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]


def _machines(cli, name):
    return json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)


def test_status_releases_open_and_config(cli, server, deployed):
    name, _ = deployed
    status = cli.ok("status", "-a", name).stdout
    assert "deployed" in status and "started" in status
    assert (
        cli.ok("open", "-a", name).stdout.strip() == f"https://{name}.localhost:{server.https_port}"
    )
    assert "v1" in cli.ok("releases", "-a", name).stdout
    shown = json.loads(cli.ok("config", "show", "-a", name).stdout)
    assert shown["app"] == name and shown["http_service"]["internal_port"] == 8080
    assert f'app = "{name}"' in cli.ok("config", "show", "-a", name, "--toml").stdout


def test_logs_are_timestamped_and_tagged_by_machine(cli, deployed):
    name, _ = deployed
    machines = {m["id"] for m in _machines(cli, name)}
    text = cli.ok("logs", "-a", name).stdout
    assert all(machine in text for machine in machines)
    assert "httpd listening on :8080" in text
    one = sorted(machines)[0]
    only = cli.ok("logs", "-a", name, "--machine", one).stdout
    assert one in only and all(m not in only for m in machines - {one})


def test_machine_stop_and_start_take_it_out_of_and_back_into_routing(cli, server, deployed):
    name, _ = deployed
    first = _machines(cli, name)[0]["id"]
    cli.ok("machines", "stop", first, "-a", name)
    states = {m["id"]: m["state"] for m in _machines(cli, name)}
    assert states[first] == "stopped"
    hosts = {server.get(name, "/cgi-bin/info").text for _ in range(4)}
    assert all(first not in h for h in hosts)
    cli.ok("machines", "start", first, "-a", name)
    assert {m["id"]: m["state"] for m in _machines(cli, name)}[first] == "started"
    hosts = {server.get(name, "/cgi-bin/info").text.split("hostname=")[1] for _ in range(6)}
    assert len(hosts) == 2


def test_without_rollback_a_failing_check_stops_the_deploy_and_keeps_serving(cli, server, project):
    name = app_name()
    write_fly_toml(project, name)
    cli.ok("apps", "create", name)
    cli.ok("deploy", cwd=project)
    before = {m["id"]: m for m in _machines(cli, name)}
    write_fly_toml(project, name, '[[http_service.checks]]\npath = "/missing"\ninterval = "1s"\n')
    result = cli("deploy", "--wait-timeout", "3", "--no-rollback", cwd=project)
    assert result.returncode == 1
    assert "failed its health checks" in result.stderr
    assert "httpd listening" in result.stderr  # the machine's last log lines
    releases = json.loads(cli.ok("releases", "-a", name, "--json").stdout)
    assert [(r["version"], r["status"]) for r in releases] == [(2, "failed"), (1, "complete")]
    # Start-first: the failing container ran beside the first machine's own, which
    # kept serving; the deploy stopped there and no machine was touched.
    after = {m["id"]: m for m in _machines(cli, name)}
    assert after == before
    assert all(server.get(name).status_code == 200 for _ in range(5))


def test_destroy_removes_containers_route_and_images(cli, server, project):
    name = app_name()
    cli.ok("launch", "--no-deploy", "--name", name, cwd=project)
    cli.ok("deploy", cwd=project)
    engine = docker.from_env()
    assert len(engine.containers.list(filters={"label": f"hangar.app={name}"})) == 2
    assert engine.images.list(name=f"hangar/{name}")
    cli.ok("apps", "destroy", name, "--yes")
    assert engine.containers.list(all=True, filters={"label": f"hangar.app={name}"}) == []
    assert engine.images.list(name=f"hangar/{name}") == []
    assert server.get(name).status_code == 404
    engine.close()


def test_restart_reconciles_docker_with_the_store(tmp_path):
    """A machine whose container vanished is recreated; a stray container is removed."""
    server = start_server(tmp_path / "data")
    engine = docker.from_env()
    try:
        cli, name = deploy_example_on(server, tmp_path, "r@example.com", "rec")
        server.stop(keep_edge=True)
        lost = engine.containers.list(filters={"label": f"hangar.app={name}"})[0]
        lost.remove(force=True)
        _wait_until_the_edge_sees_one_machine_down(server.data_dir, name)
        assert [server.get(name).status_code for _ in range(10)] == [200] * 10
        stray = engine.containers.create(
            "hangar/busybox:1",
            ["sleep", "600"],
            labels={"hangar.managed": instance_id(server.data_dir), "hangar.app": name},
        )
        assert server.get(name).status_code == 200, "the edge keeps serving without the API"
        server = restart_server(server)
        machines = json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)
        assert [m["state"] for m in machines] == ["started", "started"]
        running = engine.containers.list(filters={"label": f"hangar.app={name}"})
        assert len(running) == 2 and lost.id not in {c.id for c in running}
        with pytest.raises(docker.errors.NotFound):
            engine.containers.get(stray.id)
        hosts = {server.get(name, "/cgi-bin/info").text.split("hostname=")[1] for _ in range(6)}
        assert len(hosts) == 2
        cli.ok("apps", "destroy", name, "--yes")
    finally:
        server.stop()
        engine.close()


def _wait_until_the_edge_sees_one_machine_down(data_dir, name, timeout_s=5.0):
    """HAProxy's own checks, with no control plane to tell it the machine is gone."""
    stats = RuntimeAPI(data_dir / "edge" / "stats.sock")
    deadline = time.monotonic() + timeout_s
    while sorted(s.status.split()[0] for s in stats.servers(name)) != ["DOWN", "UP"]:
        assert time.monotonic() < deadline, [s.status for s in stats.servers(name)]
        time.sleep(0.1)


def test_the_server_restarts_a_dead_edge(server, deployed):
    name, _ = deployed
    pid_file = server.data_dir / "edge" / "haproxy.pid"
    old_pid = int(pid_file.read_text().split()[0])
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if server.get(name, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    assert server.get(name).status_code == 200
    assert int(pid_file.read_text().split()[0]) != old_pid


def test_logs_follow_keeps_up_with_machines_restarted_while_following(cli, server, deployed):
    name, _ = deployed
    command = [HANGAR, "logs", "-a", name, "-f"]
    env = {**os.environ, "HANGAR_HOME": str(cli.home), "HANGAR_API_URL": cli.api_url}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as follower:
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(ln) for ln in follower.stdout])
        reader.start()
        try:
            before = _starts_seen(lines, until=time.monotonic() + 5)
            cli.ok("apps", "restart", name)
            after = _starts_seen(lines, until=time.monotonic() + 15, at_least=2)
            assert before >= 1 and after >= 2, "the new containers' first lines are followed"
        finally:
            follower.terminate()
            reader.join()


def _starts_seen(lines, until, at_least=None):
    """How many 'httpd listening' lines arrive before `until` (or once `at_least` came)."""
    seen = 0
    while time.monotonic() < until and (at_least is None or seen < at_least):
        try:
            seen += "httpd listening" in lines.get(timeout=0.2)
        except queue.Empty:
            continue
    return seen


def test_the_host_header_is_matched_without_regard_to_case(server, deployed):
    name, _ = deployed
    response = httpx.get(
        f"http://127.0.0.1:{server.http_port}/",
        headers={"Host": f"{name.upper()}.LocalHost:{server.http_port}"},
    )
    assert response.status_code == 200
