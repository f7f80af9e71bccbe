"""Tenants cannot touch each other's machines, read from the engine's state (issue 8)."""

from __future__ import annotations

import json
import shutil

import docker
import httpx
import pytest

from tests.e2e.conftest import EXAMPLE, app_name, write_fly_toml
from tests.support.server import Cli, start_server

pytestmark = pytest.mark.docker


def _networks(engine: docker.DockerClient, app: str) -> set[str]:
    containers = engine.containers.list(all=True, filters={"label": f"hangar.app={app}"})
    assert containers, f"no containers of {app}"
    return {name for c in containers for name in c.attrs["NetworkSettings"]["Networks"]}


def test_two_users_apps_share_no_network_and_destroy_removes_it(
    cli, other_cli, deployed, server, tmp_path
):
    mine, _ = deployed
    folder = tmp_path / "theirs"
    shutil.copytree(EXAMPLE, folder)
    theirs = app_name("other")
    write_fly_toml(folder, theirs)
    other_cli.ok("apps", "create", theirs)
    other_cli.ok("deploy", cwd=folder)
    engine = docker.from_env()
    try:
        my_networks, their_networks = _networks(engine, mine), _networks(engine, theirs)
        assert len(my_networks) == 1 and len(their_networks) == 1
        assert my_networks.isdisjoint(their_networks)
        assert "bridge" not in my_networks | their_networks
        assert server.get(mine).status_code == server.get(theirs).status_code == 200

        other_cli.ok("apps", "destroy", theirs, "--yes")

        assert engine.networks.list(names=list(their_networks)) == []
        assert server.get(mine).status_code == 200
    finally:
        engine.close()


def test_a_deploy_over_the_upload_quota_fails_clearly_and_leaves_nothing(tmp_path, project):
    server = start_server(tmp_path / "data", extra=("--upload-quota", "1"))
    try:
        user = Cli(tmp_path / "home", server.api_url)
        user.ok("auth", "signup", "--email", "q@example.com", "--password", "password-for-tests")
        name = app_name("quota")
        user.ok("apps", "create", name)
        write_fly_toml(project, name)
        (project / "big.bin").write_bytes(bytes(3 * 1024 * 1024))

        result = user("deploy", cwd=project)

        assert result.returncode != 0
        assert "upload quota exceeded" in result.stderr and ".dockerignore" in result.stderr
        assert "Traceback" not in result.stderr
        assert list((server.data_dir / "uploads").iterdir()) == []
        status = json.loads(user.ok("status", "-a", name, "--json").stdout)
        assert status["app"]["status"] == "pending"
    finally:
        server.stop()


def test_ci_deploys_with_a_deploy_token_and_nothing_else(cli, server, deployed, tmp_path):
    name, folder = deployed
    token = cli.ok("tokens", "create", "deploy", "-a", name, "--expiry", "1h").stdout.strip()
    ci = Cli(tmp_path / "ci-home", server.api_url)  # never logged in
    env = {"HANGAR_API_TOKEN": token}

    assert name in ci.ok("status", "-a", name, env_extra=env).stdout
    ci.ok("deploy", cwd=folder, env_extra=env)
    refused = ci("apps", "list", env_extra=env)
    assert refused.returncode != 0 and f"deploy token of app {name}" in refused.stderr
    assert ci("apps", "destroy", name, "--yes", env_extra=env).returncode != 0

    listed = json.loads(cli.ok("tokens", "list", "--json").stdout)
    deploy_tokens = [t for t in listed if t["kind"] == "deploy" and t["app"] == name]
    assert len(deploy_tokens) == 1 and deploy_tokens[0]["last_used_at"]
    cli.ok("tokens", "revoke", str(deploy_tokens[0]["id"]))
    gone = ci("status", "-a", name, env_extra=env)
    assert gone.returncode != 0 and "not valid" in gone.stderr
    assert server.get(name).status_code == 200


def test_the_running_api_refuses_a_rebound_host_name(server):
    with httpx.Client(base_url=server.api_url) as http:
        rebound = http.get("/v1/auth/whoami", headers={"Host": "rebind.attacker.example"})
        assert rebound.status_code == 400 and rebound.json()["error"] == "bad_host"
        assert http.get("/healthz").status_code == 200


def _ci_works_in_the_org_with_an_org_token(admin: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin.ok("apps", "create", "admins-own")
    token = admin.ok("tokens", "create", "org", "--org", "team", "-x", "1h").stdout.strip()
    ci = Cli(tmp_path / "ci-home", admin.api_url)  # never logged in
    env = {"HANGAR_API_TOKEN": token}

    ci.ok("apps", "create", "ci-app", env_extra=env)
    listed = json.loads(ci.ok("apps", "list", "--json", env_extra=env).stdout)
    assert sorted((a["name"], a["org"]) for a in listed) == [
        ("ci-app", "team"),
        ("team-app", "team"),
    ]
    refused = ci("status", "-a", "admins-own", env_extra=env)
    assert refused.returncode != 0 and "reaches only team" in refused.stderr
    refused = ci("apps", "destroy", "ci-app", "--yes", env_extra=env)
    assert refused.returncode != 0 and "org token of team cannot do this" in refused.stderr
    kinds = [(t["kind"], t["org"]) for t in json.loads(admin.ok("tokens", "list", "--json").stdout)]
    assert ("org", "team") in kinds
    admin.ok("apps", "destroy", "ci-app", "--yes")


def test_an_invited_member_works_in_the_org_from_the_cli(tmp_path):
    server = start_server(tmp_path / "data", extra=("--signup", "invite"))
    try:
        admin = Cli(tmp_path / "admin", server.api_url)
        admin.ok(
            "auth", "signup", "--email", "admin@example.com", "--password", "an-admins-passphrase"
        )
        admin.ok("orgs", "create", "team")
        bob = Cli(tmp_path / "bob", server.api_url)
        refused = bob(
            "auth", "signup", "--email", "bob@example.com", "--password", "bobs-passphrase"
        )
        assert refused.returncode != 0 and "by invitation" in refused.stderr
        code = json.loads(
            admin.ok("orgs", "invite", "bob@example.com", "--org", "team", "--json").stdout
        )["code"]

        bob.ok(
            "auth",
            "signup",
            "--email",
            "bob@example.com",
            "--password",
            "bobs-passphrase",
            "--invite",
            code,
        )
        bob.ok("apps", "create", "team-app", "--org", "team")

        listed = json.loads(admin.ok("apps", "list", "--org", "team", "--json").stdout)
        assert [(a["name"], a["org"], a["owner"]) for a in listed] == [
            ("team-app", "team", "bob@example.com")
        ]
        gone = bob("apps", "destroy", "team-app", "--yes")
        assert gone.returncode != 0 and "only an admin" in gone.stderr
        _ci_works_in_the_org_with_an_org_token(admin, tmp_path)
        last = admin("orgs", "leave", "team")
        assert last.returncode != 0 and "last admin" in last.stderr
        admin.ok("apps", "destroy", "team-app", "--yes")
    finally:
        server.stop()
