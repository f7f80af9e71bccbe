"""Scaling, restarts and clones through the real CLI against a real server.

One app of the example, deployed once, serves most tests; each test starts
from the machines it finds. Traffic goes to the edge on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import docker
import httpx
import pytest

from tests.e2e.conftest import EXAMPLE, app_name, write_fly_toml

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]

MB = 1024 * 1024


@pytest.fixture(scope="module")
def engine():
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="module")
def app(deployed):
    """The example app, deployed once (two machines) for this module."""
    return deployed


def _machines(cli, name):
    return json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)


def _releases(cli, name):
    return json.loads(cli.ok("releases", "-a", name, "--json").stdout)


def _containers(engine, name):
    """Running containers of the app: machine id -> container."""
    found = engine.containers.list(filters={"label": f"hangar.app={name}"})
    return {c.labels["hangar.machine"]: c for c in found}


def _hosts(server, name, requests=8):
    return {
        server.get(name, "/cgi-bin/info").text.split("hostname=")[1].strip()
        for _ in range(requests)
    }


def _fails(result, *phrases):
    assert result.returncode != 0, result.stdout
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _wait_for(condition, timeout=45.0, every=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


@dataclass
class Load:
    sent: int = 0
    failures: list[str] = field(default_factory=list)


@contextmanager
def under_load(server, name, limit_s=180.0) -> Iterator[Load]:
    """Requests to the app through the edge, one after another, until the block ends."""
    load, done = Load(), threading.Event()

    def run() -> None:
        deadline = time.monotonic() + limit_s
        while not done.is_set() and time.monotonic() < deadline:
            try:
                response = server.get(name, timeout=10)
                if response.status_code != 200:
                    load.failures.append(str(response.status_code))
            except httpx.HTTPError as exc:
                load.failures.append(repr(exc))
            load.sent += 1
            time.sleep(0.005)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        yield load
    finally:
        done.set()
        worker.join()


def test_scale_show_gives_count_vm_and_restart_policy(cli, app):
    name, _ = app
    shown = json.loads(cli.ok("scale", "show", "-a", name, "--json").stdout)
    assert (shown["count"], shown["regions"], shown["release"]) == (2, {"local": 2}, 1)
    assert shown["vm"] == {"size": None, "cpus": None, "memory_mb": None}
    assert shown["restart"] == {"policy": "on-failure", "retries": 10}
    text = cli.ok("scale", "show", "-a", name).stdout
    assert f"VM Resources for app: {name}" in text
    assert "unlimited" in text and "local(2)" in text and "on-failure" in text


def test_scale_count_up_then_down_loses_no_request(cli, server, app):
    name, _ = app
    before = {m["id"] for m in _machines(cli, name)}
    with under_load(server, name) as load:
        up = cli.ok("scale", "count", "3", "-a", name, "-y").stdout
        after_up = _machines(cli, name)
        down = cli.ok("scale", "count", "1", "-a", name, "-y").stdout
    assert load.failures == [] and load.sent > 20, load
    assert "+1 machine" in up and f"{name} now has 3 machines" in up
    assert [(m["state"], m["release"], m["checks"]) for m in after_up] == [
        ("started", 1, "passing")
    ] * 3
    added = {m["id"] for m in after_up} - before
    assert len(added) == 1
    assert "-2 machines" in down
    (left,) = _machines(cli, name)
    assert left["id"] in before  # the newest went first
    assert _hosts(server, name) == {left["id"]}
    cli.ok("scale", "count", "2", "-a", name, "-y")
    assert len(_hosts(server, name)) == 2
    assert "already has 2 machines" in cli.ok("scale", "count", "2", "-a", name, "-y").stdout


def test_machines_clone_adds_a_healthy_routed_machine(cli, server, app):
    name, _ = app
    source = _machines(cli, name)[0]
    output = cli.ok("machines", "clone", source["id"], "-a", name).stdout
    machines = _machines(cli, name)
    clone = next(m for m in machines if m["id"] not in {source["id"]} and m["id"] in output)
    assert (clone["state"], clone["release"], clone["region"]) == (
        "started",
        source["release"],
        source["region"],
    )
    assert clone["id"] in _hosts(server, name, requests=12)
    cli.ok("machines", "destroy", clone["id"], "-a", name, "-y")


def test_apps_restart_replaces_each_machine_on_its_release(cli, server, engine, app):
    name, _ = app
    before = {machine: c.id for machine, c in _containers(engine, name).items()}
    releases = _releases(cli, name)
    with under_load(server, name) as load:
        output = cli.ok("apps", "restart", name).stdout
    assert load.failures == [], load
    assert f"Restarted {len(before)} machines of {name}" in output
    after = {machine: c.id for machine, c in _containers(engine, name).items()}
    assert after.keys() == before.keys()
    assert all(after[m] != before[m] for m in before)
    assert _releases(cli, name) == releases  # no new release
    assert {m["state"] for m in _machines(cli, name)} == {"started"}


def test_a_killed_machine_is_restarted_by_the_platform(cli, server, engine, app):
    name, _ = app
    victim = _machines(cli, name)[0]
    _containers(engine, name)[victim["id"]].kill()  # SIGKILL: the app dies, exit 137

    def restarted():
        machine = next(m for m in _machines(cli, name) if m["id"] == victim["id"])
        return machine if machine["restarts"] == 1 and machine["state"] == "started" else None

    machine = _wait_for(restarted)
    assert machine, _machines(cli, name)
    assert machine["last_exit"] == "exit 137" and machine["checks"] == "passing"
    assert victim["id"] in _hosts(server, name, requests=12)
    status = cli.ok("status", "-a", name).stdout
    assert "RESTARTS" in status and "exit 137" in status
    logs = cli.ok("logs", "-a", name).stdout
    assert f"{victim['id']} [platform] Machine exited (exit 137); restarting (1/10)" in logs
    assert "healthy and serving again" in logs


def test_scale_vm_and_memory_roll_out_new_limits(cli, engine, app):
    name, _ = app
    count = len(_machines(cli, name))
    output = cli.ok("scale", "vm", "shared-cpu-2x", "-a", name).stdout
    assert "Visit your newly deployed app" in output
    limits = {c.attrs["HostConfig"]["Memory"] for c in _containers(engine, name).values()}
    assert limits == {512 * MB}
    cli.ok("scale", "memory", "300", "-a", name)
    containers = _containers(engine, name).values()
    assert len(containers) == count
    assert {c.attrs["HostConfig"]["Memory"] for c in containers} == {300 * MB}
    assert {c.attrs["HostConfig"]["NanoCpus"] for c in containers} == {2_000_000_000}
    latest = _releases(cli, name)[0]
    assert (latest["description"], latest["status"]) == ("Scale VM", "complete")
    shown = json.loads(cli.ok("scale", "show", "-a", name, "--json").stdout)
    assert shown["vm"] == {"size": "shared-cpu-2x", "cpus": 2, "memory_mb": 300}


# -- bad input: a clear error, a non-zero exit, nothing changed -------------------


def _state(cli, name):
    """The machines (id, state, release) and the latest release, in one CLI call."""
    status = json.loads(cli.ok("status", "-a", name, "--json").stdout)
    machines = [(m["id"], m["state"], m["release"]) for m in status["machines"]]
    return machines, status["release"]


BAD_INPUT = [
    (("scale", "count", "-1", "-y"), ("cannot be negative",)),
    (("scale", "count", "many", "-y"), ("not a number",)),
    (("scale", "memory", "lots"), ("not an amount of memory", "megabytes")),
    (("scale", "memory", "4"), ("out of range",)),
    (("scale", "vm", "huge-cpu-9x"), ("unknown VM size", "shared-cpu-1x")),
    (("machines", "clone", "nope"), ("machine nope not found", "machines list")),
]


def test_bad_scaling_input_is_refused_and_changes_nothing(cli, app):
    name, _ = app
    before = _state(cli, name)
    for args, phrases in BAD_INPUT:
        _fails(cli(*args, "-a", name), *phrases)
    assert _state(cli, name) == before


def test_another_users_app_cannot_be_scaled_restarted_or_cloned(cli, other_cli, app):
    name, _ = app
    before = _state(cli, name)
    machine = before[0][0][0]
    _fails(other_cli("scale", "count", "3", "-a", name, "-y"), "is not yours")
    _fails(other_cli("apps", "restart", name), "is not yours")
    _fails(other_cli("machines", "clone", machine, "-a", name), "is not yours")
    _fails(other_cli("scale", "memory", "512", "-a", name), "is not yours")
    assert _state(cli, name) == before


def test_an_app_never_deployed_has_nothing_to_scale(cli):
    name = app_name()
    cli.ok("apps", "create", name)
    _fails(cli("scale", "count", "2", "-a", name, "-y"), "nothing to scale", "hangar deploy")
    _fails(cli("apps", "restart", name), "nothing to restart")
    _fails(cli("scale", "memory", "512", "-a", name), "not been deployed")
    assert _state(cli, name) == ([], None)
    cli.ok("apps", "destroy", name, "--yes")


def test_scaling_during_a_deploy_is_a_conflict(cli, app):
    name, folder = app
    before = _state(cli, name)
    slow = folder / "slow.toml"  # the release command keeps the deploy running a while
    write_fly_toml(folder, name, '\n[deploy]\nrelease_command = "sleep 6"\n')
    (folder / "fly.toml").rename(slow)
    write_fly_toml(folder, name)
    cli.ok("deploy", "-c", str(slow), "--detach", cwd=folder)
    _fails(cli("scale", "count", "5", "-a", name, "-y"), "is still running", "scale again")

    def finished():
        release = _state(cli, name)[1]
        return release["status"] != "running" and release

    assert _wait_for(finished, timeout=120)["status"] == "complete"
    machines, _ = _state(cli, name)
    assert [m[0] for m in machines] == [m[0] for m in before[0]]


# -- memory limit: over it, the kernel kills the app; the platform restarts it ----

LEAKY_START = """#!/bin/sh
# Test-only: httpd in the background; the main process grows past its memory
# limit once /cgi-bin/leak was called (a fresh container starts clean).
httpd -p 8080 -h /www
echo "httpd listening on :8080"
while [ ! -e /tmp/leak ]; do sleep 0.2; done
echo "leaking memory"
hog=$(head -c 64000000 /dev/zero | tr '\\0' a)
echo "still alive with ${#hog} bytes"
"""
LEAK_CGI = """#!/bin/sh
touch /tmp/leak
printf 'Content-Type: text/plain\\r\\n\\r\\nleaking\\n'
"""


def test_a_machine_over_its_memory_is_oom_killed_and_restarted(cli, server, engine, tmp_path):
    folder = tmp_path / "leaky"
    shutil.copytree(EXAMPLE, folder)
    (folder / "start.sh").write_text(LEAKY_START)
    leak = folder / "www" / "cgi-bin" / "leak"
    leak.write_text(LEAK_CGI)
    leak.chmod(0o755)  # a CGI script is executable, as git keeps the example's
    name = app_name("oom")
    write_fly_toml(folder, name, '\n[[vm]]\nmemory = "16mb"\n')
    cli.ok("apps", "create", name)
    try:
        cli.ok("deploy", cwd=folder)
        limits = {c.attrs["HostConfig"]["Memory"] for c in _containers(engine, name).values()}
        assert limits == {16 * MB}
        since = int(time.time()) - 1
        assert server.get(name, "/cgi-bin/leak").text.strip() == "leaking"

        def restarted():
            return [
                m for m in _machines(cli, name) if m["restarts"] == 1 and m["state"] == "started"
            ]

        (victim,) = _wait_for(restarted)
        assert victim["last_exit"] == "oom killed"
        oom_events = engine.events(
            since=since,
            until=int(time.time()) + 1,
            decode=True,
            filters={"event": "oom", "label": f"hangar.app={name}"},
        )
        assert {e["Actor"]["Attributes"]["hangar.machine"] for e in oom_events} == {victim["id"]}
        logs = cli.ok("logs", "-a", name).stdout
        assert "leaking memory" in logs  # the last lines of the killed container are kept
        assert f"{victim['id']} [platform] Machine exited (oom killed); restarting (1/10)" in logs
        assert server.get(name, "/cgi-bin/info").status_code == 200
    finally:
        cli("apps", "destroy", name, "--yes")
