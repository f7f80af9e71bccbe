"""Accounts (issue 8, item 8): email and password rules, login limits, alike answers,
expiring and revocable tokens, password change, deploy tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hangar.api import app as api_app
from hangar.client.settings import ClientSettings
from hangar.control import accounts
from hangar.control.login_limits import LoginLimits
from hangar.store.models import Token
from hangar.testing import FakeClock

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client(fake_platform):
    with TestClient(api_app.create_api(fake_platform)) as test_client:
        yield test_client


def signup(client, email="dev@example.com", password=PASSWORD) -> dict[str, str]:
    response = client.post("/v1/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def login(client, email="dev@example.com", password=PASSWORD):
    return client.post("/v1/auth/login", json={"email": email, "password": password})


@pytest.mark.parametrize(
    "email", ["a@b", "no-at-sign", "two@@example.com", "a b@example.com", "x@-bad-.com", "x@y..com"]
)
def test_an_address_without_a_proper_domain_is_refused(client, email):
    response = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 422 and "not an email address" in response.json()["message"]


@pytest.mark.parametrize(
    "password, reason",
    [
        (" " * 12, "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("1234567890", "too easy"),
        ("dev@example.com", "too easy"),
        ("short-pw", "too short"),
        ("x" * 300, "too long"),
    ],
)
def test_weak_passwords_are_refused_without_echoing_them(client, password, reason):
    response = client.post(
        "/v1/auth/signup", json={"email": "dev@example.com", "password": password}
    )
    assert response.status_code == 422 and reason in response.json()["message"]
    assert password.strip() == "" or password not in response.text
    assert login(client, password=password).status_code == 401  # no account was made


def test_logins_are_limited_per_account_then_per_address(client, fake_platform):
    clock = FakeClock()
    fake_platform.login_limits = LoginLimits(clock, per_account=3, per_address=5)
    signup(client)
    signup(client, "other@example.com")
    for _ in range(3):
        assert login(client, password="wrong-password-1").status_code == 401

    limited = login(client)  # even the right password, until the window passes
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert login(client, "other@example.com").status_code == 200  # another account goes on
    for _ in range(2):
        login(client, "nobody@example.com", "wrong-password-1")
    assert login(client, "other@example.com").status_code == 429  # the address is spent
    clock.advance(901)
    assert login(client).status_code == 200


def test_unknown_emails_and_wrong_passwords_answer_alike_at_the_same_cost(client, monkeypatch):
    signup(client)
    checked: list[bool] = []
    real = accounts.password_matches

    def counting(password_hash, password):
        checked.append(password_hash is not None)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "password_matches", counting)
    unknown = login(client, "nobody@example.com", "wrong-password-1")
    wrong = login(client, "dev@example.com", "wrong-password-1")

    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
    assert checked == [False, True]  # one argon2 check each: a dummy hash for the unknown email


def test_tokens_are_listed_revocable_and_expire(client, fake_platform):
    first = signup(client)
    second = {"Authorization": f"Bearer {login(client).json()['token']}"}
    listed = client.get("/v1/tokens", headers=first).json()
    assert [(t["kind"], t["current"]) for t in listed] == [("session", True), ("session", False)]
    assert all(t["expires_at"] for t in listed)

    assert client.delete(f"/v1/tokens/{listed[1]['id']}", headers=first).status_code == 204
    assert client.get("/v1/auth/whoami", headers=second).status_code == 401
    with fake_platform.db.session() as session:
        session.execute(update(Token).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = client.get("/v1/auth/whoami", headers=first)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


def test_another_users_token_cannot_be_revoked_or_seen(client):
    mine = signup(client)
    theirs = signup(client, "other@example.com")
    their_id = client.get("/v1/tokens", headers=theirs).json()[0]["id"]

    refused = client.delete(f"/v1/tokens/{their_id}", headers=mine)

    assert refused.status_code == 404 and refused.json()["message"] == f"token {their_id} not found"
    assert client.delete("/v1/tokens/999999", headers=mine).json() == refused.json() | {
        "message": "token 999999 not found"
    }
    assert client.get("/v1/auth/whoami", headers=theirs).status_code == 200
    assert [t["id"] for t in client.get("/v1/tokens", headers=mine).json()] != [their_id]


def test_a_password_change_ends_the_other_sessions(client):
    current = signup(client)
    other = {"Authorization": f"Bearer {login(client).json()['token']}"}
    change = {"current_password": PASSWORD, "new_password": "a-new-long-passphrase"}

    wrong = client.post(
        "/v1/auth/password", json={**change, "current_password": "nope-nope-1"}, headers=current
    )
    weak = client.post(
        "/v1/auth/password", json={**change, "new_password": "1234567890"}, headers=current
    )
    assert (wrong.status_code, weak.status_code) == (403, 422)
    assert client.get("/v1/auth/whoami", headers=other).status_code == 200  # nothing changed

    assert client.post("/v1/auth/password", json=change, headers=current).status_code == 204
    assert client.get("/v1/auth/whoami", headers=other).status_code == 401
    assert client.get("/v1/auth/whoami", headers=current).status_code == 200
    assert login(client).status_code == 401
    assert login(client, password="a-new-long-passphrase").status_code == 200


def test_a_deploy_token_reaches_its_app_only_and_only_to_deploy_read_and_set_secrets(client):
    owner = signup(client)
    for name in ("web", "api"):
        client.post("/v1/apps", json={"name": name}, headers=owner)
    made = client.post("/v1/tokens/deploy", json={"app": "web", "name": "ci"}, headers=owner)
    assert made.status_code == 201 and made.json()["info"]["app"] == "web"
    deploy = {"Authorization": f"Bearer {made.json()['token']}"}

    assert client.get("/v1/apps/web", headers=deploy).status_code == 200
    assert client.get("/v1/apps/web/releases", headers=deploy).status_code == 200
    assert (
        client.post(
            "/v1/apps/web/secrets", json={"secrets": {"K": "v"}, "stage": True}, headers=deploy
        ).status_code
        == 200
    )
    for method, path in [
        ("GET", "/v1/apps"),
        ("DELETE", "/v1/apps/web"),
        ("POST", "/v1/apps/web/restart"),
        ("GET", "/v1/apps/api"),
        ("GET", "/v1/tokens"),
        ("POST", "/v1/auth/password"),
    ]:
        refused = client.request(method, path, headers=deploy)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "deploy token of app web" in refused.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"app": "web", "expiry_s": -1},
        {"app": "web", "expiry_s": 0},
        {"app": "web", "expiry_s": 1e12},
    ],
)
def test_a_deploy_token_expiry_in_the_past_or_too_far_is_refused(client, body):
    owner = signup(client)
    client.post("/v1/apps", json={"name": "web"}, headers=owner)

    refused = client.post("/v1/tokens/deploy", json=body, headers=owner)

    assert refused.status_code == 422 and "expiry" in refused.json()["message"]
    assert len(client.get("/v1/tokens", headers=owner).json()) == 1


def test_a_token_id_past_the_stores_integers_is_a_422_not_a_500(client):
    response = client.delete("/v1/tokens/9223372036854775808", headers=signup(client))
    assert response.status_code == 422  # once a 500 (the fuzzer)


def test_a_deploy_token_of_someone_elses_app_cannot_be_made(client):
    owner = signup(client)
    client.post("/v1/apps", json={"name": "web"}, headers=owner)
    other = signup(client, "other@example.com")

    assert client.post("/v1/tokens/deploy", json={"app": "web"}, headers=other).status_code == 403


def test_the_cli_reads_hangar_api_token_before_its_saved_login(monkeypatch, tmp_path):
    monkeypatch.setenv("HANGAR_HOME", str(tmp_path))
    ClientSettings(token="saved").save()
    assert ClientSettings.load().token == "saved"
    monkeypatch.setenv("HANGAR_API_TOKEN", "from-ci")
    assert ClientSettings.load().token == "from-ci"
