"""Smoke checks: a machine that exits soon after it passed its checks fails the change."""

from __future__ import annotations

from hangar.control.operations.runner import outcome, run_operation
from hangar.control.operations.scale import scale_count
from tests.support.platform import deploy_now, http_config, machine_rows, release_states, setup_app

WINDOW_S = 0.3


def _deployed(platform, tmp_path):
    platform.settings.smoke_window_s = WINDOW_S
    setup_app(platform)
    assert deploy_now(platform, tmp_path, http_config("web")).status == "complete"
    return {m.id: m.container_id for m in machine_rows(platform)}


def test_a_release_that_crashes_after_its_checks_is_rolled_back(fake_platform, tmp_path):
    before = _deployed(fake_platform, tmp_path)
    fake_platform.runtime.crashing_releases = {2}
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"))
    assert deployment.status == "rolled back"
    assert release_states(fake_platform) == [(1, "complete"), (2, "rolled back")]
    machines = machine_rows(fake_platform)
    assert {m.id for m in machines} == set(before)
    assert [(m.state, m.release_version) for m in machines] == [("started", 1)] * 2
    assert set(fake_platform.edge.routes["web"]) == set(before)
    message = list(deployment.events.follow())[-1].message
    assert "appears to be crashing" in message and "exit 3" in message
    assert "last log lines" in message


def test_the_last_old_container_serves_until_a_new_one_survived_its_window(fake_platform, tmp_path):
    before = _deployed(fake_platform, tmp_path)
    second = list(before)[1]
    fake_platform.runtime.crashing_releases = {2}
    deploy_now(fake_platform, tmp_path, http_config("web"))
    # The first new container crashed in its window while the second machine's new
    # container waited beside the old one: the old one was never stopped.
    machine = next(m for m in machine_rows(fake_platform) if m.id == second)
    assert machine.container_id == before[second]
    assert fake_platform.runtime.containers[before[second]].state == "running"


def test_without_smoke_checks_the_crash_is_left_to_the_restart_monitor(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    fake_platform.runtime.crashing_releases = {2}
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"), smoke_checks=False)
    assert deployment.status == "complete"


def test_a_first_deploy_that_crashes_fails(fake_platform, tmp_path):
    fake_platform.settings.smoke_window_s = WINDOW_S
    setup_app(fake_platform)
    fake_platform.runtime.crashing_releases = {1}
    deployment = deploy_now(fake_platform, tmp_path, http_config("web"))
    assert deployment.status == "failed"
    states = {m.state for m in machine_rows(fake_platform)}
    assert "failed" in states


def test_scaling_up_never_routes_a_crashing_machine(fake_platform, tmp_path):
    before = _deployed(fake_platform, tmp_path)
    fake_platform.runtime.crashing_releases = {1}
    fake_platform.edge.journal.clear()
    done = outcome(run_operation(fake_platform, "web", "scale", lambda o: scale_count(o, "web", 3)))
    assert done.type == "error" and "appears to be crashing" in done.message
    assert {m.id for m in machine_rows(fake_platform)} == set(before)
    assert not [line for line in fake_platform.edge.journal if line.startswith("add")]
