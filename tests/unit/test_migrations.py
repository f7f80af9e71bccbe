"""One migration line, and a database made at any earlier revision upgrades to it."""

from __future__ import annotations

from itertools import combinations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hangar.store.database import MIGRATIONS, Database
from hangar.store.models import Base


def scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def earlier_states() -> list[tuple[str, ...]]:
    """Every set of revisions a database may have been left at: each revision alone,
    and every combination of heads that branches once had side by side."""
    revisions = [script.revision for script in scripts().walk_revisions()]
    branch_tips = [r for r in revisions if _siblings(r)]
    states = [(revision,) for revision in revisions]
    for size in range(2, len(branch_tips) + 1):
        states += list(combinations(sorted(branch_tips), size))
    return states


def _siblings(revision: str) -> bool:
    script = scripts().get_revision(revision)
    parent = script.down_revision
    if parent is None or isinstance(parent, tuple):
        return False
    return len(scripts().get_revision(parent).nextrev) > 1


def test_there_is_exactly_one_head():
    assert len(scripts().get_heads()) == 1


@pytest.mark.parametrize("state", earlier_states(), ids="+".join)
def test_a_database_at_an_earlier_revision_upgrades_to_the_models(state, tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'hangar.db'}")
    try:
        for revision in state:
            db.upgrade_to(revision)
        db.migrate()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_heads() == tuple(scripts().get_heads())
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_upgrading_keeps_every_row(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'hangar.db'}")
    try:
        db.upgrade_to("0005")
        with db.engine.begin() as connection:
            for statement in _ROWS:
                connection.exec_driver_sql(statement)
        db.migrate()
        with db.engine.connect() as connection:
            counts = [
                connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                for table in ("users", "tokens", "apps", "releases", "machines", "secrets")
            ]
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            orgs = connection.exec_driver_sql(
                "SELECT orgs.personal, memberships.role, users.is_admin FROM apps "
                "JOIN orgs ON orgs.id = apps.org_id "
                "JOIN memberships ON memberships.org_id = orgs.id "
                "JOIN users ON users.id = memberships.user_id"
            ).all()
        assert counts == [1, 1, 1, 1, 1, 1]  # once [1, 1, 1, 0, 0, 0]: rebuilding apps cascaded
        assert orgs == [(1, "admin", 1)]  # the app is in its owner's personal org
        assert broken == []
    finally:
        db.dispose()


_NOW = "'2026-01-01 00:00:00'"
_ROWS = [
    f"INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@b.c', 'x', {_NOW})",
    f"INSERT INTO tokens (user_id, token_hash, created_at) VALUES (1, 'h', {_NOW})",
    "INSERT INTO apps (id, name, owner_id, status, region, created_at)"
    f" VALUES (1, 'web', 1, 'deployed', 'local', {_NOW})",
    "INSERT INTO releases (app_id, version, status, image, config, description, user_email,"
    f" reason, created_at, updated_at) VALUES (1, 1, 'complete', 'i', '{{}}', '', '', '', {_NOW},"
    f" {_NOW})",
    "INSERT INTO machines (id, app_id, release_version, state, checks, region, restart_count,"
    f" created_at, updated_at) VALUES ('m1', 1, 1, 'started', 'passing', 'local', 0, {_NOW},"
    f" {_NOW})",
    "INSERT INTO secrets (app_id, name, ciphertext, digest, status, created_at, updated_at)"
    f" VALUES (1, 'A', 'c', 'd', 'staged', {_NOW}, {_NOW})",
]
