"""Accounts through the CLI, and the whole server on PostgreSQL."""

from __future__ import annotations

import json
import stat
import time

import pytest

from tests.e2e.conftest import app_name, deploy_example_on, write_fly_toml
from tests.support.postgres import temporary_postgres
from tests.support.server import Cli, start_server

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]


def test_token_file_is_private_and_logout_revokes_the_token(server, tmp_path):
    user = Cli(tmp_path / "home", server.api_url)
    user.ok("auth", "signup", "--email", "leaver@example.com", "--password", "goodbye-now")
    config = tmp_path / "home" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    token = user.ok("auth", "token").stdout.strip()
    assert user.ok("auth", "whoami").stdout.strip() == "leaver@example.com"
    user.ok("auth", "logout")
    stale = user("apps", "list", env_extra={"HANGAR_ACCESS_TOKEN": token})
    assert stale.returncode == 1 and "not valid" in stale.stderr
    assert "not logged in" in user("apps", "list").stderr


def test_detach_returns_while_the_deploy_goes_on(cli, server, project):
    name = app_name()
    write_fly_toml(project, name)
    cli.ok("apps", "create", name)
    result = cli.ok("deploy", "--detach", cwd=project)
    assert "Deploying" in result.stdout and "Visit" not in result.stdout
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = json.loads(cli.ok("status", "-a", name, "--json").stdout)
        if status["app"]["status"] == "deployed":
            break
        time.sleep(0.5)
    assert status["app"]["status"] == "deployed"
    machine = status["machines"][0]["id"]
    cli.ok("machines", "destroy", machine, "-a", name, "--yes")
    remaining = json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)
    assert [m["id"] for m in remaining] == [status["machines"][1]["id"]]
    assert server.get(name).status_code == 200


@pytest.mark.postgres
def test_the_server_runs_on_postgresql(tmp_path):
    with temporary_postgres() as url:
        running = start_server(tmp_path / "data", extra=("--database-url", url))
        try:
            user, name = deploy_example_on(running, tmp_path, "pg@example.com", "pg")
            assert running.get(name).status_code == 200
            assert not (tmp_path / "data" / "hangar.db").exists()
            user.ok("apps", "destroy", name, "--yes")
        finally:
            running.stop()
