"""Each bad input gets a clear error, a non-zero exit, and leaves state as it was."""

from __future__ import annotations

import io
import json
import tarfile

import httpx
import pytest

from tests.e2e.conftest import app_name, write_fly_toml

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]


def _app_names(cli):
    return {a["name"] for a in json.loads(cli.ok("apps", "list", "--json").stdout)}


def _fails(result, *phrases):
    assert result.returncode != 0, result.stdout
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("bad", ["Bad_Name", "-dash", "x" * 41])
def test_bad_app_name_is_refused_and_nothing_is_written(cli, project, bad):
    before = _app_names(cli)
    _fails(cli("launch", "--no-deploy", "--name", bad, cwd=project), "app name")
    assert not (project / "fly.toml").exists()
    assert _app_names(cli) == before


def test_duplicate_app_name(cli):
    name = app_name()
    cli.ok("apps", "create", name)
    _fails(cli("apps", "create", name), "already exists")
    assert name in _app_names(cli)


def test_launch_without_dockerfile(cli, tmp_path):
    before = _app_names(cli)
    _fails(cli("launch", "--no-deploy", cwd=tmp_path), "no Dockerfile")
    assert _app_names(cli) == before


def test_deploy_without_dockerfile(cli, tmp_path):
    name = app_name()
    cli.ok("apps", "create", name)
    write_fly_toml(tmp_path, name)
    _fails(cli("deploy", cwd=tmp_path), "no Dockerfile")
    assert json.loads(cli.ok("releases", "-a", name, "--json").stdout) == []


def test_wrong_types_in_fly_toml_are_named_by_key(cli, project):
    (project / "fly.toml").write_text(
        'app = "typed"\nkill_timeout = "soon"\n[http_service]\ninternal_port = "eighty"\n'
    )
    result = cli("config", "validate", cwd=project)
    _fails(result, "kill_timeout", "http_service.internal_port")
    _fails(cli("deploy", cwd=project), "http_service.internal_port")


def test_valid_config_passes(cli, project):
    write_fly_toml(project, "whatever")
    assert "Configuration is valid" in cli.ok("config", "validate", cwd=project).stdout


def test_failed_build_shows_log_records_nothing_and_keeps_machines(cli, server, deployed):
    name, folder = deployed
    before = json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)
    releases = json.loads(cli.ok("releases", "-a", name, "--json").stdout)
    dockerfile = folder / "Dockerfile"
    good = dockerfile.read_text()
    dockerfile.write_text(good + "RUN echo about-to-fail && false\n")
    try:
        result = cli("deploy", cwd=folder)
    finally:
        dockerfile.write_text(good)
    _fails(result, "build")
    assert "about-to-fail" in result.stdout + result.stderr
    assert json.loads(cli.ok("releases", "-a", name, "--json").stdout) == releases
    assert json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout) == before
    assert server.get(name).status_code == 200


def test_someone_elses_app(cli, other_cli, deployed, project):
    name, _ = deployed
    _fails(other_cli("status", "-a", name), "not yours")
    write_fly_toml(project, name)
    _fails(other_cli("deploy", cwd=project), "not yours")
    _fails(other_cli("apps", "destroy", name, "--yes"), "not yours")
    assert name in _app_names(cli)


def _tar(*members: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.addfile(_file("Dockerfile", b"FROM scratch\n"), io.BytesIO(b"FROM scratch\n"))
        for member in members:
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return buffer.getvalue()


def _file(name: str, data: bytes = b"x") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("member", "phrase"),
    [
        (_file("/etc/evil"), "/etc/evil"),
        (_file("../evil"), "../evil"),
        (_link("out", "/etc/passwd", tarfile.SYMTYPE), "out"),
        (_link("up", "../../secret", tarfile.SYMTYPE), "up"),
        (_link("hard", "/etc/passwd", tarfile.LNKTYPE), "hard"),
    ],
)
def test_upload_escaping_the_folder_is_refused(server, cli, deployed, member, phrase):
    name, _ = deployed
    token = cli.ok("auth", "token").stdout.strip()
    uploads = server.data_dir / "uploads"
    before = set(uploads.iterdir()) if uploads.exists() else set()
    response = httpx.post(
        f"{server.api_url}/v1/apps/{name}/uploads",
        content=_tar(member),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/gzip"},
    )
    assert response.status_code == 422, response.text
    assert phrase in response.json()["message"]
    assert set(uploads.iterdir()) == before


def test_missing_or_wrong_token(server, cli, deployed):
    name, _ = deployed
    response = httpx.get(f"{server.api_url}/v1/apps/{name}")
    assert response.status_code == 401
    assert "token" in response.json()["message"]
    wrong = httpx.get(f"{server.api_url}/v1/apps", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    result = cli("apps", "list", env_extra={"HANGAR_ACCESS_TOKEN": "hgr_wrong"})
    _fails(result, "not valid", "hangar auth login")


def test_wrong_password(cli):
    result = cli("auth", "login", "--email", "dev@example.com", "--password", "not-it")
    _fails(result, "wrong email or password")
    cli.ok("auth", "whoami")


def test_the_store_and_the_data_dir_are_this_users_only(cli, server):
    cli.ok("apps", "list")  # the store has been written
    assert server.data_dir.stat().st_mode & 0o777 == 0o700
    made = [p for p in server.data_dir.rglob("*") if p.name.startswith("hangar.db")]
    assert made, "no state store in the data dir"
    assert {p.name: p.stat().st_mode & 0o077 for p in made} == {p.name: 0 for p in made}
