"""Helpers for unit tests of control/ on the fake platform (see tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from hangar.appconfig import AppConfig
from hangar.appconfig.model import HttpService
from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.platform import Platform, Settings
from hangar.control.secrets import SecretStore
from hangar.control.supervision.reconcile import desired_routes
from hangar.store.database import Database
from hangar.store.models import Machine, Release, User
from hangar.store.secret_box import SecretBox
from hangar.testing import FakeBuilder, FakeEdge, FakeHealth, FakeRuntime


def http_config(app: str, **deploy: object) -> AppConfig:
    return AppConfig.model_validate(
        {"app": app, "http_service": HttpService().model_dump(), "deploy": deploy}
    )


def setup_app(platform, name="web"):
    with platform.db.session() as session:
        signup(session, "dev@example.com", "secret-password")
        user = session.scalar(select(User))
        create_app(session, user, name)
    platform.edge.sync(desired_routes(platform))


def deploy_now(platform, tmp_path, config, **extra):
    context = tmp_path / "ctx"
    context.mkdir(exist_ok=True)
    request = DeployRequest(
        app=config.app, user_email="dev@example.com", config=config, context_dir=context, **extra
    )
    return Deployer(platform).run_sync(request)


def machine_rows(platform):
    with platform.db.session() as session:
        return list(session.scalars(select(Machine).order_by(Machine.created_at)))


def release_states(platform):
    with platform.db.session() as session:
        return [(r.version, r.status) for r in session.scalars(select(Release))]


def user_named(platform, email="dev@example.com"):
    with platform.db.session() as session:
        return session.scalar(select(User).where(User.email == email))


def fake_platform_in(folder: Path) -> Platform:
    """The fakes over a real SQLite store in `folder` (for scripts; tests use the fixture)."""
    db = Database(f"sqlite:///{folder / 'hangar.db'}")
    db.migrate()
    runtime = FakeRuntime()
    return Platform(
        db,
        runtime,
        FakeBuilder(runtime=runtime),
        FakeEdge(),
        FakeHealth(runtime=runtime),
        Settings(folder, smoke_window_s=0.0),
        SecretStore(db, SecretBox(Fernet.generate_key())),
    )
