"""The API answers only to its own host names (issue 8, item 9: DNS rebinding)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hangar.api.app import create_api
from hangar.api.host_check import host_name
from hangar.server import default_api_hosts


@pytest.fixture
def client(fake_platform):
    api = create_api(fake_platform, hosts=default_api_hosts("127.0.0.1"))
    with TestClient(api, base_url="http://127.0.0.1:4280") as test_client:
        yield test_client


def test_a_page_that_rebinds_its_name_to_loopback_is_refused(client):
    rebound = client.post(
        "/v1/auth/signup",
        json={"email": "dev@example.com", "password": "a-long-enough-passphrase"},
        headers={"Host": "rebind.attacker.example:4280"},
    )
    assert rebound.status_code == 400 and rebound.json()["error"] == "bad_host"
    assert "--api-host" in rebound.json()["hint"]
    assert client.get("/v1/auth/whoami", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:4280", "localhost:4280", "LOCALHOST", "[::1]:4280"])
def test_the_api_answers_to_its_own_names_with_any_port(client, host):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_host_names_lose_their_port_and_case():
    assert host_name("Example.COM:8080") == "example.com"
    assert host_name("[::1]:4280") == "[::1]"
    assert host_name("::1") == "::1"


def test_a_particular_bind_address_is_allowed_and_a_wildcard_is_not():
    assert "192.0.2.7" in default_api_hosts("192.0.2.7")
    assert "0.0.0.0" not in default_api_hosts("0.0.0.0")
