"""Stored release configs carry a schema version and are migrated forward when read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hangar.appconfig import stored
from hangar.appconfig.stored import SCHEMA_VERSION, from_stored, to_stored
from hangar.errors import HangarError
from hangar.store.models import Release
from tests.support.platform import deploy_now, http_config, setup_app

GOLDEN = Path(__file__).parent / "golden"


def stored_configs() -> list[Path]:
    """A config as stored in every schema version there has been (add one per version)."""
    return sorted(GOLDEN.glob("stored-release-config-v*.json"))


def test_there_is_a_stored_config_of_every_version():
    versions = {int(path.stem.rsplit("-v", 1)[1]) for path in stored_configs()}
    assert versions == set(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("path", stored_configs(), ids=lambda path: path.name)
def test_configs_stored_in_every_version_still_read(path):
    config = from_stored(json.loads(path.read_text()))
    assert config.app and from_stored(to_stored(config)) == config


def test_a_deploy_stores_its_config_with_todays_version(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    with fake_platform.db.session() as session:
        kept = session.scalar(select(Release.config))
    assert kept["schema_version"] == SCHEMA_VERSION
    assert from_stored(kept) == http_config("web")


def test_an_older_version_is_migrated_before_it_is_read(monkeypatch):
    old = to_stored(http_config("web"))
    old["schema_version"] = 1
    old["application"] = old.pop("app")  # as if v1 had spelled it so, and v2 renamed it
    monkeypatch.setattr(stored, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(stored.MIGRATIONS, 1, lambda c: {**c, "app": c.pop("application")})
    assert from_stored(old).app == "web"


def test_a_model_change_without_its_migration_is_reported_as_a_bug():
    broken = to_stored(http_config("web"))
    broken["http_service"]["internal_port"] = "eight thousand"  # what a tightened rule refuses
    with pytest.raises(HangarError) as caught:
        from_stored(broken)
    assert "missing config migration" in caught.value.hint


def test_a_config_from_a_newer_hangar_is_refused_with_a_clear_message():
    newer = {**to_stored(http_config("web")), "schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(HangarError) as caught:
        from_stored(newer)
    assert "newer Hangar" in caught.value.message
