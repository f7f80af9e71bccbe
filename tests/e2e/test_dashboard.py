"""The dashboard in a real browser (Debian's chromium) against a real server: what
the CLI does in a terminal shows on the page without a reload."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import EXAMPLE, app_name, write_fly_toml
from tests.support.browser import chromium, log_in, snap
from tests.support.server import Cli

EMAIL, PASSWORD = "browser@example.com", "browser-password"
PHONE = {"width": 375, "height": 800}
LIVE_S = 15_000  # ms a live change may take to show (the panels poll every second)
DEPLOY_S = 120_000


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def user(server, tmp_path_factory) -> Cli:
    cli = Cli(tmp_path_factory.mktemp("browser-home"), server.api_url)
    cli.ok("auth", "signup", "--email", EMAIL, "--password", PASSWORD)
    return cli


@pytest.fixture
def page(browser, server, user) -> Page:
    context = browser.new_context()
    opened = context.new_page()
    log_in(opened, server.api_url, EMAIL, PASSWORD)
    expect(opened).to_have_url(f"{server.api_url}/apps")
    yield opened
    context.close()


@pytest.fixture
def chatty_hello(tmp_path) -> Path:
    """The example app, logging every request it serves (busybox httpd -vv)."""
    folder = tmp_path / "hello"
    shutil.copytree(EXAMPLE, folder)
    (folder / "fly.toml").unlink()
    start = folder / "start.sh"
    start.write_text(start.read_text().replace("httpd -f ", "httpd -f -vv "))
    return folder


def test_a_wrong_password_shows_an_error_and_the_right_one_logs_in_by_keyboard(
    browser, server, user
):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, server.api_url, EMAIL, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    snap(page, "login-wrong-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard alone
    expect(page).to_have_url(f"{server.api_url}/apps")
    expect(page.get_by_role("heading", name="Apps")).to_be_visible()
    snap(page, "login-done")
    context.close()


def test_launch_deploy_logs_and_rollback_show_live_without_a_reload(
    page, server, user, chatty_hello
):
    name = app_name("dash")
    page.evaluate("window.stayed = true")  # gone if the page reloads
    user.ok("launch", "--no-deploy", "--name", name, cwd=chatty_hello)
    row = page.locator(f'tr[data-app="{name}"]')
    expect(row.locator("[data-status]")).to_have_text("pending", timeout=LIVE_S)
    snap(page, "apps-pending")

    phone = page.context.new_page()  # at phone width, the apps list watches the same deploy
    phone.set_viewport_size(PHONE)
    phone.goto(f"{server.api_url}/apps")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(f"{server.api_url}/apps/{name}")
    page.evaluate("window.stayed = true")

    first_deploy = deploy_in_background(user, chatty_hello)
    expect(page.locator("#activity")).to_contain_text("Building image", timeout=LIVE_S)
    expect(page.locator("#machines tr[data-machine]")).to_have_count(2, timeout=DEPLOY_S)
    snap(page, "app-during-deploy")
    expect(page.locator("#summary [data-status]")).to_have_text("deployed", timeout=DEPLOY_S)
    apps_row = phone.locator(f'tr[data-app="{name}"] [data-status]')
    expect(apps_row).to_have_text("deployed", timeout=LIVE_S)
    snap(phone, "phone-apps-deployed")
    first_deploy.join(DEPLOY_S / 1000)
    assert first_deploy.result is not None and first_deploy.result.returncode == 0

    probe = f"/probe-{uuid.uuid4().hex[:8]}"
    assert server.get(name, probe).status_code == 404  # served (a missing page) and logged
    expect(page.locator("#log-lines")).to_contain_text(probe, timeout=LIVE_S)
    phone.goto(f"{server.api_url}/apps/{name}")  # the app page at phone width, live too
    server.get(name, f"{probe}-phone")
    expect(phone.locator("#log-lines")).to_contain_text(f"{probe}-phone", timeout=LIVE_S)
    snap(phone, "phone-app-logs")
    # the edge's access log reached the plots: the 404 just served and the page loads
    metrics = page.locator("#metrics")  # once the 10 s bucket of that request is complete
    expect(metrics).to_contain_text(re.compile(r"4xx: 0\.\d+ req/s"), timeout=LIVE_S)
    snap(page, "app-metrics")
    assert page.evaluate("window.stayed") is True

    one = page.locator("#machines tr[data-machine]").first.get_attribute("data-machine")
    page.get_by_label("Machine", exact=True).select_option(one)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"machine={one}"))
    for _ in range(4):  # round robin: some reach the other machine
        server.get(name, f"{probe}-again")
    expect(page.locator("#log-lines")).to_contain_text(f"{probe}-again", timeout=LIVE_S)
    assert set(page.locator("#log-lines .m").all_inner_texts()) == {one}

    write_fly_toml(chatty_hello, name, '\n[env]\nHELLO_VERSION = "2"\n')
    user.ok("deploy", cwd=chatty_hello)
    assert '<b id="version">2</b>' in server.get(name).text
    expect(page.locator('#releases tr[data-release="2"]')).to_be_visible(timeout=LIVE_S)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Roll back to v1").click()
    expect(page.locator("#notice")).to_contain_text("Rolling back to v1")
    release = page.locator('#releases tr[data-release="3"]')
    expect(release).to_contain_text("Rollback to v1", timeout=LIVE_S)
    expect(release).to_contain_text("complete", timeout=DEPLOY_S)
    snap(page, "app-rolled-back")
    assert '<b id="version">1</b>' in server.get(name).text
    # the engine's samples (every 15 s, two make a rate) reached the machine plots
    expect(page.locator("#metrics")).to_contain_text(re.compile(r"\d MB now"), timeout=45_000)
    user("apps", "destroy", name, "--yes")


def test_a_destroy_with_the_wrong_name_says_so_and_keeps_the_app(page, server, user):
    name = app_name("keep")
    user.ok("apps", "create", name)
    page.goto(f"{server.api_url}/apps/{name}")
    page.get_by_label(re.compile("Type the app's name")).fill(name[::-1])
    page.get_by_role("button", name="Destroy app").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing was destroyed")
    snap(page, "destroy-wrong-name")
    assert user.ok("apps", "list", "--json").stdout.count(f'"{name}"') == 1
    user("apps", "destroy", name, "--yes")


def test_another_orgs_user_sees_neither_the_app_nor_its_page_nor_acts_on_it(browser, server, user):
    name = app_name("mine")
    user.ok("apps", "create", name)
    stranger = Cli(user.home.parent / f"stranger-{uuid.uuid4().hex[:6]}", server.api_url)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    stranger.ok("auth", "signup", "--email", email, "--password", PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    log_in(page, server.api_url, email, PASSWORD)
    expect(page.get_by_role("heading", name="Apps")).to_be_visible()
    expect(page.locator(f'tr[data-app="{name}"]')).to_have_count(0)
    answer = page.goto(f"{server.api_url}/apps/{name}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("not yours")
    snap(page, "stranger-404")
    context.close()
    # the owner's own page, with a form posted from it without its CSRF token
    owner = browser.new_context()
    mine = owner.new_page()
    log_in(mine, server.api_url, EMAIL, PASSWORD)
    mine.goto(f"{server.api_url}/apps/{name}")
    mine.locator('form[action$="/restart"] input[name="csrf"]').evaluate("el => el.remove()")
    mine.locator("body").evaluate("el => el.removeAttribute('hx-headers')")  # htmx's copy
    mine.once("dialog", lambda dialog: dialog.accept())
    mine.get_by_role("button", name="Restart app").click()
    expect(mine.get_by_role("alert")).to_contain_text("CSRF")
    snap(mine, "no-csrf-refused")
    owner.close()
    assert user.ok("apps", "list", "--json").stdout.count(f'"{name}"') == 1
    user("apps", "destroy", name, "--yes")


def test_the_pages_fit_a_phone_and_every_control_has_a_label(page, server, user):
    name = app_name("phone")
    user.ok("apps", "create", name)
    page.set_viewport_size(PHONE)
    for path in ("/apps", f"/apps/{name}"):
        page.goto(f"{server.api_url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert page.evaluate(UNLABELLED) == [], path
        snap(page, f"phone-{path.count('/')}")
    page.goto(f"{server.api_url}/apps/{name}")  # an action at phone width, by keyboard
    page.get_by_label(re.compile("Type the app's name")).fill(name[::-1])
    page.get_by_label(re.compile("Type the app's name")).press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("nothing was destroyed")
    user("apps", "destroy", name, "--yes")


# Visible inputs, selects and buttons without an accessible name.
UNLABELLED = """
[...document.querySelectorAll('input:not([type=hidden]), select, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.textContent.trim())
  .map(el => el.outerHTML)
"""


class deploy_in_background(threading.Thread):
    """`hangar deploy` in a terminal of its own, while the test watches the page."""

    def __init__(self, user: Cli, folder: Path) -> None:
        super().__init__(daemon=True)
        self.user, self.folder = user, folder
        self.result: subprocess.CompletedProcess[str] | None = None
        self.start()

    def run(self) -> None:
        self.result = self.user("deploy", cwd=self.folder)
