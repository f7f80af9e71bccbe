"""The edge of a real server: HTTPS with its own CA, `hangar certs ca`, force_https,
the headers it sets, and its access log in `hangar logs --edge`."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import write_fly_toml


def test_a_deployed_app_answers_over_https_with_the_servers_ca(cli, server, deployed):
    name, _ = deployed
    saved = Path(cli.ok("certs", "ca", "--path").stdout.strip())
    assert saved.read_bytes() == server.ca_file.read_bytes()
    assert server.get_https(name).status_code == 200
    told = cli.ok("certs", "ca").stdout
    assert f"curl --cacert {saved}" in told and "update-ca-certificates" in told
    # as the README says: curl trusting that file, and nothing else
    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "--cacert",
            str(saved),
            "--resolve",
            f"{name}.localhost:{server.https_port}:127.0.0.1",
            f"https://{name}.localhost:{server.https_port}/",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert curl.returncode == 0, curl.stderr
    untrusted = subprocess.run(
        [
            "curl",
            "-sS",
            "--resolve",
            f"{name}.localhost:{server.https_port}:127.0.0.1",
            f"https://{name}.localhost:{server.https_port}/",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert untrusted.returncode != 0  # not a certificate anyone else trusts


def test_logs_edge_shows_each_request_with_its_machine_and_request_id(cli, server, deployed):
    name, _ = deployed
    answer = server.get(name, "/edge-probe?x=1", headers={"X-Request-Id": "probe-0001abcd"})
    assert answer.headers["x-request-id"] == "probe-0001abcd"
    machines = {
        m["id"] for m in json.loads(cli.ok("machines", "list", "-a", name, "--json").stdout)
    }
    deadline = time.monotonic() + 10
    found: list[str] = []
    while not found and time.monotonic() < deadline:
        shown = cli.ok("logs", "-a", name, "--edge").stdout.splitlines()
        found = [line for line in shown if "probe-0001abcd" in line]
        time.sleep(0.2)
    (line,) = found
    assert "[edge] GET /edge-probe 404 " in line  # the path, never the query string
    assert line.split()[2] in machines  # date, time, machine id, message
    assert "probe-0001abcd" not in cli.ok("logs", "-a", name).stdout


def test_certs_add_routes_an_own_domain_over_https_and_remove_ends_it(cli, server, deployed):
    name, _ = deployed
    added = cli.ok("certs", "add", "shop.example.test", "-a", name).stdout
    assert f"CNAME shop.example.test -> {name}.localhost" in added
    shown = cli.ok("certs", "show", "shop.example.test", "-a", name).stdout
    assert "issued" in shown and "by Hangar local CA on " in shown
    assert server.get_https(name, host="shop.example.test").status_code == 200
    listed = json.loads(cli.ok("certs", "list", "-a", name, "--json").stdout)
    assert [d["hostname"] for d in listed] == ["shop.example.test"]
    refused = cli("certs", "add", "x.localhost", "-a", name)
    assert refused.returncode != 0 and "platform's own domain" in refused.stderr
    cli.ok("certs", "remove", "shop.example.test", "-a", name, "--yes")
    gone = server.get(name, headers={"Host": "shop.example.test"})
    assert gone.status_code == 404


def test_both_metrics_endpoints_answer_on_loopback(cli, server, deployed):
    name, _ = deployed
    control, edge = server.metrics_ports
    ours = httpx.get(f"http://127.0.0.1:{control}/metrics", timeout=10).text
    assert f'hangar_machines{{app="{name}",state="started"}} 2.0' in ours
    assert 'hangar_deploys_total{outcome="complete"}' in ours
    assert 'hangar_deploy_duration_seconds_count{outcome="complete"}' in ours
    assert 'hangar_certificates_issued_total{issuer="local CA",kind="first"}' in ours
    haproxys = httpx.get(f"http://127.0.0.1:{edge}/metrics", timeout=10).text
    assert f'haproxy_backend_http_responses_total{{proxy="{name}",code="2xx"}}' in haproxys
    assert httpx.get(f"http://127.0.0.1:{edge}/other", timeout=10).status_code == 404


def test_force_https_answers_plain_http_with_a_redirect(cli, server, deployed):
    name, folder = deployed
    write_fly_toml(folder, name, "force_https = true\n")
    cli.ok("deploy", cwd=folder)
    moved = server.get(name, "/page?x=1")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"https://{name}.localhost:{server.https_port}/page?x=1"
    assert server.get_https(name).status_code == 200
    # last in this module: the app keeps answering plain HTTP with redirects
