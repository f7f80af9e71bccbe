"""Background work has an owner: a cancelled follow and a server shutdown leave nothing running."""

from __future__ import annotations

import threading

import httpx
import pytest

from hangar.control.background import Background
from hangar.control.logs import follow_logs
from hangar.server import STREAM_GRACE_S, ApiServer, run_api
from tests.support.backends import free_port
from tests.support.platform import deploy_now, http_config, setup_app, user_named
from tests.support.waiting import WAIT_S, wait_until


def nothing_left(platform) -> bool:
    streams = platform.runtime.log_streams
    return (
        platform.background.running() == []
        and platform.background.held() == 0
        and all(stream.closed.is_set() for stream in streams)
    )


@pytest.fixture
def deployed(fake_platform, tmp_path):
    setup_app(fake_platform)
    assert deploy_now(fake_platform, tmp_path, http_config("web")).status == "complete"
    return fake_platform


def test_a_closed_follow_stops_its_threads_and_closes_its_streams(deployed):
    follow = follow_logs(deployed, user_named(deployed), "web")
    lines = iter(follow)
    first = next(lines)
    assert first is not None and first.message.startswith("log of ")
    assert len(deployed.runtime.log_streams) == 2  # one per machine
    assert any(name.startswith("logs-web-") for name in deployed.background.running())

    follow.close()

    assert wait_until(lambda: nothing_left(deployed)), deployed.background.running()


def test_a_client_that_goes_away_ends_its_follow_on_the_server(deployed):
    with _Serving(deployed) as api_url:
        headers = _signed_in(api_url)
        url = f"{api_url}/v1/apps/web/logs?follow=true"
        with httpx.stream("GET", url, headers=headers, timeout=10) as response:
            assert response.status_code == 200
            assert "log of" in next(response.iter_lines())
            assert deployed.background.held() == 1
        # the connection is closed here, as Ctrl-C on `hangar logs -f` closes it
        assert wait_until(lambda: nothing_left(deployed)), deployed.background.running()


def test_shutdown_with_a_follow_open_ends_promptly_and_leaves_nothing(deployed):
    port = free_port()
    api = ApiServer(deployed, "127.0.0.1", port)
    serving = threading.Thread(target=run_api, args=(api,), daemon=True)
    serving.start()
    api_url = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: _answers(api_url))
    headers = _signed_in(api_url)
    with httpx.stream("GET", f"{api_url}/v1/apps/web/logs?follow=true", headers=headers) as live:
        next(live.iter_lines())
        api.should_exit = True
        serving.join(STREAM_GRACE_S / 2)  # the follow is closed, not waited out
    assert not serving.is_alive()
    assert nothing_left(deployed), deployed.background.running()


def test_shutdown_waits_for_running_work_and_names_what_outlives_it():
    background = Background()
    release = threading.Event()
    background.start("deploy-quick", lambda: None)
    background.start("deploy-stuck", lambda: release.wait(WAIT_S))

    assert background.shutdown(timeout_s=0.2) == ["deploy-stuck"]
    release.set()
    assert wait_until(lambda: background.running() == [])


class _Serving:
    """The real API server (uvicorn) on the fake platform, in a thread, on 127.0.0.1."""

    def __init__(self, platform) -> None:
        self.port = free_port()
        self.api = ApiServer(platform, "127.0.0.1", self.port)
        self.thread = threading.Thread(target=self.api.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        url = f"http://127.0.0.1:{self.port}"
        assert wait_until(lambda: _answers(url))
        return url

    def __exit__(self, *_exc: object) -> None:
        self.api.should_exit = True
        self.thread.join(WAIT_S)


def _answers(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _signed_in(api_url: str) -> dict[str, str]:
    body = {"email": "dev@example.com", "password": "secret-password"}
    token = httpx.post(f"{api_url}/v1/auth/login", json=body, timeout=10).json()["token"]
    return {"Authorization": f"Bearer {token}"}
