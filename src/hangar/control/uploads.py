"""Uploads: a project folder sent for one deploy, owned by its user and app until used or expired.

An upload is unpacked under the data dir and recorded with its user, its app,
its unpacked size and an expiry. Only a deploy of that app by that user can
use it (any other asks get the same "not found" as a missing one); using it
moves the folder to the build contexts, which the deploy removes. What is
never used is removed when it expires. Each user's pending uploads together stay within a quota: the
unpacking itself stops at the room left, so a small archive that expands
enormously cannot fill the disk.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hangar.builder.archive import ArchiveTooLarge, unpack_safely
from hangar.control.apps import find_app
from hangar.control.platform import Settings
from hangar.domain.byte_sizes import readable_size
from hangar.domain.clock import SYSTEM_CLOCK, Clock, as_utc
from hangar.errors import NotFound, QuotaExceeded
from hangar.store.database import Database
from hangar.store.models import Upload, User

MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024  # one upload, whatever the quota


def unpack_upload(
    db: Database,
    settings: Settings,
    user: User,
    app_name: str,
    archive: Path,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[str, int]:
    """Unpack `archive` (then delete it) as an upload of `app_name` by `user`: its id, size."""
    try:
        with db.session() as session:
            app_id = find_app(session, app_name, user).id
        sweep_expired(db, settings, clock)
        room = _room_left(db, settings, user)
        upload_id = uuid.uuid4().hex
        folder = settings.uploads_dir / upload_id
        size = _unpack_into(archive, folder, room, settings)
        try:
            _record(
                db,
                settings,
                Upload(id=upload_id, user_id=user.id, app_id=app_id, bytes=size),
                clock,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return upload_id, size
    finally:
        archive.unlink(missing_ok=True)


def claim_upload(
    db: Database,
    settings: Settings,
    user: User,
    app_name: str,
    upload_id: str,
    clock: Clock = SYSTEM_CLOCK,
) -> Path:
    """`user`'s pending upload for `app_name`, moved out of the uploads (and the sweeper's
    reach) into the build contexts: the caller owns the folder from now on."""
    missing = NotFound(
        f"upload {upload_id} not found", hint="upload the folder again (hangar deploy)"
    )
    with db.session() as session:
        app = find_app(session, app_name, user)
        upload = session.get(Upload, upload_id) if upload_id.isalnum() else None
        if upload is None or (upload.user_id, upload.app_id) != (user.id, app.id):
            raise missing
        if as_utc(upload.expires_at) <= clock.now():
            raise missing
        session.delete(upload)
    folder = settings.uploads_dir / upload_id
    if not folder.is_dir():
        raise missing
    settings.contexts_dir.mkdir(parents=True, exist_ok=True)
    return folder.rename(settings.contexts_dir / upload_id)


def clear_build_contexts(settings: Settings) -> None:
    """At start: no deploy survives its server, so no build context is in use."""
    shutil.rmtree(settings.contexts_dir, ignore_errors=True)


def sweep_expired(db: Database, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> list[str]:
    """Remove expired uploads, and leftovers no upload names older than the expiry; their ids."""
    now = clock.now()
    with db.session() as session:
        expired = [u for u in session.scalars(select(Upload)) if as_utc(u.expires_at) <= now]
        for upload in expired:
            session.delete(upload)
        known = set(session.scalars(select(Upload.id)))
    for upload in expired:
        shutil.rmtree(settings.uploads_dir / upload.id, ignore_errors=True)
    return [u.id for u in expired] + _remove_leftovers(settings, known, now.timestamp())


def used_bytes(session: Session, user: User) -> int:
    query = select(func.coalesce(func.sum(Upload.bytes), 0)).where(Upload.user_id == user.id)
    return int(session.scalar(query) or 0)


def _room_left(db: Database, settings: Settings, user: User) -> int:
    with db.session() as session:
        used = used_bytes(session, user)
    if used >= settings.upload_quota_bytes:
        raise _over_quota(settings, used)
    return min(MAX_UNPACKED_BYTES, settings.upload_quota_bytes - used)


def _unpack_into(archive: Path, folder: Path, room: int, settings: Settings) -> int:
    folder.mkdir(parents=True)
    try:
        with archive.open("rb") as stream:
            return unpack_safely(stream, folder, room)
    except ArchiveTooLarge as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if room < MAX_UNPACKED_BYTES:
            raise _over_quota(settings, settings.upload_quota_bytes - room) from exc
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _record(db: Database, settings: Settings, upload: Upload, clock: Clock) -> None:
    """Keep the upload, unless uploads that finished meanwhile took the room."""
    with db.session() as session:
        user = session.get(User, upload.user_id)
        used = used_bytes(session, user) if user is not None else 0
        if used + upload.bytes > settings.upload_quota_bytes:
            raise _over_quota(settings, used)
        upload.expires_at = clock.now() + timedelta(seconds=settings.upload_ttl_s)
        session.add(upload)


def _over_quota(settings: Settings, used: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"upload quota exceeded: your pending uploads use {readable_size(used)} "
        f"of your {readable_size(settings.upload_quota_bytes)}",
        hint=f"an upload is freed by its deploy or after {settings.upload_ttl_s / 60:g} minutes; "
        "make the folder smaller by listing what the build does not need in .dockerignore",
    )


def _remove_leftovers(settings: Settings, known: set[str], now: float) -> list[str]:
    """Folders and archives no upload names (a crash, an older version), once old enough."""
    if not settings.uploads_dir.is_dir():
        return []
    removed = []
    for path in settings.uploads_dir.iterdir():
        upload_id = path.name.split(".", 1)[0]
        if upload_id in known or now - path.lstat().st_mtime < settings.upload_ttl_s:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(upload_id)
    return removed
