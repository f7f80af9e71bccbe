"""examples/slowpoke, unlike the example: it boots in 3 s, has no checks and dies on
SIGTERM. Its broken releases must fail their deploy while the good one serves on."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import app_name

SLOWPOKE = Path(__file__).parents[2] / "examples" / "slowpoke"
MAX_REQUESTS = 5000
MAX_SECONDS = 180


class Load:
    """GETs through the edge on new connections while the block runs (bounded)."""

    def __init__(self, server, app: str) -> None:
        self.server, self.app = server, app
        self.outcomes: Counter[str] = Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def failures(self) -> dict[str, int]:
        return {k: n for k, n in self.outcomes.items() if k != "200"}

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stop.is_set() and time.monotonic() < deadline:
            if sum(self.outcomes.values()) >= MAX_REQUESTS:
                return
            try:
                self.outcomes[str(self.server.get(self.app, timeout=10).status_code)] += 1
            except httpx.HTTPError as exc:
                self.outcomes[type(exc).__name__] += 1
            time.sleep(0.02)


@pytest.fixture(scope="module")
def slowpoke(cli, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("slowpoke") / "app"
    shutil.copytree(SLOWPOKE, folder)
    name = app_name("slow")
    cli.ok("apps", "create", name)
    cli.ok("deploy", "-a", name, cwd=folder)
    yield name, folder
    cli("apps", "destroy", name, "--yes")


def _served_release(server, name: str) -> set[str]:
    return {server.get(name).text.split()[1] for _ in range(6)}


def test_a_slow_app_without_checks_is_routed_only_once_it_listens(cli, server, slowpoke):
    name, _ = slowpoke
    assert _served_release(server, name) == {"v1"}
    status = cli.ok("status", "-a", name).stdout
    assert status.count("started") >= 2


def test_a_release_that_crashes_after_it_listens_fails_while_the_old_one_serves(
    cli, server, slowpoke
):
    name, folder = slowpoke
    with Load(server, name) as load:
        result = cli("deploy", "-a", name, "-c", "fly.crashes.toml", cwd=folder)
    assert result.returncode != 0
    assert "appears to be crashing" in result.stderr and "exit 3" in result.stderr
    assert "lost the connection to the database" in result.stderr  # its last lines
    assert load.failures == {}, load.outcomes
    assert _served_release(server, name) == {"v1"}


def test_a_release_that_never_listens_fails_naming_the_port(cli, server, slowpoke):
    name, folder = slowpoke
    with Load(server, name) as load:
        result = cli("deploy", "-a", name, "-c", "fly.never-listens.toml", cwd=folder)
    assert result.returncode != 0
    assert "nothing listens on port 8080 inside the machine" in result.stderr
    assert "waiting for a service that never comes" in result.stderr
    assert load.failures == {}, load.outcomes
    assert _served_release(server, name) == {"v1"}
