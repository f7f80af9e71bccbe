"""Organisations (issue 8): sign-up by invite, members and admins, the last admin, bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from hangar.api import app as api_app
from hangar.store.models import Invite, User

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client(fake_platform):
    fake_platform.settings = replace(fake_platform.settings, signup_policy="invite")
    with TestClient(api_app.create_api(fake_platform)) as test_client:
        yield test_client


def signup(client, email, invite=None):
    body = {"email": email, "password": PASSWORD, "invite": invite}
    return client.post("/v1/auth/signup", json=body)


def auth(response) -> dict[str, str]:
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def team(client):
    """The server's first account (its admin) with an org "team" holding app "shared"."""
    admin = auth(signup(client, "admin@example.com"))
    assert client.post("/v1/orgs", json={"name": "team"}, headers=admin).status_code == 201
    made = client.post("/v1/apps", json={"name": "shared", "org": "team"}, headers=admin)
    assert made.status_code == 201 and made.json()["org"] == "team"
    return admin


def invite(client, headers, email, role="member", org="team"):
    return client.post(
        f"/v1/orgs/{org}/invites", json={"email": email, "role": role}, headers=headers
    )


def users(fake_platform) -> int:
    with fake_platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def test_after_the_first_account_sign_up_needs_an_invite_for_that_email(
    client, team, fake_platform
):
    refused = signup(client, "bob@example.com")
    assert refused.status_code == 403 and "by invitation" in refused.json()["message"]
    code = invite(client, team, "bob@example.com").json()["code"]

    wrong_email = signup(client, "eve@example.com", code)
    assert wrong_email.status_code == 422 and users(fake_platform) == 1
    bob = auth(signup(client, "bob@example.com", code))
    reused = signup(client, "bob2@example.com", code)

    assert reused.status_code == 422 and users(fake_platform) == 2
    assert [a["name"] for a in client.get("/v1/apps", headers=bob).json()] == ["shared"]
    orgs = {o["name"]: o["role"] for o in client.get("/v1/orgs", headers=bob).json()}
    assert orgs == {"bob": "admin", "team": "member"}  # a personal org, and the team


def test_an_expired_or_used_invite_is_refused_and_changes_nothing(client, team, fake_platform):
    code = invite(client, team, "bob@example.com").json()["code"]
    with fake_platform.db.session() as session:
        session.execute(update(Invite).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    expired = signup(client, "bob@example.com", code)

    assert expired.status_code == 422 and "expired" in expired.json()["message"]
    assert users(fake_platform) == 1


def test_members_deploy_the_orgs_apps_and_only_admins_destroy_them(client, team):
    bob = auth(
        signup(client, "bob@example.com", invite(client, team, "bob@example.com").json()["code"])
    )

    assert client.get("/v1/apps/shared", headers=bob).status_code == 200
    refused = client.delete("/v1/apps/shared", headers=bob)
    assert refused.status_code == 403 and "only an admin" in refused.json()["message"]
    assert client.delete("/v1/apps/shared", headers=team).status_code == 204


def test_a_removed_member_loses_the_orgs_apps_and_the_last_admin_stays(client, team):
    bob = auth(
        signup(client, "bob@example.com", invite(client, team, "bob@example.com").json()["code"])
    )

    last = client.delete("/v1/orgs/team/members/admin@example.com", headers=team)
    assert last.status_code == 409 and "last admin" in last.json()["message"]
    assert client.post("/v1/orgs/team/leave", headers=team).status_code == 409
    assert client.delete("/v1/orgs/team/members/admin@example.com", headers=bob).status_code == 403
    assert client.delete("/v1/orgs/team/members/bob@example.com", headers=team).status_code == 204

    assert client.get("/v1/apps/shared", headers=bob).status_code == 403
    assert client.get("/v1/orgs/team", headers=bob).status_code == 404


def test_a_removed_admins_open_invites_end_with_them(client, team, fake_platform):
    mallory = auth(
        signup(
            client,
            "mallory@example.com",
            invite(client, team, "mallory@example.com", role="admin").json()["code"],
        )
    )
    backdoor = invite(client, mallory, "mallory2@example.com", role="admin").json()["code"]
    for_her = invite(client, team, "mallory@example.com", org="team")  # already a member
    assert for_her.status_code == 409
    assert (
        client.delete("/v1/orgs/team/members/mallory@example.com", headers=team).status_code == 204
    )

    fake_platform.settings = replace(fake_platform.settings, signup_policy="open")
    second = auth(signup(client, "mallory2@example.com"))
    refused = client.post("/v1/orgs/join", json={"code": backdoor}, headers=second)
    assert refused.status_code == 422 and "not valid" in refused.json()["message"]


def test_a_member_whose_email_has_a_slash_can_be_removed(client, team, fake_platform):
    odd = "a/b#c@example.com"
    signup(client, odd, invite(client, team, odd).json()["code"])
    gone = client.delete(f"/v1/orgs/team/members/{quote(odd, safe='@')}", headers=team)
    assert gone.status_code == 204, gone.text


def test_an_existing_user_joins_with_a_code_for_their_email(client, team, fake_platform):
    fake_platform.settings = replace(fake_platform.settings, signup_policy="open")
    carol = auth(signup(client, "carol@example.com"))
    code = invite(client, team, "carol@example.com", role="admin").json()["code"]

    joined = client.post("/v1/orgs/join", json={"code": code}, headers=carol)

    assert joined.status_code == 200 and joined.json() == {
        "name": "team",
        "personal": False,
        "role": "admin",
        "members": None,
    }
    members = client.get("/v1/orgs/team", headers=team).json()["members"]
    assert {(m["email"], m["role"]) for m in members} == {
        ("admin@example.com", "admin"),
        ("carol@example.com", "admin"),
    }


@pytest.mark.parametrize(
    "email, role, org, status, words",
    [
        ("admin@example.com", "member", "team", 409, "already a member"),
        ("bob@example.com", "owner", "team", 422, "role"),
        ("bob@example.com", "member", "admin", 422, "personal org"),
        ("a@b", "member", "team", 422, "email"),
        ("bob@example.com", "member", "nope", 404, "not found"),
    ],
)
def test_bad_invites_are_clear_errors_and_make_no_invite(
    client, team, fake_platform, email, role, org, status, words
):
    response = invite(client, team, email, role, org)

    assert response.status_code == status and words in response.json()["message"]
    with fake_platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Invite)) == 0


@pytest.mark.parametrize("name, status", [("team", 409), ("Bad Name", 422), ("-x", 422)])
def test_a_taken_or_invalid_org_name_is_refused(client, team, name, status):
    assert client.post("/v1/orgs", json={"name": name}, headers=team).status_code == status


def test_only_an_admin_invites(client, team):
    bob = auth(
        signup(client, "bob@example.com", invite(client, team, "bob@example.com").json()["code"])
    )
    refused = invite(client, bob, "carol@example.com")
    assert refused.status_code == 403 and "only an admin" in refused.json()["message"]
