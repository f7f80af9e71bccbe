"""`hangar secrets` through the real CLI, server, Docker Engine and HAProxy."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import uuid

import docker
import pytest

from tests.e2e.conftest import EXAMPLE, app_name, write_fly_toml
from tests.support.server import Cli, restart_server, start_server

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]


def _value() -> str:
    """A value that appears nowhere unless Hangar leaks it."""
    return f"plain-{uuid.uuid4().hex}"


def _container_envs(name: str) -> list[dict[str, str]]:
    """The environment of each running container of the app (test containers only)."""
    engine = docker.from_env()
    try:
        containers = engine.containers.list(filters={"label": f"hangar.app={name}"})
        return [dict(v.split("=", 1) for v in c.attrs["Config"]["Env"]) for c in containers]
    finally:
        engine.close()


def _releases(cli, name):
    return json.loads(cli.ok("releases", "-a", name, "--json").stdout)


def _secrets(cli, name):
    return {
        s["name"]: s for s in json.loads(cli.ok("secrets", "list", "-a", name, "--json").stdout)
    }


def _stored_bytes(server) -> bytes:
    """Everything SQLite keeps on disk: the database and its write-ahead log."""
    files = sorted(server.data_dir.glob("hangar.db*"))
    assert files, "the server keeps its state in hangar.db"
    return b"".join(path.read_bytes() for path in files)


def test_set_restarts_a_deployed_app_with_the_secret(server, cli, deployed):
    name, _ = deployed
    value = _value()
    before = _releases(cli, name)[0]["version"]

    result = cli.ok("secrets", "set", f"HELLO_VERSION={value}", "API_TOKEN=t0", "-a", name)
    assert f"Release v{before + 1} created" in result.stdout
    assert value not in result.stdout + result.stderr

    latest = _releases(cli, name)[0]
    assert (latest["version"], latest["status"], latest["description"]) == (
        before + 1,
        "complete",
        "Update secrets",
    )
    envs = _container_envs(name)
    assert len(envs) == 2
    assert all(env["HELLO_VERSION"] == value and env["API_TOKEN"] == "t0" for env in envs)
    assert f"version={value}" in server.get(name, "/cgi-bin/info").text, "secrets override ENV"

    listed = cli.ok("secrets", "list", "-a", name, "--json").stdout
    assert value not in listed
    secret = _secrets(cli, name)["HELLO_VERSION"]
    assert secret["status"] == "deployed"
    assert len(secret["digest"]) == 16  # keyed (HMAC): not the value's plain SHA-256
    assert secret["digest"] != hashlib.sha256(value.encode()).hexdigest()[:16]
    assert value.encode() not in _stored_bytes(server)
    assert value not in server.log_path.read_text(errors="replace")


def test_stage_stores_without_a_release_until_secrets_deploy(cli, deployed):
    name, _ = deployed
    before = _releases(cli, name)[0]["version"]

    result = cli.ok("secrets", "set", "STAGED_ONE=later", "--stage", "-a", name)
    assert "staged" in result.stdout
    assert _releases(cli, name)[0]["version"] == before
    assert _secrets(cli, name)["STAGED_ONE"]["status"] == "staged"
    assert all("STAGED_ONE" not in env for env in _container_envs(name))

    cli.ok("secrets", "deploy", "-a", name)
    assert _releases(cli, name)[0]["description"] == "Update secrets"
    assert all(env["STAGED_ONE"] == "later" for env in _container_envs(name))
    assert _secrets(cli, name)["STAGED_ONE"]["status"] == "deployed"


def test_unset_removes_the_secret_from_the_machines(cli, deployed):
    name, _ = deployed
    cli.ok("secrets", "set", "GONE_SOON=1", "KEPT=2", "-a", name)
    before = _releases(cli, name)[0]["version"]

    cli.ok("secrets", "unset", "GONE_SOON", "-a", name)
    assert _releases(cli, name)[0]["version"] == before + 1
    assert "GONE_SOON" not in _secrets(cli, name)
    envs = _container_envs(name)
    assert all("GONE_SOON" not in env and env["KEPT"] == "2" for env in envs)

    missing = cli("secrets", "unset", "NEVER_SET", "-a", name)
    assert missing.returncode != 0
    assert "no secret named NEVER_SET" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["1BAD=x", "GOOD=y"], "'1BAD' is not a valid secret name"),
        (["MY-KEY=x"], "'MY-KEY' is not a valid secret name"),
        (["GOOD=y", "NOEQUALS"], "argument 2 is not a NAME=VALUE pair"),
        (["=value"], "a secret name cannot be empty"),
        (["FLY_APP_NAME=x"], "reserved"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(cli, deployed, args, error):
    name, _ = deployed
    before = (_secrets(cli, name), _releases(cli, name))
    result = cli("secrets", "set", *args, "-a", name)
    assert result.returncode != 0
    assert error in result.stderr
    assert "Traceback" not in result.stderr
    assert (_secrets(cli, name), _releases(cli, name)) == before


def test_someone_elses_app_is_refused(other_cli, deployed):
    name, _ = deployed
    for args in (["set", "A=1"], ["list"], ["unset", "A"]):
        result = other_cli("secrets", *args, "-a", name)
        assert result.returncode != 0
        assert "is not yours" in result.stderr


def test_secrets_set_before_the_first_deploy_go_with_it(server, cli, tmp_path):
    project = tmp_path / "app"
    shutil.copytree(EXAMPLE, project)
    name = app_name("sec")
    write_fly_toml(project, name, '\n[env]\nHELLO_VERSION = "from-env"\nPLAIN = "env"\n')
    cli.ok("apps", "create", name)
    try:
        piped = "# from a file\nHELLO_VERSION=from-secret\n\nDB_URL=postgres://u:p@db/x\n"
        result = cli.ok("secrets", "set", "-", cwd=project, input=piped)
        assert "Secrets are staged for the first deployment" in result.stdout
        assert _releases(cli, name) == []
        assert {s["status"] for s in _secrets(cli, name).values()} == {"staged"}

        cli.ok("deploy", cwd=project)
        assert [r["version"] for r in _releases(cli, name)] == [1]
        for env in _container_envs(name):
            assert env["HELLO_VERSION"] == "from-secret", "a secret overrides [env]"
            assert (env["DB_URL"], env["PLAIN"]) == ("postgres://u:p@db/x", "env")
        assert {s["status"] for s in _secrets(cli, name).values()} == {"deployed"}
        assert "from-secret" in server.get(name, "/cgi-bin/info").text
    finally:
        cli("apps", "destroy", name, "--yes")


def test_a_server_with_another_key_fails_clearly(tmp_path):
    """The key file is created 0600 where asked; the wrong key names the secret, not its value."""
    key, other_key = tmp_path / "keys" / "one.key", tmp_path / "keys" / "two.key"
    server = start_server(tmp_path / "data", extra=("--secrets-key-file", str(key)))
    name = app_name("key")
    value = _value()
    try:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        cli = Cli(tmp_path / "home", server.api_url)
        cli.ok("auth", "signup", "--email", "k@example.com", "--password", "password-for-tests")
        project = tmp_path / "app"
        shutil.copytree(EXAMPLE, project)
        write_fly_toml(project, name)
        cli.ok("apps", "create", name)
        cli.ok("secrets", "set", f"TOKEN={value}", cwd=project)
        server.stop()

        server = restart_server(server, ("--secrets-key-file", str(other_key)))
        assert "TOKEN" in cli.ok("secrets", "list", cwd=project).stdout
        result = cli("deploy", cwd=project)
        assert result.returncode != 0
        assert f"secret TOKEN of app {name} cannot be decrypted" in result.stderr
        assert "--secrets-key-file" in result.stderr
        assert value not in result.stdout + result.stderr
        assert _container_envs(name) == []
        cli.ok("apps", "destroy", name, "--yes")
    finally:
        server.stop()
