"""The deploy engine's decisions, on fakes for Docker, HAProxy and health checks."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.deploys import Deployer, DeployRequest
from hangar.control.reconcile import desired_routes
from hangar.errors import Conflict, InvalidInput
from hangar.store.models import App, Machine, Release, User
from tests.conftest import http_config


def _setup_app(platform, name="web"):
    with platform.db.session() as session:
        signup(session, "dev@example.com", "secret-password")
        user = session.scalar(select(User))
        create_app(session, user, name)
    platform.edge.sync(desired_routes(platform))


def _deploy(platform, tmp_path, config, **extra):
    context = tmp_path / "ctx"
    context.mkdir(exist_ok=True)
    request = DeployRequest(
        app=config.app, user_email="dev@example.com", config=config, context_dir=context, **extra
    )
    return Deployer(platform).run_sync(request)


def _machines(platform):
    with platform.db.session() as session:
        return list(session.scalars(select(Machine).order_by(Machine.created_at)))


def _releases(platform):
    with platform.db.session() as session:
        return [(r.version, r.status) for r in session.scalars(select(Release))]


def test_first_deploy_creates_two_healthy_routed_machines(fake_platform, tmp_path):
    _setup_app(fake_platform)
    deployment = _deploy(fake_platform, tmp_path, http_config("web"))
    assert deployment.status == "complete"
    machines = _machines(fake_platform)
    assert [(m.state, m.release_version) for m in machines] == [("started", 1)] * 2
    assert set(fake_platform.edge.routes["web"]) == {m.id for m in machines}
    with fake_platform.db.session() as session:
        assert session.scalar(select(App)).status == "deployed"


def test_rolling_redeploy_drains_before_stopping_one_machine_at_a_time(fake_platform, tmp_path):
    _setup_app(fake_platform)
    _deploy(fake_platform, tmp_path, http_config("web"))
    first, second = (m.id for m in _machines(fake_platform))
    fake_platform.edge.journal.clear()
    fake_platform.runtime.journal.clear()
    _deploy(fake_platform, tmp_path, http_config("web"))
    assert fake_platform.edge.journal == [
        f"drain {first}",
        f"remove {first}",
        f"add {first}",
        f"drain {second}",
        f"remove {second}",
        f"add {second}",
    ]
    assert fake_platform.runtime.journal == [
        f"stop {first}",
        f"run {first} v2",
        f"stop {second}",
        f"run {second} v2",
    ]
    assert _releases(fake_platform) == [(1, "complete"), (2, "complete")]


def test_failed_check_stops_the_rollout_and_leaves_the_rest_serving(fake_platform, tmp_path):
    _setup_app(fake_platform)
    _deploy(fake_platform, tmp_path, http_config("web"))
    untouched = _machines(fake_platform)[1]
    fake_platform.health.passes = len(fake_platform.health.checked)  # every new check fails
    deployment = _deploy(fake_platform, tmp_path, http_config("web"))
    assert deployment.status == "failed"
    assert _releases(fake_platform) == [(1, "complete"), (2, "failed")]
    with fake_platform.db.session() as session:
        release = session.scalar(select(Release).where(Release.version == 2))
        assert "failed its health checks" in release.reason
        assert "last log lines" in release.reason
    states = {m.id: (m.state, m.release_version) for m in _machines(fake_platform)}
    assert states[untouched.id] == ("started", 1)
    assert list(fake_platform.edge.routes["web"]) == [untouched.id]


def test_build_failure_records_no_release_and_touches_no_machine(fake_platform, tmp_path):
    _setup_app(fake_platform)
    _deploy(fake_platform, tmp_path, http_config("web"))
    before = [(m.id, m.container_id) for m in _machines(fake_platform)]
    fake_platform.builder.fail = True
    deployment = _deploy(fake_platform, tmp_path, http_config("web"))
    events = list(deployment.events.follow())
    assert events[-1]["type"] == "error" and "build failed" in events[-1]["message"]
    assert _releases(fake_platform) == [(1, "complete")]
    assert [(m.id, m.container_id) for m in _machines(fake_platform)] == before


def test_missing_image_is_refused_before_any_release(fake_platform, tmp_path):
    _setup_app(fake_platform)
    deployment = _deploy(fake_platform, tmp_path, http_config("web"), image="nope:1")
    assert deployment.status == "failed"
    assert _releases(fake_platform) == []


def test_immediate_replaces_all_machines_without_waiting_for_checks(fake_platform, tmp_path):
    _setup_app(fake_platform)
    _deploy(fake_platform, tmp_path, http_config("web"))
    checks_before = len(fake_platform.health.checked)
    fake_platform.runtime.journal.clear()
    _deploy(fake_platform, tmp_path, http_config("web"), strategy="immediate")
    first, second = (m.id for m in _machines(fake_platform))
    assert fake_platform.runtime.journal == [
        f"stop {first}",
        f"stop {second}",
        f"run {first} v2",
        f"run {second} v2",
    ]
    assert len(fake_platform.health.checked) == checks_before
    assert set(fake_platform.edge.routes["web"]) == {first, second}


def test_unknown_strategy_is_refused_before_anything_runs(fake_platform, tmp_path):
    _setup_app(fake_platform)
    request = DeployRequest(
        app="web",
        user_email="dev@example.com",
        config=http_config("web"),
        context_dir=tmp_path,
        strategy="sideways",
    )
    with pytest.raises(InvalidInput, match="sideways"):
        Deployer(fake_platform).start(request)
    assert _releases(fake_platform) == []


def test_a_second_deploy_of_the_same_app_is_refused_while_one_runs(fake_platform, tmp_path):
    _setup_app(fake_platform)
    gate = threading.Event()
    fake_platform.builder.build = lambda *_args: gate.wait(10) and "img"
    deployer = Deployer(fake_platform)
    request = DeployRequest(
        app="web", user_email="dev@example.com", config=http_config("web"), context_dir=tmp_path
    )
    first = deployer.start(request)
    with pytest.raises(Conflict, match=first.id):
        deployer.start(request)
    gate.set()
    list(first.events.follow())
