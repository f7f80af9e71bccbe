"""Org tokens (issue 8): what a member may do in one org, nothing outside it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hangar.api import app as api_app
from hangar.store.models import Token

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client(fake_platform):
    with TestClient(api_app.create_api(fake_platform)) as test_client:
        yield test_client


def login(client, email):
    made = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def org_token(client, headers, org=None, **body):
    made = client.post("/v1/tokens/org", json={"org": org, **body}, headers=headers)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


@pytest.fixture
def admin(client):
    """ann, admin of org "team" (app "shared") and of her personal org "ann" (app "mine")."""
    ann = login(client, "ann@example.com")
    assert client.post("/v1/orgs", json={"name": "team"}, headers=ann).status_code == 201
    for name, org in (("shared", "team"), ("mine", None)):
        made = client.post("/v1/apps", json={"name": name, "org": org}, headers=ann)
        assert made.status_code == 201, made.text
    return ann


def test_an_org_token_sees_only_its_orgs_apps_and_org(client, admin):
    token = org_token(client, admin, "team")

    assert [a["name"] for a in client.get("/v1/apps", headers=token).json()] == ["shared"]
    assert [o["name"] for o in client.get("/v1/orgs", headers=token).json()] == ["team"]
    assert client.get("/v1/apps/shared", headers=token).status_code == 200
    for path in ("/v1/apps/mine", "/v1/apps/mine/releases", "/v1/orgs/ann", "/v1/apps?org=ann"):
        refused = client.get(path, headers=token)
        assert refused.status_code == 403, path
        assert "reaches only team" in refused.json()["message"]


def test_an_org_token_makes_apps_in_its_org_only(client, admin):
    token = org_token(client, admin, "team")

    made = client.post("/v1/apps", json={"name": "ci-app"}, headers=token)
    assert made.status_code == 201 and made.json()["org"] == "team"
    refused = client.post("/v1/apps", json={"name": "sneaky", "org": "ann"}, headers=token)
    assert refused.status_code == 403
    assert client.get("/v1/apps/sneaky", headers=admin).status_code == 404


def test_an_admins_org_token_has_a_members_reach(client, admin):
    token = org_token(client, admin, "team")

    assert client.delete("/v1/apps/shared", headers=token).status_code == 403
    invite = {"email": "bob@example.com", "role": "member"}
    assert client.post("/v1/orgs/team/invites", json=invite, headers=token).status_code == 403
    assert client.post("/v1/tokens/org", json={}, headers=token).status_code == 403
    assert client.get("/v1/tokens", headers=token).status_code == 403
    assert client.get("/v1/apps/shared", headers=admin).status_code == 200


def join_team(client, admin, member):
    code = client.post(
        "/v1/orgs/team/invites", json={"email": "bob@example.com", "role": "member"}, headers=admin
    ).json()["code"]
    assert client.post("/v1/orgs/join", json={"code": code}, headers=member).status_code == 200


def test_a_removed_members_tokens_of_the_org_stop_for_good(client, admin):
    bob = login(client, "bob@example.com")
    join_team(client, admin, bob)
    token = org_token(client, bob, "team")
    made = client.post("/v1/tokens/deploy", json={"app": "shared"}, headers=bob).json()
    deploy = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/v1/apps/shared", headers=token).status_code == 200

    assert client.delete("/v1/orgs/team/members/bob@example.com", headers=admin).status_code == 204
    join_team(client, admin, bob)

    assert client.get("/v1/apps", headers=token).status_code == 401
    assert client.get("/v1/apps/shared", headers=deploy).status_code == 401
    assert [t["kind"] for t in client.get("/v1/tokens", headers=bob).json()] == ["session"]


def test_org_tokens_are_listed_with_their_org_and_revocable(client, admin):
    token = org_token(client, admin, "team", name="ci")
    listed = client.get("/v1/tokens", headers=admin).json()
    made = [t for t in listed if t["kind"] == "org"]
    assert [(t["org"], t["name"], t["app"]) for t in made] == [("team", "ci", None)]
    assert made[0]["expires_at"] is not None

    assert client.delete(f"/v1/tokens/{made[0]['id']}", headers=admin).status_code == 204
    assert client.get("/v1/apps", headers=token).status_code == 401


def test_the_default_org_is_the_personal_one(client, admin):
    token = org_token(client, admin)
    assert [a["name"] for a in client.get("/v1/apps", headers=token).json()] == ["mine"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"org": "nobody-has-this"}, 404, "not found"),
        ({"org": "team", "expiry_s": -1}, 422, "expiry"),
        ({"org": "team", "expiry_s": 1e12}, 422, "expiry"),
        ({"org": "team", "name": "x" * 65}, 422, "name"),
    ],
)
def test_bad_org_token_requests_are_refused_and_make_nothing(client, admin, body, status, words):
    refused = client.post("/v1/tokens/org", json=body, headers=admin)

    assert refused.status_code == status and words in refused.json()["message"]
    assert [t["kind"] for t in client.get("/v1/tokens", headers=admin).json()] == ["session"]


def test_another_users_org_cannot_have_a_token_made_for_it(client, admin):
    sam = login(client, "sam@example.com")
    refused = client.post("/v1/tokens/org", json={"org": "team"}, headers=sam)
    assert refused.status_code == 404
    assert [t["kind"] for t in client.get("/v1/tokens", headers=sam).json()] == ["session"]


def test_a_token_of_a_kind_the_server_does_not_know_is_no_login(client, admin, fake_platform):
    """What an older server would make of a newer kind (or a downgraded store's rows)."""
    token = org_token(client, admin, "team")
    with fake_platform.db.session() as session:
        session.execute(update(Token).where(Token.kind == "org").values(kind="future"))
    refused = client.get("/v1/apps", headers=token)
    assert refused.status_code == 401 and "kind of token" in refused.json()["message"]
