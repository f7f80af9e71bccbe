"""What a dashboard user waits for, measured in Debian's chromium against a real
`hangar server` (temporary data dir, free ports) on Docker and HAProxy:

- `hangar deploy` finishing in a terminal → the open app page showing `deployed`
  (a fresh app each round; negative when the page knew before the terminal did);
- a request to the app → its log line on the logs panel;
- the app page's weight: the HTML, JS and CSS bytes the browser fetched.

    .venv/bin/python bench/dashboard_browser.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import Page  # noqa: E402
from tests.support.browser import chromium, log_in  # noqa: E402
from tests.support.server import Cli, RunningServer, start_server  # noqa: E402

EXAMPLE = REPO / "examples" / "hello"
EMAIL, PASSWORD = "bench@example.com", "bench-password"
WAIT_MS = 60_000

# Sets window.seenAt to Date.now() when the summary's status first reads `wanted`.
WATCH_STATUS = """wanted => {
  window.seenAt = null;
  const seen = () => {
    const el = document.querySelector('#summary [data-status]');
    return el && el.textContent.trim() === wanted;
  };
  new MutationObserver((_, observer) => {
    if (seen()) { observer.disconnect(); window.seenAt = Date.now(); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as scratch:
        root = Path(scratch)
        server = start_server(root / "data")
        try:
            measure(server, root, rounds)
        finally:
            server.stop()


def measure(server: RunningServer, root: Path, rounds: int) -> None:
    user = Cli(root / "home", server.api_url)
    user.ok("auth", "signup", "--email", EMAIL, "--password", PASSWORD)
    folder = root / "hello"
    shutil.copytree(EXAMPLE, folder)
    start = folder / "start.sh"
    start.write_text(start.read_text().replace("httpd -f ", "httpd -f -vv "))
    with chromium() as browser:
        page = browser.new_context().new_page()
        log_in(page, server.api_url, EMAIL, PASSWORD)
        deployed, names = [], []
        for _ in range(rounds):
            name = f"bench-{uuid.uuid4().hex[:8]}"
            names.append(name)
            deployed.append(deploy_seen(page, server, user, folder, name))
        weight = page_weight(page, server, names[-1])
        logged = [log_line_seen(page, server, names[-1]) for _ in range(rounds)]
        for name in names:
            user.ok("apps", "destroy", name, "--yes")
    report("deploy finished -> page shows deployed", deployed)
    report("request -> its log line on the page", logged)
    print(f"app page weight: {weight} bytes of HTML+JS+CSS ({weight / 1024:.1f} KiB)")


def deploy_seen(page: Page, server: RunningServer, user: Cli, folder: Path, name: str) -> float:
    (folder / "fly.toml").write_text(f'app = "{name}"\n\n[http_service]\ninternal_port = 8080\n')
    user.ok("apps", "create", name)
    page.goto(f"{server.api_url}/apps/{name}")
    page.evaluate(WATCH_STATUS, "deployed")
    user.ok("deploy", cwd=folder)
    finished = time.time()
    deadline = finished + WAIT_MS / 1000
    while (seen_ms := page.evaluate("window.seenAt")) is None and time.time() < deadline:
        time.sleep(0.01)  # the page's own clock stamped the change; this only waits for it
    if seen_ms is None:
        raise SystemExit(f"{name}: the page never showed deployed")
    return float(seen_ms) / 1000 - finished


def log_line_seen(page: Page, server: RunningServer, name: str) -> float:
    probe = f"/probe-{uuid.uuid4().hex[:8]}"
    lines = page.locator("#log-lines")
    sent = time.time()
    server.get(name, probe)
    lines.filter(has_text=probe).wait_for(timeout=WAIT_MS)
    return time.time() - sent


def page_weight(page: Page, server: RunningServer, name: str) -> int:
    fetched: list[int] = []
    kinds = {"document", "script", "stylesheet"}

    def count(response) -> None:  # type: ignore[no-untyped-def]
        if response.request.resource_type in kinds:
            fetched.append(len(response.body()))

    context = page.context.browser.new_context()  # type: ignore[union-attr]
    fresh = context.new_page()  # an empty cache: everything is fetched
    log_in(fresh, server.api_url, EMAIL, PASSWORD)
    fresh.on("response", count)
    fresh.goto(f"{server.api_url}/apps/{name}", wait_until="load")
    context.close()
    return sum(fetched)


def report(what: str, seconds: list[float]) -> None:
    shown = ", ".join(f"{value:.2f}" for value in seconds)
    print(f"{what}: median {statistics.median(seconds):.2f} s (each: {shown})")


if __name__ == "__main__":
    main()
