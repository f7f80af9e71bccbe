"""Strategies, auto-rollback, rollback, release commands and the deploy lock, for real."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import app_name, write_fly_toml
from tests.support.server import HANGAR

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]

CHECK = '[[http_service.checks]]\npath = "/"\ninterval = "1s"\n'


def _releases(cli, name):
    rows = json.loads(cli.ok("releases", "-a", name, "--json").stdout)
    return [(r["version"], r["status"], r["description"]) for r in rows]


def _machines(cli, name):
    return json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)


def _version_served(server, name):
    return server.get(name).text.split("<h1>")[1].split("</h1>")[0]


@pytest.fixture
def app(cli, project):
    name = app_name("rel")
    write_fly_toml(project, name, CHECK)
    cli.ok("apps", "create", name)
    cli.ok("deploy", cwd=project)
    return name, project


def _change(project, text, extra=CHECK):
    (project / "www" / "index.html.in").write_text(f"<h1>{text}</h1>\n")
    name = project.joinpath("fly.toml").read_text().split('"')[1]
    write_fly_toml(project, name, extra)


def test_failed_deploy_is_rolled_back_and_rollback_restores_an_old_release(cli, server, app):
    name, project = app
    _change(project, "second")
    cli.ok("deploy", cwd=project)
    assert _version_served(server, name) == "second"

    _change(project, "broken", '[[http_service.checks]]\npath = "/missing"\ninterval = "1s"\n')
    result = cli("deploy", "--wait-timeout", "3", cwd=project)
    # Start-first: the failing container ran beside the first machine's own.
    assert result.returncode == 1 and "no machine had moved" in result.stderr
    assert _releases(cli, name)[0][:2] == (3, "rolled back")
    assert [(m["state"], m["release"]) for m in _machines(cli, name)] == [("started", 2)] * 2
    assert _version_served(server, name) == "second"

    cli.ok("rollback", "v1", "-a", name)
    assert _releases(cli, name)[0] == (4, "complete", "Rollback to v1")
    assert "Hello from Hangar" in server.get(name).text
    cli.ok("rollback", "-a", name)  # back to the release before the current one
    assert _releases(cli, name)[0] == (5, "complete", "Rollback to v2")
    assert _version_served(server, name) == "second"


def test_deploy_an_existing_image_without_building(cli, server, app):
    name, project = app
    image = json.loads(cli.ok("releases", "-a", name, "--json").stdout)[0]["image"]
    result = cli.ok("deploy", "--image", image, cwd=project)
    assert "Building" not in result.stdout
    assert _releases(cli, name)[0][:2] == (2, "complete")
    missing = cli("deploy", "--image", "hangar/nothing:here", cwd=project)
    assert missing.returncode == 1 and "is not one" in missing.stderr
    assert len(_releases(cli, name)) == 2


@pytest.mark.parametrize("strategy", ["canary", "bluegreen", "immediate"])
def test_each_strategy_ends_with_every_machine_on_the_new_release(cli, server, app, strategy):
    name, project = app
    before = {m["id"] for m in _machines(cli, name)}
    _change(project, strategy)
    cli.ok("deploy", "--strategy", strategy, cwd=project)
    machines = _machines(cli, name)
    assert [(m["state"], m["release"]) for m in machines] == [("started", 2)] * 2
    ids = {m["id"] for m in machines}
    assert (ids == before) != (strategy == "bluegreen"), "only bluegreen replaces machines"
    assert _version_served(server, name) == strategy


def test_bluegreen_and_unknown_strategies_are_refused_clearly(cli, project):
    name = app_name("rel")
    write_fly_toml(project, name)
    cli.ok("apps", "create", name)
    no_check = cli("deploy", "--strategy", "bluegreen", cwd=project)
    assert no_check.returncode == 1 and "needs a health check" in no_check.stderr
    unknown = cli("deploy", "--strategy", "sideways", cwd=project)
    assert unknown.returncode == 1 and "sideways" in unknown.stderr
    assert _releases(cli, name) == []
    absent = cli("rollback", "v7", "-a", name)
    assert absent.returncode == 1 and "no release v7" in absent.stderr


def test_release_command_runs_first_and_its_failure_aborts(cli, server, app):
    name, project = app
    ok = CHECK + "[deploy]\nrelease_command = \"sh -c 'echo migrating $RELEASE_COMMAND'\"\n"
    _change(project, "migrated", ok)
    result = cli.ok("deploy", cwd=project)
    assert "Running release command" in result.stdout
    machines = _machines(cli, name)
    bad = CHECK + "[deploy]\nrelease_command = \"sh -c 'echo no-database; exit 4'\"\n"
    _change(project, "never", bad)
    failed = cli("deploy", cwd=project)
    assert failed.returncode == 1
    assert "exit code 4" in failed.stderr and "no-database" in failed.stderr
    assert _machines(cli, name) == machines
    assert _version_served(server, name) == "migrated"


def test_one_deploy_per_app_at_a_time(cli, server, app):
    name, project = app
    _change(project, "locked", CHECK + '[deploy]\nrelease_command = "sleep 5"\n')
    env = {"HANGAR_HOME": str(cli.home), "HANGAR_API_URL": cli.api_url}
    first = subprocess.Popen(
        [HANGAR, "deploy"],
        cwd=project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_release_running(cli, name)
        second = cli("deploy", cwd=project)
        assert second.returncode == 1 and "is still running" in second.stderr
        waited = cli("deploy", "--wait-for-lock", cwd=project)
        assert waited.returncode == 0, waited.stderr
    finally:
        first.communicate(timeout=300)
    assert [r[1] for r in _releases(cli, name)[:2]] == ["complete", "complete"]


def _wait_for_release_running(cli, name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(status == "running" for _, status, _ in _releases(cli, name)):
            return
        time.sleep(0.2)
    raise AssertionError("the first deploy never started")


def test_rolling_canary_and_bluegreen_lose_no_request(cli, server, app):
    name, project = app
    failures: list[str] = []
    done = threading.Event()

    def load() -> None:
        deadline = time.monotonic() + 180
        while not done.is_set() and time.monotonic() < deadline:
            try:
                status = server.get(name).status_code
                if status != 200:
                    failures.append(str(status))
            except httpx.HTTPError as exc:
                failures.append(repr(exc))

    worker = threading.Thread(target=load)
    worker.start()
    try:
        for strategy in ("rolling", "canary", "bluegreen"):
            _change(project, strategy)
            cli.ok("deploy", "--strategy", strategy, cwd=project)
    finally:
        done.set()
        worker.join()
    assert failures == []
