"""One change per app at a time: a lease in the store, renewed while held, that expires.

A lease left behind by a killed server expires after its time to live, and a
server starting up drops every lease (no work of an earlier process survives it).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hangar.domain.clock import SYSTEM_CLOCK, Clock, as_utc
from hangar.errors import ConcurrentChange, Conflict
from hangar.store.database import Database
from hangar.store.models import App, Lease

TTL_S = 30.0
POLL_S = 0.5


def acquire(
    db: Database,
    app: str,
    holder: str,
    description: str,
    ttl_s: float = TTL_S,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Take the app's lease or raise Conflict naming who holds it."""
    now = clock.now()
    try:
        with db.session() as session:
            app_id = _app_id(session, app)
            if app_id is None:
                raise Conflict(f"app {app} no longer exists")
            lease = session.get(Lease, app_id)
            if lease is not None and lease.holder != holder and as_utc(lease.expires_at) > now:
                raise Conflict(
                    f"{lease.description} of {app} is still running",
                    hint="wait for it to finish, or pass --wait-for-lock",
                )
            if lease is None:
                lease = Lease(app_id=app_id)
                session.add(lease)
            lease.holder, lease.description = holder, description
            lease.expires_at = now + timedelta(seconds=ttl_s)
    except ConcurrentChange as exc:  # another server took it in the same instant
        raise Conflict(f"another change of {app} just started", hint="try again") from exc


def acquire_waiting(
    db: Database,
    app: str,
    holder: str,
    description: str,
    timeout_s: float,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    deadline = clock.monotonic() + timeout_s
    while True:
        try:
            acquire(db, app, holder, description, clock=clock)
            return
        except Conflict:
            if clock.monotonic() >= deadline:
                raise
            clock.sleep(POLL_S)


def release(db: Database, app: str, holder: str) -> None:
    with db.session() as session:
        app_id = _app_id(session, app)
        session.execute(delete(Lease).where(Lease.app_id == app_id, Lease.holder == holder))


def drop_all(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(Lease))


@contextmanager
def held(
    db: Database, app: str, holder: str, ttl_s: float = TTL_S, clock: Clock = SYSTEM_CLOCK
) -> Iterator[None]:
    """Keep renewing an acquired lease while the block runs (every third of its time
    to live, in real time), release it after."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl_s / 3):
            _extend(db, app, holder, clock.now() + timedelta(seconds=ttl_s))

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        release(db, app, holder)


@contextmanager
def app_lease(db: Database, app: str, kind: str) -> Iterator[None]:
    """Take the app's lease for a `kind` of change (Conflict if busy), hold it, free it."""
    holder = f"{kind}-{uuid.uuid4().hex[:12]}"
    acquire(db, app, holder, kind)
    with held(db, app, holder):
        yield


def _extend(db: Database, app: str, holder: str, until: datetime) -> None:
    with db.session() as session:
        app_id = _app_id(session, app)
        lease = session.get(Lease, app_id) if app_id is not None else None
        if lease is not None and lease.holder == holder:
            lease.expires_at = until


def _app_id(session: Session, app: str) -> int | None:
    return session.scalar(select(App.id).where(App.name == app))
