"""Engine, schema migrations and the unit of work."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hangar.errors import ConcurrentChange, HangarError, StoreUnavailable

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic)."""
        self.upgrade_to("head")

    def upgrade_to(self, revision: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            # SQLite rebuilds a table to alter it: with foreign keys on, dropping the old
            # copy of a parent table (apps) would cascade-delete its children's rows.
            _foreign_keys(connection, sqlite, on=False)
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                    _check_foreign_keys(connection, sqlite)
            finally:
                _foreign_keys(connection, sqlite, on=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException as exc:
            session.rollback()
            error = translated(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def flush(session: Session) -> None:
    """Write the unit of work so far, with the store's errors translated."""
    try:
        session.flush()
    except DBAPIError as exc:
        error = translated(exc)
        if error is None:
            raise
        raise error from exc


def translated(exc: BaseException) -> HangarError | None:
    """The store's own failures as Hangar errors; None for anything else."""
    if isinstance(exc, IntegrityError):  # a unique key taken by a request at the same instant
        return ConcurrentChange(
            "another request changed the same thing at the same time", hint="run it again"
        )
    if isinstance(exc, OperationalError):  # SQLite "database is locked", a lost connection
        log.warning("state store unavailable: %s", exc.orig)
        return StoreUnavailable(
            "the state store is busy or unreachable; nothing was changed",
            hint="try again in a moment; if it persists, see the server log",
        )
    return None


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'hangar.db'}"


def _make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _foreign_keys(connection: Connection, sqlite: bool, on: bool) -> None:
    if sqlite:
        connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        connection.commit()


def _check_foreign_keys(connection: Connection, sqlite: bool) -> None:
    if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
        raise RuntimeError("a migration left rows whose foreign keys point nowhere")


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
