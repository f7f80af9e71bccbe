"""The course-notes workflow through the real CLI, server, Docker Engine and HAProxy."""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import app_name

pytestmark = [pytest.mark.docker, pytest.mark.haproxy]


def _status(cli, app):
    return json.loads(cli.ok("status", "-a", app, "--json").stdout)


def test_launch_deploy_serve_redeploy_without_errors(server, cli, project):
    name = app_name()
    cli.ok("launch", "--no-deploy", "--name", name, cwd=project)
    assert f'app = "{name}"' in (project / "fly.toml").read_text()
    apps = {a["name"]: a for a in json.loads(cli.ok("apps", "list", "--json").stdout)}
    assert apps[name]["status"] == "pending"
    assert server.get(name).status_code == 503

    result = cli.ok("deploy", cwd=project)
    url = f"https://{name}.localhost:{server.https_port}"
    assert f"Visit your newly deployed app at {url}" in result.stdout
    status = _status(cli, name)
    assert status["app"]["status"] == "deployed"
    assert [(m["state"], m["release"]) for m in status["machines"]] == [("started", 1)] * 2
    hosts = {server.get(name, "/cgi-bin/info").text.split("hostname=")[1] for _ in range(6)}
    assert len(hosts) == 2, "both machines serve"

    (project / "www" / "index.html.in").write_text("<h1>second @VERSION@</h1>\n")
    failures, sent = _redeploy_under_load(server, cli, name, project)
    assert sent > 20
    assert failures == []
    assert "second" in server.get(name).text
    assert [(m["state"], m["release"]) for m in _status(cli, name)["machines"]] == [
        ("started", 2)
    ] * 2
    releases = json.loads(cli.ok("releases", "-a", name, "--json").stdout)
    assert [(r["version"], r["status"]) for r in releases] == [(2, "complete"), (1, "complete")]


def _redeploy_under_load(server, cli, name, project):
    failures: list[str] = []
    sent = 0
    done = threading.Event()

    def load() -> None:
        nonlocal sent
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline and sent < 5000:
            try:
                response = server.get(name)
                if response.status_code != 200:
                    failures.append(str(response.status_code))
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
            sent += 1

    worker = threading.Thread(target=load)
    worker.start()
    try:
        cli.ok("deploy", cwd=project)
    finally:
        done.set()
        worker.join()
    return failures, sent


def test_unknown_host_gets_404_page(server):
    response = server.get("no-such-app")
    assert response.status_code == 404
    assert "no-such-app" in response.text


def test_launch_without_a_name_generates_a_readable_one(cli, project):
    cli.ok("launch", "--no-deploy", cwd=project)
    text = (project / "fly.toml").read_text()
    name = text.split('app = "')[1].split('"')[0]
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{4}", name), name
    assert "internal_port = 8080" in text  # from EXPOSE
    statuses = {a["name"]: a["status"] for a in json.loads(cli.ok("apps", "list", "--json").stdout)}
    assert statuses[name] == "pending"


def test_copy_config_keeps_settings_and_warns_about_unknown_keys(cli, project):
    (project / "fly.toml").write_text(
        'app = "old"\nswap_size_mb = 512\nflavour = "mint"\n'
        "[http_service]\ninternal_port = 8080\nmin_machines_running = 1\n"
    )
    name = app_name()
    result = cli.ok("launch", "--no-deploy", "--copy-config", "--name", name, cwd=project)
    assert "unknown key 'flavour' ignored" in result.stderr
    text = (project / "fly.toml").read_text()
    assert f'app = "{name}"' in text and "min_machines_running = 1" in text
    assert 'flavour = "mint"' in text, "the rest of the file is kept as written"


def test_existing_fly_toml_is_not_overwritten_without_consent(cli, project):
    (project / "fly.toml").write_text('app = "mine"\n')
    result = cli("launch", "--no-deploy", cwd=project)
    assert result.returncode == 1 and "--copy-config" in result.stderr
    assert (project / "fly.toml").read_text() == 'app = "mine"\n'
