"""The dashboard over the fake platform: sessions, CSRF, forms that act once, bad input,
and nobody reaching another's app through a page, a form or a live stream."""

from __future__ import annotations

import fnmatch
import html
import re
import tempfile
import threading
import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hangar.control.app_summaries import shown_status
from hangar.control.deploy.engine import DeployRequest
from hangar.dashboard import actions, live, pages
from hangar.dashboard.pages import safe_next
from hangar.dashboard.session import COOKIE, SECURE_COOKIE
from hangar.domain.clock import SYSTEM_CLOCK
from hangar.store.models import Release, Secret, Token
from tests.support.platform import http_config

PASSWORD = "secret-pass"
CONFIG = http_config("web")


def signup(client, email="dev@example.com") -> dict[str, str]:
    response = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def log_in(client, email="dev@example.com", password=PASSWORD, after="/apps"):
    return client.post(
        "/login", data={"email": email, "password": password, "next": after}, follow_redirects=False
    )


def deployed_app(client, api, name="web") -> dict[str, str]:
    """A signed-up owner with app `name` deployed twice (v1, v2) on the fakes; logged in."""
    owner = signup(client)
    assert client.post("/v1/apps", json={"name": name}, headers=owner).status_code == 201
    for _ in range(2):
        deploy(api, name)
    assert log_in(client).status_code == 303
    return owner


def deploy(api, name="web"):
    context = Path(tempfile.mkdtemp())
    (context / "Dockerfile").write_text("FROM scratch\n")
    request = DeployRequest(
        app=name, user_email="dev@example.com", config=http_config(name), context_dir=context
    )
    deployment = api.state.deployer.run_sync(request)
    assert deployment.events.so_far()[-1].type == "done", deployment.events.so_far()[-1]


def form_of(page_html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action`, as the page rendered them."""
    start = page_html.index(f'action="{action}"')
    form = page_html[start : page_html.index("</form>", start)]
    return dict(re.findall(r'name="(csrf|once)" value="([^"]+)"', form))


def notice(response) -> str:
    found = re.search(r'<div class="notice[^"]*"[^>]*>\s*<p>(.*?)</p>', response.text, re.S)
    return html.unescape(found.group(1)) if found else ""


def releases(fake_platform) -> list[int]:
    with fake_platform.db.session() as session:
        return [r.version for r in session.scalars(select(Release).order_by(Release.version))]


def test_a_wrong_password_shows_an_error_and_a_right_one_lands_on_the_apps(client):
    signup(client)
    wrong = log_in(client, password="not-the-password")
    assert wrong.status_code == 401 and "wrong email or password" in wrong.text
    right = log_in(client)
    assert right.status_code == 303 and right.headers["location"] == "/apps"
    assert client.get("/apps").status_code == 200


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(api):
    with TestClient(api) as plain:
        signup(plain)
        cookie = log_in(plain).headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" not in cookie
    with TestClient(api, base_url="https://testserver") as https:
        cookie = log_in(https).headers["set-cookie"]
    assert cookie.startswith(f"{SECURE_COOKIE}=") and "Secure" in cookie


def test_the_login_limit_is_the_apis(client):
    signup(client)
    for _ in range(10):
        client.post("/v1/auth/login", json={"email": "dev@example.com", "password": "wrong-pass"})
    limited = log_in(client)
    assert limited.status_code == 429 and "too many" in limited.text.lower()


def test_a_tampered_cookie_goes_to_the_login_page_and_back(client):
    signup(client)
    client.cookies.set(COOKIE, "hgr_not-a-real-token")
    page = client.get("/apps/web", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/apps/web"


def test_an_expired_session_logs_in_again_and_returns_to_the_page(client, fake_platform):
    deployed_app(client, client.app)
    with fake_platform.db.session() as session:
        session.execute(update(Token).values(expires_at=SYSTEM_CLOCK.now() - timedelta(seconds=1)))
    page = client.get("/apps/web", follow_redirects=False)
    assert page.headers["location"] == "/login?next=/apps/web"
    again = log_in(client, after="/apps/web")
    assert again.headers["location"] == "/apps/web"
    assert "Machines" in client.get("/apps/web").text


@pytest.mark.parametrize("after", ["//evil.example/x", "https://evil.example/", "/\t/evil", "x"])
def test_after_login_only_this_servers_paths(after):
    assert safe_next(after) == "/apps"


def test_logout_ends_the_session_for_the_api_too(client):
    signup(client)
    log_in(client)
    token = client.cookies[COOKIE]
    csrf = form_of(client.get("/apps").text, "/logout")["csrf"]
    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.headers["location"] == "/login"
    gone = client.get("/v1/apps", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401


def test_the_apps_page_lists_the_orgs_apps_with_their_status(client):
    owner = signup(client)
    client.post("/v1/apps", json={"name": "fresh"}, headers=owner)
    log_in(client)
    row = re.search(r'<tr data-app="fresh">.*?</tr>', client.get("/apps").text, re.S)
    assert row and 'data-status="pending"' in row.group(0)


def test_rollback_from_the_page_makes_one_release_even_when_posted_twice(
    client, api, fake_platform
):
    deployed_app(client, api)
    fields = form_of(client.get("/apps/web").text, "/apps/web/rollback/1")
    first = client.post("/apps/web/rollback/1", data=fields)
    assert "Rolling back to v1" in notice(first)
    _wait_idle(api, "web")
    second = client.post("/apps/web/rollback/1", data=fields)
    assert "already sent" in notice(second)
    _wait_idle(api, "web")
    assert releases(fake_platform) == [1, 2, 3]


def test_a_post_without_the_csrf_token_or_from_another_site_does_nothing(
    client, api, fake_platform
):
    deployed_app(client, api)
    fields = form_of(client.get("/apps/web").text, "/apps/web/rollback/1")
    no_token = client.post("/apps/web/rollback/1", data={"once": fields["once"]})
    assert "CSRF" in notice(no_token)
    elsewhere = client.post(
        "/apps/web/rollback/1", data=fields, headers={"Origin": "http://evil.example"}
    )
    assert "another site" in notice(elsewhere)
    assert releases(fake_platform) == [1, 2]


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("/apps/web/secrets", {"name": "1BAD", "value": "x"}, "secret name"),
        ("/apps/web/scale", {"count": "-1"}, "cannot be negative"),
        ("/apps/web/scale", {"count": "two"}, "whole number"),
        ("/apps/web/rollback/9", {}, "no release v9"),
        ("/apps/web/destroy", {"confirm": "wbe"}, "not the app's"),
    ],
)
def test_bad_input_is_a_clear_notice_and_changes_nothing(
    client, api, fake_platform, action, data, message
):
    deployed_app(client, api)
    page = client.get("/apps/web").text
    fields = form_of(page, action if "rollback" not in action else "/apps/web/rollback/1")
    answer = client.post(action, data={**fields, **data})
    assert answer.status_code == 200 and message in notice(answer)
    assert releases(fake_platform) == [1, 2]
    with fake_platform.db.session() as session:
        assert session.scalars(select(Secret)).all() == []
    assert client.get("/apps/web").status_code == 200  # the app is still there


def test_a_refused_form_can_be_corrected_and_sent_again(client, api, fake_platform):
    deployed_app(client, api)
    fields = form_of(client.get("/apps/web").text, "/apps/web/secrets")
    bad = client.post("/apps/web/secrets", data={**fields, "name": "1BAD", "value": "v"})
    assert "secret name" in notice(bad)
    good = client.post("/apps/web/secrets", data={**fields, "name": "GOOD", "value": "v"})
    assert "Secret GOOD set" in notice(good)
    assert 'data-secret="GOOD"' in client.get("/apps/web").text


def test_a_member_sees_no_destroy_and_the_server_refuses_it(client, api, fake_platform):
    admin = signup(client, "admin@example.com")
    client.post("/v1/orgs", json={"name": "team"}, headers=admin)
    client.post("/v1/apps", json={"name": "shared", "org": "team"}, headers=admin)
    code = client.post(
        "/v1/orgs/team/invites", json={"email": "bob@example.com", "role": "member"}, headers=admin
    ).json()["code"]
    bob = signup(client, "bob@example.com")
    client.post("/v1/orgs/join", json={"code": code}, headers=bob)
    log_in(client, "bob@example.com")
    page = client.get("/apps/shared").text
    assert "Destroy this app" not in page
    fields = form_of(page, "/apps/shared/restart")
    refused = client.post("/apps/shared/destroy", data={**fields, "confirm": "shared"})
    assert "admin" in notice(refused)
    assert client.get("/v1/apps/shared", headers=admin).status_code == 200


def dashboard_routes() -> list[tuple[str, str]]:
    """Every page, form and stream of one app, as (method, path) for app `web`."""
    found = []
    for route in (*live.router.routes, *pages.router.routes, *actions.router.routes):
        path = route.path
        if "{name}" in path:
            for method in route.methods - {"HEAD"}:
                filled = path.replace("{name}", "web").replace("{machine_id}", "m1")
                filled = filled.replace("{verb}", "stop").replace("{version}", "1")
                found.append((method, filled.replace("{secret}", "S")))
    return sorted(found)


def test_another_user_reaches_nothing_of_the_app_through_the_dashboard(client, api, fake_platform):
    deployed_app(client, api)
    with TestClient(api) as other:
        signup(other, "eve@example.com")
        log_in(other, "eve@example.com")
        csrf_page = other.get("/apps").text
        csrf = form_of(csrf_page, "/logout")["csrf"]
        routes = dashboard_routes()
        assert len(routes) >= 10
        for method, path in routes:
            if method == "GET":
                answer = other.get(path, params={"view": "abcdefgh12"})
                assert answer.status_code in (403, 404), (path, answer.status_code)
                assert "web.localhost" not in answer.text
            else:
                data = {"csrf": csrf, "once": "abcdefgh12", "confirm": "web", "count": "0"}
                answer = other.post(path, data={**data, "name": "X", "value": "y"})
                assert "not yours" in notice(answer), (path, notice(answer))
        assert other.get("/apps/web").status_code == 404  # no page, as for no app at all
    assert releases(fake_platform) == [1, 2]
    assert client.get("/apps/web").status_code == 200


@pytest.mark.parametrize(
    ("stored", "newest", "started", "shown"),
    [
        ("pending", None, 0, "pending"),
        ("deployed", "complete", 2, "deployed"),
        ("deployed", "failed", 2, "failed"),
        ("deployed", "rolled back", 1, "failed"),
        ("deployed", "complete", 0, "suspended"),
        ("suspended", "complete", 0, "suspended"),
    ],
)
def test_the_status_shown(stored, newest, started, shown):
    release = None if newest is None else Release(status=newest)
    assert shown_status(stored, release, started) == shown


def _wait_idle(api, app: str) -> None:
    activity = api.state.platform.activities.latest(app)
    if activity is not None:
        for _ in activity.events.follow(poll_s=0.05):
            pass


def test_the_org_switcher_shows_each_orgs_apps_and_only_the_members(client):
    owner = signup(client)
    client.post("/v1/orgs", json={"name": "team"}, headers=owner)
    client.post("/v1/apps", json={"name": "mine"}, headers=owner)
    client.post("/v1/apps", json={"name": "shared", "org": "team"}, headers=owner)
    log_in(client)
    personal = client.get("/apps").text
    team = client.get("/apps", params={"org": "team"}).text
    assert 'data-app="mine"' in personal and 'data-app="shared"' not in personal
    assert 'data-app="shared"' in team and 'data-app="mine"' not in team
    assert '<option value="team" selected>' in team
    with TestClient(client.app) as other:
        signup(other, "eve@example.com")
        log_in(other, "eve@example.com")
        refused = other.get("/apps", params={"org": "team"})
        assert refused.status_code in (403, 404) and 'data-app="shared"' not in refused.text
        assert other.get("/apps/live", params={"org": "team"}).status_code in (403, 404)


def test_the_scale_panel_says_the_vm_size(client, api):
    deployed_app(client, api)
    page = client.get("/apps/web").text
    assert "VM size" in page and 'name="count"' in page and 'value="2"' in page


def test_sign_up_on_the_page_takes_an_invite_when_the_server_asks_one(client, fake_platform):
    admin = signup(client, "admin@example.com")
    client.post("/v1/orgs", json={"name": "team"}, headers=admin)
    fake_platform.settings = replace(fake_platform.settings, signup_policy="invite")
    code = client.post(
        "/v1/orgs/team/invites", json={"email": "new@example.com"}, headers=admin
    ).json()["code"]
    form = {"email": "new@example.com", "password": "long-enough-pass"}
    refused = client.post("/signup", data=form)
    assert refused.status_code == 403 and "by invitation" in refused.text
    assert 'value="abc"' in client.get("/signup", params={"invite": "abc"}).text
    joined = client.post("/signup", data={**form, "invite": code}, follow_redirects=False)
    assert joined.status_code == 303 and COOKIE in joined.headers["set-cookie"]
    team = client.get("/apps", params={"org": "team"})
    assert team.status_code == 200 and "Apps of team" in team.text


def test_a_wheel_carries_every_template_and_static_file():
    """Nothing is fetched at run time: each file the pages use is package data."""
    root = Path(__file__).parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["hangar"]
    package = root / "src" / "hangar"
    files = [f for d in ("templates", "static") for f in (package / "dashboard" / d).iterdir()]
    assert len(files) > 10
    for file in files:
        relative = file.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_many_open_log_panels_leave_the_api_answering(client, api, fake_platform):
    """Each following log panel waits in a worker thread: 50 open tabs, more than anyio's
    default of 40 threads, must not stall the rest of the server."""
    deployed_app(client, api)
    opened = threading.Barrier(51, timeout=30)
    done = threading.Event()

    def follow() -> None:
        with client.stream("GET", "/apps/web/logs/live") as stream:
            next(stream.iter_lines())
            opened.wait()
            done.wait(30)

    tabs = [threading.Thread(target=follow, daemon=True) for _ in range(50)]
    for tab in tabs:
        tab.start()
    opened.wait()
    answered: list[int] = []
    ask = threading.Thread(target=lambda: answered.append(client.get("/apps").status_code))
    ask.start()
    ask.join(20)
    done.set()
    fake_platform.background.close_streams()
    for tab in tabs:
        tab.join(30)
    assert answered == [200]
