from __future__ import annotations

import gc
import os
import warnings

import pytest
from cryptography.fernet import Fernet

from hangar.control.platform import Platform, Settings
from hangar.control.secrets import SecretStore
from hangar.store.database import Database
from hangar.store.secret_box import SecretBox
from hangar.testing import FakeBuilder, FakeEdge, FakeHealth, FakeRuntime


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'hangar.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def fake_platform(db, tmp_path) -> Platform:
    runtime = FakeRuntime()
    return Platform(
        db=db,
        runtime=runtime,
        builder=FakeBuilder(runtime=runtime),
        edge=FakeEdge(),
        health=FakeHealth(runtime=runtime),
        settings=Settings(tmp_path, "localhost", 8088, smoke_window_s=0.0),
        secrets=SecretStore(db, SecretBox(Fernet.generate_key())),
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove app networks that no container refers to (servers under test leave them)."""
    if session.config.option.collectonly or os.environ.get("HANGAR_TEST_KEEP_NETWORKS"):
        return  # set while another test run shares the engine: its networks are not ours
    # the docker SDK's version check leaves a socket to the collector: not this run's fault
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        _remove_unused_networks()
        gc.collect()


def _remove_unused_networks() -> None:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception:  # no engine: the unit tests alone ran
        return
    try:
        remove_unused_app_networks(client)
    finally:
        client.close()


def remove_unused_app_networks(client) -> None:  # type: ignore[no-untyped-def]
    try:
        referred = {
            name
            for container in client.containers.list(all=True)
            for name in container.attrs["NetworkSettings"]["Networks"]
        }
    except Exception as exc:  # a container went away while listed: try next time
        if type(exc).__name__ != "NotFound":
            raise
        return
    for network in client.networks.list(filters={"label": "hangar.managed"}):
        if network.name not in referred:
            network.remove()
