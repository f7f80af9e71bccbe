"""The restart monitor on fakes: crashes, OOM kills, policies, retries, the lease, the logs."""

from __future__ import annotations

from hangar.appconfig import AppConfig
from hangar.control import leases
from hangar.control.logs import app_logs
from hangar.control.supervision.restart_monitor import RestartMonitor
from tests.support.platform import deploy_now, http_config, machine_rows, setup_app, user_named


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _app_with(platform, tmp_path, restart=None, **deploy):
    setup_app(platform)
    config = http_config("web", **deploy)
    if restart is not None:
        config = AppConfig.model_validate({**config.model_dump(), "restart": [restart]})
    deploy_now(platform, tmp_path, config)
    return machine_rows(platform)[0]


def _monitor(platform):
    clock = Clock()
    return RestartMonitor(platform, clock=clock), clock


def _machine(platform, machine_id):
    return {m.id: m for m in machine_rows(platform)}[machine_id]


def _platform_lines(platform, machine_id):
    return [line.message for line in platform.platform_log.lines("web", machine_id)]


def test_a_crashed_machine_is_restarted_fresh_after_a_second(fake_platform, tmp_path):
    crashed = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(crashed.container_id, exit_code=1)
    monitor, clock = _monitor(fake_platform)
    assert monitor.check_once() == []  # first seen: a stop may still be being recorded
    clock.now += 1.0
    assert monitor.check_once() == [crashed.id]
    restarted = _machine(fake_platform, crashed.id)
    assert (restarted.state, restarted.restart_count, restarted.last_exit) == (
        "started",
        1,
        "exit 1",
    )
    assert restarted.container_id != crashed.container_id
    assert fake_platform.edge.routes["web"][crashed.id] == restarted.host_port
    assert _platform_lines(fake_platform, crashed.id) == [
        "[platform] Machine exited (exit 1); restarting (1/10)",
        f"log of {crashed.container_id}",  # the last lines of the replaced container
        "[platform] Machine restarted (1/10), healthy and serving again",
    ]


def test_an_oom_killed_machine_is_restarted_and_says_so(fake_platform, tmp_path):
    victim = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(victim.container_id, exit_code=137, oom_killed=True)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    assert _machine(fake_platform, victim.id).last_exit == "oom killed"
    assert "(oom killed)" in _platform_lines(fake_platform, victim.id)[0]


def test_the_machine_leaves_the_edge_as_soon_as_it_is_handled(fake_platform, tmp_path):
    crashed = _app_with(fake_platform, tmp_path, restart={"policy": "no"})
    fake_platform.runtime.crash(crashed.container_id)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    stopped = _machine(fake_platform, crashed.id)
    assert (stopped.state, stopped.restart_count, stopped.last_exit) == ("stopped", 0, "exit 1")
    assert crashed.id not in fake_platform.edge.routes["web"]
    assert "leaves it stopped" in _platform_lines(fake_platform, crashed.id)[0]


def test_on_failure_leaves_a_clean_exit_stopped(fake_platform, tmp_path):
    done = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(done.container_id, exit_code=0)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    assert _machine(fake_platform, done.id).state == "stopped"


def test_always_restarts_a_clean_exit(fake_platform, tmp_path):
    done = _app_with(fake_platform, tmp_path, restart={"policy": "always"})
    fake_platform.runtime.crash(done.container_id, exit_code=0)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    assert _machine(fake_platform, done.id).state == "started"
    assert "restarting (1)" in _platform_lines(fake_platform, done.id)[0]


def test_when_the_retries_run_out_the_machine_fails_out_of_routing(fake_platform, tmp_path):
    looping = _app_with(fake_platform, tmp_path, restart={"policy": "on-failure", "retries": 1})
    monitor, clock = _monitor(fake_platform)
    fake_platform.runtime.crash(looping.container_id)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    again = _machine(fake_platform, looping.id)
    fake_platform.runtime.crash(again.container_id)
    monitor.check_once()
    clock.now += 1.0
    assert monitor.check_once() == []  # the second restart waits 2 s
    clock.now += 1.0
    assert monitor.check_once() == [looping.id]
    failed = _machine(fake_platform, looping.id)
    assert (failed.state, failed.checks, failed.restart_count) == ("failed", "critical", 1)
    assert looping.id not in fake_platform.edge.routes["web"]
    assert "giving up" in _platform_lines(fake_platform, looping.id)[-1]
    clock.now += 60
    assert monitor.check_once() == []  # a failed machine is left alone


def test_a_restarted_machine_that_never_gets_healthy_fails(fake_platform, tmp_path):
    sick = _app_with(fake_platform, tmp_path, wait_timeout=0.2)
    fake_platform.health.failing_releases = {1}
    fake_platform.runtime.crash(sick.container_id)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    failed = _machine(fake_platform, sick.id)
    assert (failed.state, failed.restart_count) == ("failed", 1)
    assert fake_platform.runtime.inspect(failed.container_id).state == "exited"
    assert sick.id not in fake_platform.edge.routes["web"]
    assert "failed its health checks" in _platform_lines(fake_platform, sick.id)[-1]


def test_no_restart_while_a_deploy_holds_the_lease(fake_platform, tmp_path):
    crashed = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(crashed.container_id)
    leases.acquire(fake_platform.db, "web", "d1", "deployment d1")
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    assert monitor.check_once() == []
    leases.release(fake_platform.db, "web", "d1")
    assert monitor.check_once() == [crashed.id]


def test_a_machine_stopped_by_its_user_is_not_restarted(fake_platform, tmp_path):
    stopped = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(stopped.container_id, exit_code=130)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    with fake_platform.db.session() as session:  # `machines stop` records its state
        session.merge(stopped).state = "stopped"
    clock.now += 1.0
    assert monitor.check_once() == []
    assert _machine(fake_platform, stopped.id).restart_count == 0


def test_a_redeploy_starts_the_restart_count_again(fake_platform, tmp_path):
    crashed = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(crashed.container_id)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    assert _machine(fake_platform, crashed.id).restart_count == 1
    deploy_now(fake_platform, tmp_path, http_config("web"))
    redeployed = _machine(fake_platform, crashed.id)
    assert (redeployed.restart_count, redeployed.last_exit) == (0, None)


def test_logs_show_the_platform_lines_tagged_with_the_machine(fake_platform, tmp_path):
    crashed = _app_with(fake_platform, tmp_path)
    fake_platform.runtime.crash(crashed.container_id, exit_code=137, oom_killed=True)
    monitor, clock = _monitor(fake_platform)
    monitor.check_once()
    clock.now += 1.0
    monitor.check_once()
    lines = list(app_logs(fake_platform, user_named(fake_platform), "web"))
    platform_lines = [line for line in lines if line.message.startswith("[platform]")]
    assert [line.machine_id for line in platform_lines] == [crashed.id, crashed.id]
    assert "oom killed" in platform_lines[0].message
    only_other = list(
        app_logs(fake_platform, user_named(fake_platform), "web", machine_rows(fake_platform)[1].id)
    )
    assert not [line for line in only_other if line.message.startswith("[platform]")]
