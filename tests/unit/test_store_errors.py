"""The store's failures reach users as Hangar errors with a hint, never as a 500."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from hangar.api.app import create_api
from hangar.control.accounts import signup
from hangar.errors import ConcurrentChange, Conflict, StoreUnavailable
from hangar.store.database import Database
from hangar.store.models import User


def test_a_locked_database_is_store_unavailable(tmp_path):
    path = tmp_path / "hangar.db"
    migrated = Database(f"sqlite:///{path}")
    migrated.migrate()
    migrated.dispose()
    db = _quick_timeout(path)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable) as caught, db.session() as session:
            session.add(User(email="a@b.c", password_hash="x"))
        assert caught.value.status == 503
        assert "try again" in caught.value.hint
    finally:
        holder.rollback()
        holder.close()
        db.dispose()


def test_a_unique_row_taken_meanwhile_is_a_concurrent_change(db):
    with db.session() as session:
        session.add(User(email="a@b.c", password_hash="x"))
    with pytest.raises(ConcurrentChange), db.session() as session:
        session.add(User(email="a@b.c", password_hash="y"))


def test_two_signups_of_one_email_at_once_give_one_account_and_one_conflict(db):
    barrier, outcomes = threading.Barrier(2), []

    def sign_up() -> None:
        try:
            with db.session() as session:
                barrier.wait()
                outcomes.append(signup(session, "a@b.c", "long-enough"))
        except Conflict as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=sign_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(o.startswith("hgr_") for o in outcomes) == [False, True]
    assert "a@b.c already has an account" in outcomes


def test_other_errors_pass_through_unchanged(db):
    with pytest.raises(ZeroDivisionError), db.session() as session:
        session.execute(text("SELECT 1"))
        1 / 0  # noqa: B018


def test_the_api_answers_503_with_retry_after_when_the_store_is_unavailable(fake_platform):
    def unavailable(*_args: object) -> None:
        raise StoreUnavailable("the state store is busy or unreachable", hint="try again")

    with TestClient(create_api(fake_platform)) as client:
        token = client.post(
            "/v1/auth/signup", json={"email": "dev@example.com", "password": "long-enough"}
        ).json()["token"]
        fake_platform.db.session = unavailable  # type: ignore[method-assign]
        response = client.get("/v1/apps", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "store_unavailable"


def _quick_timeout(path):
    """A Database whose SQLite connections give up on a lock after 0.1 s, not 30 s."""
    db = Database(f"sqlite:///{path}")
    db.engine.dispose()
    db.engine.pool._creator = lambda: sqlite3.connect(path, timeout=0.1, check_same_thread=False)
    return db
