"""Machines started and stopped by traffic: when the idle ones stop, when a request or
load starts one, and what keeps a machine running (fakes, a real store)."""

from __future__ import annotations

import time

import pytest

from hangar.appconfig import AppConfig
from hangar.control import leases
from hangar.control.machine_traffic import MachineTraffic
from hangar.control.machines.lifecycle import backend_name
from hangar.control.supervision.auto_start import Starter
from hangar.control.supervision.auto_stop import IdleStopper
from hangar.domain.states import MachineState
from tests.support.platform import deploy_now, machine_rows, setup_app

IDLE_S = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def on_demand(auto_stop="stop", min_running=0, auto_start=True, soft=2) -> AppConfig:
    service = {
        "internal_port": 8080,
        "auto_stop_machines": auto_stop,
        "auto_start_machines": auto_start,
        "min_machines_running": min_running,
        "concurrency": {"soft_limit": soft, "hard_limit": soft + 1},
    }
    return AppConfig.model_validate({"app": "web", "http_service": service})


@pytest.fixture
def clock(fake_platform) -> Clock:
    clock = Clock()
    fake_platform.traffic = MachineTraffic(clock)
    return clock


def deployed(platform, tmp_path, config: AppConfig) -> list[str]:
    setup_app(platform)
    assert deploy_now(platform, tmp_path, config).status == "complete"
    return [m.id for m in machine_rows(platform)]


def states(platform) -> dict[str, str]:
    return {m.id: m.state for m in machine_rows(platform)}


def test_idle_machines_stop_and_keep_their_containers(fake_platform, tmp_path, clock):
    ids = deployed(fake_platform, tmp_path, on_demand())
    stopper = IdleStopper(fake_platform, IDLE_S, clock)
    assert stopper.round() == []  # first seen now
    clock.now += IDLE_S - 1
    assert stopper.round() == []
    clock.now += 1
    assert sorted(stopper.round()) == sorted(ids)
    assert set(states(fake_platform).values()) == {MachineState.STOPPED}
    kept = [m.container_id for m in machine_rows(fake_platform)]
    assert all(fake_platform.runtime.containers[c].state == "exited" for c in kept)
    assert fake_platform.edge.routes["web"] == {}  # drained and out of the edge
    assert [f"drain {i}" for i in ids] == [e for e in fake_platform.edge.journal if "drain" in e]


def test_min_machines_running_keeps_the_last_used_ones(fake_platform, tmp_path, clock):
    first, second = deployed(fake_platform, tmp_path, on_demand(min_running=1))
    stopper = IdleStopper(fake_platform, IDLE_S, clock)
    stopper.round()
    clock.now += IDLE_S / 2
    fake_platform.traffic.saw(second)
    clock.now += IDLE_S
    assert stopper.round() == [first]
    clock.now += 10 * IDLE_S
    assert stopper.round() == []  # never below one
    assert states(fake_platform) == {first: "stopped", second: "started"}


def test_a_request_or_one_in_flight_keeps_a_machine_started(fake_platform, tmp_path, clock):
    first, second = deployed(fake_platform, tmp_path, on_demand())
    stopper = IdleStopper(fake_platform, IDLE_S, clock)
    stopper.round()
    clock.now += IDLE_S - 5
    fake_platform.traffic.saw(first)  # a request ended 5 s before the idle time
    (busy,) = [m for m in machine_rows(fake_platform) if m.id == second]
    assert busy.container_id is not None
    fake_platform.edge.load[backend_name(second, busy.container_id)] = 1  # a long request
    clock.now += 5
    assert stopper.round() == []
    clock.now += IDLE_S
    assert stopper.round() == [first]


def test_apps_without_auto_stop_never_stop(fake_platform, tmp_path, clock):
    deployed(fake_platform, tmp_path, on_demand(auto_stop="off"))
    stopper = IdleStopper(fake_platform, IDLE_S, clock)
    stopper.round()
    clock.now += 100 * IDLE_S
    assert stopper.round() == []


def test_an_app_busy_with_another_change_waits_for_the_next_round(fake_platform, tmp_path, clock):
    ids = deployed(fake_platform, tmp_path, on_demand())
    stopper = IdleStopper(fake_platform, IDLE_S, clock)
    stopper.round()
    clock.now += IDLE_S
    with leases.app_lease(fake_platform.db, "web", "deploy"):
        assert stopper.round() == []
    assert sorted(stopper.round()) == sorted(ids)


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def stop_all(platform, clock: Clock) -> None:
    stopper = IdleStopper(platform, IDLE_S, clock)
    stopper.round()
    clock.now += IDLE_S
    stopper.round()


def started(platform) -> list[str]:
    return [machine for machine, state in states(platform).items() if state == "started"]


def test_a_request_to_an_app_without_a_machine_starts_one(fake_platform, tmp_path, clock):
    deployed(fake_platform, tmp_path, on_demand())
    stop_all(fake_platform, clock)
    starter = Starter(fake_platform)
    assert starter.wake("web") is True
    assert starter.wake("web") is True  # a second request waits for the same start
    assert wait_for(lambda: len(fake_platform.edge.routes["web"]) == 1)  # routed: the edge sends
    assert list(fake_platform.edge.routes["web"]) == started(fake_platform)  # one machine only
    assert wait_for(lambda: "serving after" in fake_platform.platform_log.lines("web")[-1].message)


def test_wake_says_no_when_nothing_can_start(fake_platform, tmp_path, clock):
    deployed(fake_platform, tmp_path, on_demand(auto_start=False))
    stop_all(fake_platform, clock)
    starter = Starter(fake_platform)
    assert starter.wake("web") is False  # auto_start_machines = false
    assert starter.wake("nosuchapp") is False
    assert set(states(fake_platform).values()) == {"stopped"}


def test_wake_with_every_machine_started_says_no(fake_platform, tmp_path, clock):
    deployed(fake_platform, tmp_path, on_demand())
    assert Starter(fake_platform).wake("web") is False  # nothing stopped to start


def test_a_machine_starts_when_every_started_one_is_at_its_soft_limit(
    fake_platform, tmp_path, clock
):
    deployed(fake_platform, tmp_path, on_demand(min_running=1, soft=2))
    stop_all(fake_platform, clock)
    (running,) = [m for m in machine_rows(fake_platform) if m.state == "started"]
    name = backend_name(running.id, running.container_id or "")
    starter = Starter(fake_platform)
    fake_platform.edge.load[name] = 1
    assert starter.round() == []
    fake_platform.edge.load[name] = 2
    (woken,) = starter.round()
    assert woken != running.id
    assert wait_for(lambda: states(fake_platform)[woken] == "started")


def test_a_start_waits_for_the_change_that_holds_the_lease(fake_platform, tmp_path, clock):
    deployed(fake_platform, tmp_path, on_demand())
    stop_all(fake_platform, clock)
    holder = "auto-stop-test"
    leases.acquire(fake_platform.db, "web", holder, "auto stop")
    assert Starter(fake_platform).wake("web") is True
    time.sleep(0.3)
    assert started(fake_platform) == []  # still waiting for the lease
    leases.release(fake_platform.db, "web", holder)
    assert wait_for(lambda: len(started(fake_platform)) == 1)


def test_a_machine_that_fails_to_start_is_failed_and_not_tried_again(
    fake_platform, tmp_path, clock
):
    deployed(fake_platform, tmp_path, on_demand())
    stop_all(fake_platform, clock)
    fake_platform.health.passes = len(fake_platform.health.checked)  # every check fails now
    starter = Starter(fake_platform)
    for _ in range(2):  # each wake tries the next stopped machine
        assert starter.wake("web") is True
        assert wait_for(
            lambda: "did not start" in fake_platform.platform_log.lines("web")[-1].message
        )
        assert wait_for(lambda: not starter._starting)
    assert sorted(states(fake_platform).values()) == ["failed", "failed"]
    assert starter.wake("web") is False  # the held request gets the 503 page, not a minute's wait
