"""An app's own domains through the API: validated, owned by one app, routed."""

from __future__ import annotations

import pytest
from cryptography import x509

from hangar.domain.hostnames import custom_domain
from hangar.domain.names import validate_app_name
from hangar.edge.local_ca import LocalCA
from hangar.errors import InvalidInput
from tests.unit.test_api import signed_up


@pytest.fixture
def owner(client):
    headers = signed_up(client)
    assert client.post("/v1/apps", json={"name": "web"}, headers=headers).status_code == 201
    return headers


def test_an_added_domain_is_routed_listed_shown_and_removed(client, owner, fake_platform):
    added = client.post("/v1/apps/web/certs", json={"hostname": "WWW.Example.COM"}, headers=owner)
    assert added.status_code == 201
    body = added.json()
    assert (body["hostname"], body["app"], body["status"]) == (
        "www.example.com",
        "web",
        "awaiting certificate",  # the fake edge serves plain HTTP
    )
    assert "CNAME www.example.com -> web.localhost" in body["dns"]
    assert fake_platform.edge.domains["web"] == ("www.example.com",)
    listed = client.get("/v1/apps/web/certs", headers=owner).json()
    assert [d["hostname"] for d in listed] == ["www.example.com"]
    shown = client.get("/v1/apps/web/certs/www.example.com", headers=owner)
    assert shown.json()["hostname"] == "www.example.com"
    checked = client.post("/v1/apps/web/certs/www.example.com/check", headers=owner)
    assert checked.status_code == 200 and "refresh certificates" in fake_platform.edge.journal
    assert client.delete("/v1/apps/web/certs/www.example.com", headers=owner).status_code == 204
    assert fake_platform.edge.domains["web"] == ()
    assert client.get("/v1/apps/web/certs", headers=owner).json() == []


def test_a_domain_routes_to_one_app_only(client, owner, fake_platform):
    client.post("/v1/apps/web/certs", json={"hostname": "shop.example.com"}, headers=owner)
    again = client.post("/v1/apps/web/certs", json={"hostname": "shop.example.com"}, headers=owner)
    assert again.status_code == 409 and "already a domain of app web" in again.json()["message"]
    other = signed_up(client, "eve@example.com")
    client.post("/v1/apps", json={"name": "evil"}, headers=other)
    taken = client.post("/v1/apps/evil/certs", json={"hostname": "shop.example.com"}, headers=other)
    assert taken.status_code == 409
    assert "taken by another app" in taken.json()["message"]
    assert "web" not in taken.json()["message"]  # whose it is stays unsaid
    assert fake_platform.edge.domains.get("evil", ()) == ()
    for path in ("/v1/apps/web/certs", "/v1/apps/web/certs/shop.example.com"):
        assert client.get(path, headers=other).status_code == 403
    assert client.delete("/v1/apps/web/certs/shop.example.com", headers=other).status_code == 403
    assert fake_platform.edge.domains["web"] == ("shop.example.com",)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("not a domain", "is not a domain"),
        ("localhost-only", "is not a domain"),
        ("*.example.com", "wildcard"),
        ("10.0.0.1", "IP address"),
        ("other.localhost", "under this platform's own domain"),
        ("localhost", "is not a domain"),
        ("a" * 64 + ".com", "is not a domain"),
        ("-bad.example.com", "is not a domain"),
    ],
)
def test_names_that_cannot_be_a_domain_are_refused_and_nothing_is_kept(
    client, owner, fake_platform, name, said
):
    refused = client.post("/v1/apps/web/certs", json={"hostname": name}, headers=owner)
    assert refused.status_code == 422 and said in refused.json()["message"], refused.json()
    assert client.get("/v1/apps/web/certs", headers=owner).json() == []
    assert "web" not in fake_platform.edge.domains


def test_removing_a_domain_the_app_lacks_is_404_with_a_hint(client, owner):
    missing = client.delete("/v1/apps/web/certs/nope.example.com", headers=owner)
    assert missing.status_code == 404 and "certs list" in missing.json()["hint"]


def test_a_domain_is_lowercased_and_stripped():
    assert custom_domain(" Api.Example.Org ", "localhost") == "api.example.org"
    with pytest.raises(InvalidInput):
        custom_domain("x.localhost", "localhost")


def test_a_destroyed_apps_domains_are_free_for_another_app(client, owner, fake_platform):
    client.post("/v1/apps/web/certs", json={"hostname": "shop.example.com"}, headers=owner)
    assert client.delete("/v1/apps/web", headers=owner).status_code in (200, 204)
    client.post("/v1/apps", json={"name": "next"}, headers=owner)
    moved = client.post("/v1/apps/next/certs", json={"hostname": "shop.example.com"}, headers=owner)
    assert moved.status_code == 201
    assert "web" not in fake_platform.edge.domains


def test_a_trailing_newline_is_no_domain_and_a_long_one_gets_a_certificate(tmp_path):
    with pytest.raises(InvalidInput):
        custom_domain("evil.com\n.example.org", "localhost")
    long_name = custom_domain(f"{'a' * 60}.{'b' * 60}.example.com", "localhost")
    issued = LocalCA(tmp_path).issue((long_name,))  # past CN's 64 characters: SAN only
    cert = x509.load_pem_x509_certificate(issued.chain_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [long_name]


@pytest.mark.parametrize("name", ["http", "metrics", "web\n"])
def test_the_edges_own_proxy_names_and_newlines_are_no_app_names(name):
    with pytest.raises(InvalidInput):
        validate_app_name(name)
