"""Uploads have an owner (user and app), an expiry and a per-user quota (issue 8, item 4)."""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.uploads import claim_upload, sweep_expired, unpack_upload
from hangar.errors import Forbidden, NotFound, QuotaExceeded
from hangar.store.models import Upload, User
from hangar.testing import FakeClock

KiB = 1024


def archive_of(tmp_path: Path, size: int, name: str = "upload.tar.gz") -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for member, data in (("Dockerfile", b"FROM scratch\n"), ("data", b"\0" * size)):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def world(fake_platform):
    """Two users, each with an app; returns (platform, alice, bob)."""
    with fake_platform.db.session() as session:
        for email, app in (("alice@example.com", "web"), ("bob@example.com", "api")):
            signup(session, email, "secret-password")
            create_app(session, session.scalar(select(User).where(User.email == email)), app)
    with fake_platform.db.session() as session:
        alice, bob = session.scalars(select(User).order_by(User.id)).all()
        session.expunge_all()
    return fake_platform, alice, bob


def test_only_its_user_can_use_an_upload_and_only_for_its_app(world, tmp_path):
    platform, alice, bob = world
    upload_id, _ = unpack_upload(
        platform.db, platform.settings, alice, "web", archive_of(tmp_path, 10)
    )

    with pytest.raises(NotFound, match="not found"):  # the same answer as a missing upload
        claim_upload(platform.db, platform.settings, bob, "api", upload_id)
    with pytest.raises(Forbidden):
        claim_upload(platform.db, platform.settings, bob, "web", upload_id)

    folder = claim_upload(platform.db, platform.settings, alice, "web", upload_id)
    assert (folder / "Dockerfile").is_file()
    assert folder.parent == platform.settings.contexts_dir  # out of the sweeper's reach
    with pytest.raises(NotFound):  # used once
        claim_upload(platform.db, platform.settings, alice, "web", upload_id)


def test_an_upload_for_another_users_app_is_refused_and_writes_nothing(world, tmp_path):
    platform, _alice, bob = world
    archive = archive_of(tmp_path, 10)

    with pytest.raises(Forbidden):
        unpack_upload(platform.db, platform.settings, bob, "web", archive)

    assert not archive.exists()
    assert not platform.settings.uploads_dir.exists() or not any(
        platform.settings.uploads_dir.iterdir()
    )


def test_an_upload_not_deployed_in_time_expires_and_is_removed(world, tmp_path):
    platform, alice, _ = world
    clock = FakeClock()
    upload_id, _ = unpack_upload(
        platform.db, platform.settings, alice, "web", archive_of(tmp_path, 10), clock
    )
    clock.advance(platform.settings.upload_ttl_s - 1)
    assert sweep_expired(platform.db, platform.settings, clock) == []
    clock.advance(1)

    with pytest.raises(NotFound):
        claim_upload(platform.db, platform.settings, alice, "web", upload_id, clock)
    assert sweep_expired(platform.db, platform.settings, clock) == [upload_id]
    assert not (platform.settings.uploads_dir / upload_id).exists()
    with platform.db.session() as session:
        assert session.scalars(select(Upload)).all() == []


def test_over_quota_is_refused_with_a_clear_error_and_nothing_is_lost(world, tmp_path):
    platform, alice, bob = world
    platform.settings = replace(platform.settings, upload_quota_bytes=64 * KiB)
    kept, _ = unpack_upload(
        platform.db, platform.settings, alice, "web", archive_of(tmp_path, 40 * KiB)
    )

    with pytest.raises(QuotaExceeded) as refused:  # expands past the room left: stopped there
        unpack_upload(platform.db, platform.settings, alice, "web", archive_of(tmp_path, 40 * KiB))

    assert (
        "upload quota exceeded" in refused.value.message and "64 MiB" not in refused.value.message
    )
    assert ".dockerignore" in (refused.value.hint or "")
    assert sorted(p.name for p in platform.settings.uploads_dir.iterdir()) == [kept]
    unpack_upload(
        platform.db, platform.settings, bob, "api", archive_of(tmp_path, 40 * KiB)
    )  # each user's own
    claim_upload(platform.db, platform.settings, alice, "web", kept)
    unpack_upload(
        platform.db, platform.settings, alice, "web", archive_of(tmp_path, 40 * KiB)
    )  # room again


def test_a_small_archive_that_expands_past_the_quota_is_stopped_at_the_quota(world, tmp_path):
    platform, alice, _ = world
    platform.settings = replace(platform.settings, upload_quota_bytes=1024 * KiB)
    bomb = archive_of(tmp_path, 8 * 1024 * KiB)
    assert bomb.stat().st_size < 64 * KiB

    with pytest.raises(QuotaExceeded):
        unpack_upload(platform.db, platform.settings, alice, "web", bomb)

    assert list(platform.settings.uploads_dir.iterdir()) == []


def test_leftovers_no_upload_names_go_once_older_than_the_expiry(world, tmp_path):
    platform, _alice, _ = world
    uploads = platform.settings.uploads_dir
    uploads.mkdir(parents=True)
    old, fresh = uploads / "0123abcd", uploads / "4567ef.tar.gz"
    old.mkdir()
    fresh.write_bytes(b"in flight")
    an_hour_ago = fresh.stat().st_mtime - platform.settings.upload_ttl_s - 1
    os.utime(old, (an_hour_ago, an_hour_ago))

    assert sweep_expired(platform.db, platform.settings) == ["0123abcd"]
    assert [p.name for p in uploads.iterdir()] == ["4567ef.tar.gz"]
