"""`hangar server`'s options are spelled once: flags, HANGAR_* variables, the harness's command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hangar.cli import server_cmd
from hangar.cli.main import cli
from hangar.server_options import ServerOptions, command_line, flags


@pytest.fixture
def served(monkeypatch):
    """What `hangar server …` would serve with, without serving."""
    seen: list[ServerOptions] = []
    monkeypatch.setattr("hangar.server.serve", seen.append)
    return seen


def test_every_option_is_a_flag_and_a_hangar_variable():
    names = {flag.name: flag.env_var for _, flag, _ in flags()}
    assert names["--http-port"] == "HANGAR_HTTP_PORT"
    assert names["--smoke-window"] == "HANGAR_SMOKE_WINDOW"
    assert len(names) == len(ServerOptions.__dataclass_fields__)


def test_flags_reach_the_server_as_the_options_they_name(served, tmp_path):
    wanted = ServerOptions(data_dir=tmp_path, http_port=8080, keep_images=2, smoke_window_s=0.5)
    result = CliRunner().invoke(cli, ["server", *command_line(wanted)])
    assert result.exit_code == 0, result.output
    assert served == [wanted]


def test_variables_are_read_and_a_flag_wins_over_its_variable(served, monkeypatch):
    monkeypatch.setenv("HANGAR_DOMAIN", "apps.example.com")
    monkeypatch.setenv("HANGAR_PORT", "5000")
    result = CliRunner().invoke(cli, ["server", "--port", "6000"])
    assert result.exit_code == 0, result.output
    assert (served[0].domain, served[0].port) == ("apps.example.com", 6000)


def test_a_bad_value_is_a_usage_error_naming_the_flag(served):
    result = CliRunner().invoke(cli, ["server", "--keep-images", "0"])
    assert result.exit_code == 2
    assert "--keep-images" in result.output and served == []


@pytest.mark.parametrize("value", ["banana", "8.8.0.0/16", "10.1.2.0/25", "fd00::/48"])
def test_machine_subnets_must_be_a_private_ipv4_range_of_a_24_or_more(served, value):
    result = CliRunner().invoke(cli, ["server", "--machine-subnets", value])
    assert result.exit_code == 2
    assert "--machine-subnets" in result.output and served == []
    assert CliRunner().invoke(cli, ["server", "--machine-subnets", "10.9.0.0/24"]).exit_code == 0


def test_defaults_need_no_flags():
    assert command_line(ServerOptions()) == []
    assert isinstance(ServerOptions().state_dir, Path)
    assert server_cmd.server.__doc__


@pytest.mark.parametrize(
    ("flag", "bad", "good"),
    [
        ("--auto-stop-idle", "soon", "90s"),
        ("--auto-stop-idle", "-5", "2m"),
        ("--acme-directory", "letsencrypt", "https://acme.example/dir"),
        ("--edge-threads", "-1", "2"),
    ],
)
def test_the_edges_new_flags_refuse_bad_values_by_name(served, flag, bad, good):
    result = CliRunner().invoke(cli, ["server", flag, bad])
    assert result.exit_code == 2
    assert flag in result.output and served == []
    assert CliRunner().invoke(cli, ["server", flag, good]).exit_code == 0
