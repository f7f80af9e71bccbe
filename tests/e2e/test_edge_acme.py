"""A server with --acme-directory: a deployed app's certificate comes from Pebble by
HTTP-01 through the edge, and a domain that cannot be validated says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

from tests.e2e.conftest import EXAMPLE, app_name, write_fly_toml
from tests.support.backends import free_port
from tests.support.pebble import running_pebble
from tests.support.server import Cli, start_server

DOMAIN = "hangar.test"


def wait_for_state(cli: Cli, name: str, hostname: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        shown = json.loads(cli.ok("certs", "show", hostname, "-a", name, "--json").stdout)
        if shown["acme"]["state"] != "pending" or time.monotonic() > deadline:
            return shown
        time.sleep(0.5)


def curl(url: str, resolve: str, cacert: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--cacert", cacert, "--resolve", resolve, url],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_certificates_come_from_acme_and_a_failed_one_says_why(tmp_path):
    http_port = free_port()
    with running_pebble(tmp_path / "pebble", http_port) as pebble:
        acme = (
            "--domain", DOMAIN,
            "--acme-directory", pebble.directory,
            "--acme-email", "ops@example.com",
            "--acme-ca-file", str(pebble.ca_file),
        )  # fmt: skip
        server = start_server(tmp_path / "data", http_port, extra=acme)
        cli = Cli(tmp_path / "home", server.api_url)
        created: list[str] = []
        try:
            cli.ok("auth", "signup", "--email", "acme@example.com", "--password", "correct-horse")
            project = tmp_path / "app"
            shutil.copytree(EXAMPLE, project)
            name = app_name("acme")
            write_fly_toml(project, name)
            cli.ok("apps", "create", name)
            created.append(name)
            cli.ok("deploy", cwd=project)
            hostname = f"{name}.{DOMAIN}"
            shown = wait_for_state(cli, name, hostname)
            assert shown["acme"]["state"] == "issued", shown
            assert "Pebble" in shown["certificate"]["issuer"]
            root = tmp_path / "pebble-root.pem"
            root.write_bytes(pebble.root_pem())
            port = server.https_port
            served = curl(f"https://{hostname}:{port}/", f"{hostname}:{port}:127.0.0.1", str(root))
            assert served.returncode == 0, served.stderr
            told = cli.ok("certs", "show", hostname, "-a", name).stdout
            assert "Renews after" in told and "Status       issued" in told

            pebble.point("bad.example.com", "127.0.0.2")  # nothing of ours listens there
            cli.ok("certs", "add", "bad.example.com", "-a", name)
            checked = cli.ok("certs", "check", "bad.example.com", "-a", name).stdout
            assert "Status       failed" in checked and "Last error" in checked
            assert "bad.example.com" in checked.split("Last error", 1)[1]
            plain = server.get(name, "/", headers={"Host": "bad.example.com"})
            assert plain.status_code == 200  # plain HTTP goes on while HTTPS waits
        finally:
            for name in created:
                cli("apps", "destroy", name, "--yes")
            server.stop()
