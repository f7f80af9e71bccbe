"""The deploy engine's decisions, on fakes for Docker, HAProxy and health checks."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from hangar.appconfig.model import HttpCheck
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.deploy.rollback import rollback_request
from hangar.control.operations.destroy import destroy_app
from hangar.control.supervision.reconcile import desired_routes
from hangar.errors import Conflict, InvalidInput, NotFound
from hangar.store.models import App, Machine, Release, User
from tests.support.platform import (
    deploy_now,
    http_config,
    machine_rows,
    release_states,
    setup_app,
)


def _request(context_dir, **extra):
    return DeployRequest(
        app="web",
        user_email="dev@example.com",
        config=http_config("web"),
        context_dir=context_dir,
        **extra,
    )


def test_first_deploy_creates_two_healthy_routed_machines(fake_platform, tmp_path):
    setup_app(fake_platform)
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"))
    assert deployment.status == "complete"
    machines = machine_rows(fake_platform)
    assert [(m.state, m.release_version) for m in machines] == [("started", 1)] * 2
    assert set(fake_platform.edge.routes["web"]) == {m.id for m in machines}
    with fake_platform.db.session() as session:
        assert session.scalar(select(App)).status == "deployed"


def test_rolling_redeploy_drains_before_stopping_one_machine_at_a_time(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    first, second = (m.id for m in machine_rows(fake_platform))
    fake_platform.edge.journal.clear()
    fake_platform.runtime.journal.clear()
    deploy_now(fake_platform, tmp_path, http_config("web", order="stop-first"))
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
    assert release_states(fake_platform) == [(1, "complete"), (2, "complete")]


def test_start_first_routes_each_new_container_before_draining_the_old(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    first, second = (m.id for m in machine_rows(fake_platform))
    fake_platform.edge.journal.clear()
    fake_platform.runtime.journal.clear()
    deploy_now(fake_platform, tmp_path, http_config("web"))
    edge, runtime = fake_platform.edge.journal, fake_platform.runtime.journal
    for machine in (first, second):
        assert [e for e in edge if e.endswith(machine)] == [
            f"add {machine}",
            f"drain {machine}",
            f"remove {machine}",
        ]
        assert [e for e in runtime if e.endswith((machine, f"{machine} v2"))] == [
            f"run {machine} v2",
            f"stop {machine}",
        ]
    assert runtime.index(f"run {first} v2") < runtime.index(f"run {second} v2")
    machines = machine_rows(fake_platform)
    assert [(m.state, m.release_version) for m in machines] == [("started", 2)] * 2
    assert fake_platform.edge.routes["web"] == {m.id: m.host_port for m in machines}


def test_old_containers_stop_while_the_next_machine_starts_and_the_deploy_waits_for_them(
    fake_platform, tmp_path
):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    first, second = (m.id for m in machine_rows(fake_platform))
    fake_platform.runtime.journal.clear()
    fake_platform.runtime.stops_wait_for = stops_may_end = threading.Event()
    deploy = threading.Thread(target=deploy_now, args=(fake_platform, tmp_path, http_config("web")))
    deploy.start()
    try:
        _wait_for(lambda: f"run {second} v2" in fake_platform.runtime.journal)
        assert f"stop {first}" not in fake_platform.runtime.journal  # still stopping
        assert deploy.is_alive()  # and the deploy waits for it
    finally:
        stops_may_end.set()
        deploy.join(10)
    assert {f"stop {first}", f"stop {second}"} <= set(fake_platform.runtime.journal)
    assert release_states(fake_platform) == [(1, "complete"), (2, "complete")]


def _wait_for(condition, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_without_rollback_a_failed_check_stops_and_leaves_the_rest_serving(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    untouched = machine_rows(fake_platform)[1]
    fake_platform.health.failing_releases = {2}
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"), rollback=False)
    assert deployment.status == "failed"
    assert release_states(fake_platform) == [(1, "complete"), (2, "failed")]
    with fake_platform.db.session() as session:
        release = session.scalar(select(Release).where(Release.version == 2))
        assert "failed its health checks" in release.reason
        assert "last log lines" in release.reason
    # Start-first: the failed container was beside the machine's own, which still serves.
    states = {m.id: (m.state, m.release_version) for m in machine_rows(fake_platform)}
    assert set(states.values()) == {("started", 1)}
    assert set(fake_platform.edge.routes["web"]) == set(states)
    assert untouched.id in states


def test_build_failure_records_no_release_and_touches_no_machine(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    before = [(m.id, m.container_id) for m in machine_rows(fake_platform)]
    fake_platform.builder.fail = True
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"))
    events = list(deployment.events.follow())
    assert events[-1].type == "error" and "build failed" in events[-1].message
    assert release_states(fake_platform) == [(1, "complete")]
    assert [(m.id, m.container_id) for m in machine_rows(fake_platform)] == before


def test_missing_image_is_refused_before_any_release(fake_platform, tmp_path):
    setup_app(fake_platform)
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"), image="nope:1")
    assert deployment.status == "failed"
    assert release_states(fake_platform) == []


def test_immediate_replaces_all_machines_without_waiting_for_checks(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    checks_before = len(fake_platform.health.checked)
    fake_platform.runtime.journal.clear()
    deploy_now(fake_platform, tmp_path, http_config("web"), strategy="immediate")
    first, second = (m.id for m in machine_rows(fake_platform))
    assert fake_platform.runtime.journal == [
        f"stop {first}",
        f"stop {second}",
        f"run {first} v2",
        f"run {second} v2",
    ]
    assert len(fake_platform.health.checked) == checks_before
    assert set(fake_platform.edge.routes["web"]) == {first, second}


@pytest.mark.parametrize(
    ("strategy", "reason"), [("sideways", "sideways"), ("bluegreen", "needs a health check")]
)
def test_a_strategy_that_cannot_run_is_refused_before_anything_runs(
    fake_platform, tmp_path, strategy, reason
):
    setup_app(fake_platform)
    with pytest.raises(InvalidInput, match=reason):
        Deployer(fake_platform).start(_request(tmp_path, strategy=strategy))
    assert release_states(fake_platform) == []


def test_a_second_deploy_of_the_same_app_is_refused_while_one_runs(fake_platform, tmp_path):
    setup_app(fake_platform)
    gate = threading.Event()
    fake_platform.builder.build = lambda *_args, **_kw: gate.wait(10) and "img"
    deployer = Deployer(fake_platform)
    request = _request(tmp_path)
    first = deployer.start(request)
    with pytest.raises(Conflict, match=first.id):
        deployer.start(request)
    gate.set()
    list(first.events.follow())


def test_failed_rolling_deploy_rolls_moved_machines_back(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    deploy_now(fake_platform, tmp_path, http_config("web"))
    before = {m.id for m in machine_rows(fake_platform)}
    fake_platform.health.failing_releases = {3}
    fake_platform.health.passes_per_release = 1  # the first machine moves, the second fails
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"))
    assert deployment.status == "rolled back"
    assert release_states(fake_platform) == [(1, "complete"), (2, "complete"), (3, "rolled back")]
    machines = machine_rows(fake_platform)
    assert {m.id for m in machines} == before
    assert [(m.state, m.release_version) for m in machines] == [("started", 2)] * 2
    assert set(fake_platform.edge.routes["web"]) == before
    events = list(deployment.events.follow())
    # The second machine's new container failed beside its old one: only the first moved.
    assert "rolled back 1 machine(s)" in events[-1].message


def test_canary_checks_one_extra_machine_first_then_rolls(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    old = [m.id for m in machine_rows(fake_platform)]
    fake_platform.runtime.journal.clear()
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"), strategy="canary")
    assert deployment.status == "complete"
    journal = fake_platform.runtime.journal
    canary = journal[0].split()[1]
    assert journal[0] == f"run {canary} v2" and canary not in old
    assert journal[1] == f"stop {canary}"
    assert journal[2:] == [
        f"run {old[0]} v2",
        f"stop {old[0]}",
        f"run {old[1]} v2",
        f"stop {old[1]}",
    ]
    assert [m.id for m in machine_rows(fake_platform)] == old


def test_failed_canary_touches_no_old_machine(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    before = [(m.id, m.container_id, m.release_version) for m in machine_rows(fake_platform)]
    fake_platform.health.failing_releases = {2}
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"), strategy="canary")
    assert deployment.status == "rolled back"
    assert [
        (m.id, m.container_id, m.release_version) for m in machine_rows(fake_platform)
    ] == before
    assert len(fake_platform.runtime.containers) == 2


def _checked_config(app):
    config = http_config(app)
    config.http_service.checks.append(HttpCheck(path="/health"))
    return config


def test_the_edge_runs_the_check_of_the_release_it_routes(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    assert fake_platform.edge.checks["web"].kind == "tcp"  # no checks: the default one
    deploy_now(fake_platform, tmp_path, _checked_config("web"))
    check = fake_platform.edge.checks["web"]
    assert (check.kind, check.path) == ("http", "/health")
    fake_platform.edge.sync(desired_routes(fake_platform))  # as at a server start
    assert fake_platform.edge.checks["web"] == check


def test_bluegreen_switches_to_new_machines_in_one_step(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, _checked_config("web"))
    old = {m.id for m in machine_rows(fake_platform)}
    fake_platform.edge.journal.clear()
    deployment = deploy_now(fake_platform, tmp_path, _checked_config("web"), strategy="bluegreen")
    assert deployment.status == "complete"
    new = {m.id for m in machine_rows(fake_platform)}
    assert len(new) == 2 and not new & old
    journal = fake_platform.edge.journal
    assert [j.split()[0] for j in journal[:2]] == ["add", "add"], "green goes in before blue out"
    assert set(fake_platform.edge.routes["web"]) == new
    assert all(m.release_version == 2 for m in machine_rows(fake_platform))


def test_failed_bluegreen_destroys_the_greens_and_keeps_the_blues(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, _checked_config("web"))
    before = [(m.id, m.container_id) for m in machine_rows(fake_platform)]
    fake_platform.health.failing_releases = {2}
    deployment = deploy_now(fake_platform, tmp_path, _checked_config("web"), strategy="bluegreen")
    assert deployment.status == "failed"
    assert [(m.id, m.container_id) for m in machine_rows(fake_platform)] == before
    assert len(fake_platform.runtime.containers) == 2
    assert set(fake_platform.edge.routes["web"]) == {mid for mid, _ in before}


def _with_release_command(app, command="migrate --all"):
    config = http_config(app)
    config.deploy.release_command = command
    return config


def test_release_command_runs_first_in_its_own_machine(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    fake_platform.runtime.journal.clear()
    deployment = deploy_now(fake_platform, tmp_path, _with_release_command("web"))
    assert deployment.status == "complete"
    first = fake_platform.runtime.journal[0]
    assert first.startswith("run ") and first.endswith(" v2")
    assert first.split()[1] not in {m.id for m in machine_rows(fake_platform)}
    assert len(fake_platform.runtime.containers) == 2, "the release machine is removed"


def test_failing_release_command_aborts_before_any_machine_is_touched(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    before = [(m.id, m.container_id, m.release_version) for m in machine_rows(fake_platform)]
    fake_platform.runtime.task_exit_code = 3
    deployment = deploy_now(fake_platform, tmp_path, _with_release_command("web"))
    assert deployment.status == "failed"
    events = list(deployment.events.follow())
    assert "exit code 3" in events[-1].message and "log of" in events[-1].message
    assert [
        (m.id, m.container_id, m.release_version) for m in machine_rows(fake_platform)
    ] == before
    assert release_states(fake_platform) == [(1, "complete"), (2, "failed")]


def test_rollback_goes_to_the_release_before_the_current_one(fake_platform, tmp_path):
    setup_app(fake_platform)
    for _ in range(3):
        deploy_now(fake_platform, tmp_path, http_config("web"))
    with fake_platform.db.session() as session:
        user = session.scalar(select(User))
        session.expunge(user)
    request = rollback_request(fake_platform, user, "web", None)
    assert request.description == "Rollback to v2"
    Deployer(fake_platform).run_sync(request)
    assert release_states(fake_platform)[-1] == (4, "complete")
    with fake_platform.db.session() as session:
        images = {r.version: r.image for r in session.scalars(select(Release))}
    assert images[4] == images[2]
    with pytest.raises(NotFound, match="no release v9"):
        rollback_request(fake_platform, user, "web", 9)


def test_a_deploy_after_a_failed_first_deploy_starts_fresh_with_two_machines(
    fake_platform, tmp_path
):
    setup_app(fake_platform)
    fake_platform.health.failing_releases = {1}
    assert deploy_now(fake_platform, tmp_path, http_config("web")).status == "failed"
    assert [m.state for m in machine_rows(fake_platform)] == ["failed"]
    fake_platform.health.failing_releases = set()
    assert deploy_now(fake_platform, tmp_path, http_config("web")).status == "complete"
    assert [(m.state, m.release_version) for m in machine_rows(fake_platform)] == [
        ("started", 2)
    ] * 2
    assert len(fake_platform.runtime.containers) == 2


def test_a_failed_canary_without_rollback_leaves_no_canary_behind(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    before = [m.id for m in machine_rows(fake_platform)]
    fake_platform.health.failing_releases = {2}
    deployment = deploy_now(
        fake_platform, tmp_path, http_config("web"), strategy="canary", rollback=False
    )
    assert deployment.status == "failed"
    assert [m.id for m in machine_rows(fake_platform)] == before
    assert len(fake_platform.runtime.containers) == 2


def test_rollback_keeps_machines_that_were_already_failed_before_the_deploy(
    fake_platform, tmp_path
):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    deploy_now(fake_platform, tmp_path, http_config("web"))
    broken = machine_rows(fake_platform)[1]
    with fake_platform.db.session() as session:
        session.get(Machine, broken.id).state = "failed"
    fake_platform.health.failing_releases = {3}
    assert deploy_now(fake_platform, tmp_path, http_config("web")).status == "rolled back"
    assert broken.id in {m.id for m in machine_rows(fake_platform)}


def test_an_app_cannot_be_destroyed_while_it_deploys(fake_platform, tmp_path):
    setup_app(fake_platform)
    gate = threading.Event()
    fake_platform.builder.build = lambda *_args, **_kw: gate.wait(10) and "img"
    deployer = Deployer(fake_platform)
    request = _request(tmp_path)
    running = deployer.start(request)
    with fake_platform.db.session() as session:
        user = session.scalar(select(User))
        session.expunge(user)
    with pytest.raises(Conflict, match=running.id):
        destroy_app(fake_platform, user, "web")
    gate.set()
    list(running.events.follow())
    destroy_app(fake_platform, user, "web")
    assert fake_platform.runtime.journal[-1] == "remove network web"  # after its containers


def test_only_the_last_deployments_are_kept_in_memory(fake_platform, tmp_path, monkeypatch):
    monkeypatch.setattr("hangar.control.deploy.engine.KEPT_DEPLOYMENTS", 2)
    setup_app(fake_platform)
    deployer = Deployer(fake_platform)
    ids = []
    for _ in range(4):
        context = tmp_path / "ctx"
        context.mkdir(exist_ok=True)
        ids.append(deployer.run_sync(_request(context)).id)
    with pytest.raises(NotFound):
        deployer.get(ids[0])
    assert deployer.get(ids[-1]).status == "complete"


def test_a_stopped_machine_stays_stopped_but_moves_to_the_new_release(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    stopped = machine_rows(fake_platform)[0]
    with fake_platform.db.session() as session:
        session.get(Machine, stopped.id).state = "stopped"
    assert deploy_now(fake_platform, tmp_path, http_config("web")).status == "complete"
    after = {m.id: m for m in machine_rows(fake_platform)}
    assert len(after) == 2
    assert (after[stopped.id].state, after[stopped.id].release_version) == ("stopped", 2)
    assert after[stopped.id].container_id is None
    assert [m.state for m in after.values() if m.id != stopped.id] == ["started"]


def test_deploying_an_app_whose_machines_are_all_stopped_creates_none(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    with fake_platform.db.session() as session:
        for machine in session.scalars(select(Machine)):
            machine.state = "stopped"
    assert deploy_now(fake_platform, tmp_path, http_config("web")).status == "complete"
    assert [(m.state, m.release_version) for m in machine_rows(fake_platform)] == [
        ("stopped", 2)
    ] * 2
