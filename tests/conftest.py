from __future__ import annotations

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
