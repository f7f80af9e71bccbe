from __future__ import annotations

import json
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.server import Cli, start_server

EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("hangar-data"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def cli(server, tmp_path_factory):
    user = Cli(tmp_path_factory.mktemp("home"), server.api_url)
    user.ok("auth", "signup", "--email", "dev@example.com", "--password", "correct-horse")
    yield user
    left = [app["name"] for app in json.loads(user.ok("apps", "list", "--json").stdout)]
    with ThreadPoolExecutor(max_workers=4) as pool:  # each destroy waits on its own app only
        list(pool.map(lambda name: user("apps", "destroy", name, "--yes"), left))


@pytest.fixture(scope="session")
def other_cli(server, tmp_path_factory):
    user = Cli(tmp_path_factory.mktemp("home2"), server.api_url)
    user.ok("auth", "signup", "--email", "other@example.com", "--password", "battery-staple")
    return user


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the example app without its fly.toml."""
    folder = tmp_path / "project"
    shutil.copytree(EXAMPLE, folder)
    (folder / "fly.toml").unlink()
    return folder


def app_name(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_fly_toml(folder: Path, name: str, extra: str = "") -> None:
    (folder / "fly.toml").write_text(
        f'app = "{name}"\n\n[http_service]\ninternal_port = 8080\n{extra}'
    )


def deploy_example_on(server, folder: Path, email: str, prefix: str) -> tuple[Cli, str]:
    """Sign up on `server` and deploy a copy of the example app; return the CLI and app."""
    user = Cli(folder / "home", server.api_url)
    user.ok("auth", "signup", "--email", email, "--password", "password-for-tests")
    project = folder / "app"
    shutil.copytree(EXAMPLE, project)
    name = app_name(prefix)
    write_fly_toml(project, name)
    user.ok("apps", "create", name)
    user.ok("deploy", cwd=project)
    return user, name


@pytest.fixture(scope="module")
def deployed(cli, server, tmp_path_factory):
    """An app of the example, deployed once for the tests of one module."""
    folder = tmp_path_factory.mktemp("deployed") / "app"
    shutil.copytree(EXAMPLE, folder)
    name = app_name("mod")
    write_fly_toml(folder, name)
    cli.ok("apps", "create", name)
    cli.ok("deploy", cwd=folder)
    yield name, folder
    cli("apps", "destroy", name, "--yes")
