"""The `hangar` command over a stub client: exit codes, stderr, usage mistakes, --json."""

from __future__ import annotations

import json
import sys

import pytest

from hangar.cli import apps, main
from hangar.errors import NotFound

APPS = [
    {
        "name": "web",
        "org": "dev",
        "status": "pending",
        "region": "local",
        "url": "http://web.localhost",
        "created_at": "2026-12-02T10:00:00",
    }
]


class StubClient:
    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure

    def list_apps(self, org: str | None = None) -> list[dict[str, str]]:
        if self.failure is not None:
            raise self.failure
        return APPS


def hangar(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["hangar", *args])
    with pytest.raises(SystemExit) as exited:
        main.run()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def with_client(monkeypatch, stub: StubClient) -> None:
    monkeypatch.setattr(apps, "client", lambda api_url=None: stub)


@pytest.mark.parametrize(
    ("args", "usage", "problem"),
    [
        (["deploy", "--bogus"], "Usage: hangar deploy", "No such option: --bogus"),
        (["frobnicate"], "Usage: hangar [OPTIONS] COMMAND", "No such command 'frobnicate'"),
        (["config", "validate", "-x"], "Usage: hangar config validate", "No such option: -x"),
        (["deploy", "--strategy"], "Usage: hangar deploy", "requires an argument"),
    ],
)
def test_a_usage_mistake_reads_like_click_and_exits_2(monkeypatch, capsys, args, usage, problem):
    code, out, err = hangar(monkeypatch, capsys, *args)
    assert code == 2
    assert out == ""
    assert usage in err and problem in err and "--help' for help" in err
    assert "please report" not in err


def test_a_listing_prints_json(monkeypatch, capsys):
    with_client(monkeypatch, StubClient())
    code, out, err = hangar(monkeypatch, capsys, "apps", "list", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == APPS


def test_a_listing_prints_a_table(monkeypatch, capsys):
    with_client(monkeypatch, StubClient())
    code, out, _ = hangar(monkeypatch, capsys, "apps", "list")
    assert code == 0
    assert "NAME" in out and "web" in out and "pending" in out


def test_a_platform_error_is_its_message_and_hint_on_stderr(monkeypatch, capsys):
    with_client(monkeypatch, StubClient(NotFound("app 'web' not found", hint="list your apps")))
    code, out, err = hangar(monkeypatch, capsys, "apps", "list")
    assert (code, out) == (1, "")
    assert "Error: app 'web' not found" in err and "list your apps" in err
    assert "please report" not in err


def test_only_a_real_bug_asks_to_be_reported(monkeypatch, capsys):
    with_client(monkeypatch, StubClient(RuntimeError("boom")))
    code, out, err = hangar(monkeypatch, capsys, "apps", "list")
    assert (code, out) == (1, "")
    assert "unexpected error: RuntimeError: boom" in err and "please report" in err
    assert "Traceback" not in err
