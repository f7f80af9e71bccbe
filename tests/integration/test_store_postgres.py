"""The same store and deploy engine on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from hangar.control.platform import Platform, Settings
from hangar.control.secrets import SecretStore
from hangar.store.database import Database
from hangar.store.models import Machine, Release
from hangar.store.secret_box import SecretBox
from hangar.testing import FakeBuilder, FakeEdge, FakeHealth, FakeRuntime
from tests.support.platform import deploy_now, http_config, setup_app
from tests.support.postgres import temporary_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_url():
    with temporary_postgres() as url:
        yield url


def test_migrations_and_a_deploy_run_on_postgres(postgres_url, tmp_path):
    db = Database(postgres_url)
    db.migrate()
    db.migrate()  # a second run is a no-op
    runtime = FakeRuntime()
    builder, box = FakeBuilder(runtime=runtime), SecretBox(Fernet.generate_key())
    settings, secrets = Settings(tmp_path), SecretStore(db, box)
    platform = Platform(db, runtime, builder, FakeEdge(), FakeHealth(), settings, secrets)
    try:
        setup_app(platform)
        deploy_now(platform, tmp_path, http_config("web"))
        deploy_now(platform, tmp_path, http_config("web"))
        with db.session() as session:
            versions = [(r.version, r.status) for r in session.scalars(select(Release))]
            machines = list(session.scalars(select(Machine)))
        assert sorted(versions) == [(1, "complete"), (2, "complete")]
        assert [m.release_version for m in machines] == [2, 2]
    finally:
        db.dispose()
