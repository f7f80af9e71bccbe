"""Pure decisions: the plan of `scale count`, VM sizes and memory, the restart policy."""

from __future__ import annotations

import pytest

from hangar.appconfig import parse
from hangar.appconfig.load import ConfigInvalid
from hangar.control.deploy.vm_change import vm_change, with_vm
from hangar.control.machines.specs import container_spec, restart_policy, vm_resources
from hangar.domain.restart_policy import (
    ExitStatus,
    RestartPolicy,
    Verdict,
    decide,
    restart_delay,
)
from hangar.domain.scaling import MAX_MACHINES, MachineSlot, plan_count
from hangar.domain.vm_sizes import parse_memory_mb, resources
from hangar.errors import InvalidInput
from hangar.ports import ContainerSpec
from hangar.runtime.create_args import resource_limits

# -- scale count ---------------------------------------------------------------


def _slots(*states: str) -> list[MachineSlot]:
    return [MachineSlot(f"m{i}", state) for i, state in enumerate(states, start=1)]


def test_scaling_up_adds_the_difference():
    plan = plan_count(_slots("started", "started"), 3)
    assert (plan.current, plan.desired, plan.add, plan.remove) == (2, 3, 1, ())
    assert plan.describe() == "+1 machine"
    assert plan_count([], 2).describe() == "+2 machines"


def test_scaling_down_removes_idle_machines_first_then_the_newest():
    plan = plan_count(_slots("started", "started", "failed", "started", "stopped"), 2)
    assert plan.remove == ("m3", "m5", "m4")
    assert plan.add == 0
    assert plan.describe() == "-3 machines: m3, m5, m4"


def test_the_same_count_changes_nothing():
    plan = plan_count(_slots("started", "stopped"), 2)
    assert not plan.changes and plan.describe() == "no change"


@pytest.mark.parametrize(("count", "phrase"), [(-1, "cannot be negative"), (51, "more than")])
def test_a_count_out_of_range_is_refused(count, phrase):
    with pytest.raises(InvalidInput, match=phrase) as caught:
        plan_count(_slots("started"), count)
    assert caught.value.hint
    assert MAX_MACHINES == 50


def test_scaling_to_zero_removes_every_machine():
    assert plan_count(_slots("started", "started"), 0).remove == ("m2", "m1")


# -- VM sizes and memory -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "megabytes"),
    [(512, 512), ("512", 512), ("256mb", 256), ("1GB", 1024), (" 2gb ", 2048)],
)
def test_memory_amounts(value, megabytes):
    assert parse_memory_mb(value) == megabytes


@pytest.mark.parametrize("value", ["lots", "-5", "1.5gb", "", "8", 0, 10**7, True])
def test_bad_memory_amounts_are_refused_with_a_hint(value):
    with pytest.raises(InvalidInput) as caught:
        parse_memory_mb(value)
    assert caught.value.hint


def test_a_size_fills_in_cpus_and_memory_it_is_not_given():
    assert resources("shared-cpu-2x", None, None) == resources("shared-cpu-2x", 2, 512)
    assert resources("shared-cpu-4x", None, "2gb").memory_mb == 2048
    assert resources("shared-cpu-4x", None, None).cpus == 4
    assert resources("a100-40gb", None, None).memory_mb is None  # unknown preset: no limit
    assert resources(None, None, None).memory_mb is None


def test_an_app_without_vm_runs_without_limits():
    config = parse({"app": "web"}).config
    spec = container_spec(config, "m1", 1, "img", "local")
    assert (spec.cpus, spec.memory_mb) == (None, None)


def test_vm_section_becomes_docker_limits():
    config = parse({"app": "web", "vm": [{"size": "shared-cpu-2x", "memory_mb": 384}]}).config
    spec = container_spec(config, "m1", 1, "img", "local")
    assert (spec.cpus, spec.memory_mb) == (2.0, 384)
    assert resource_limits(spec)["mem_limit"] == "384m"


def test_cpus_beyond_the_host_are_capped_to_it(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    limits = resource_limits(ContainerSpec("web", "m1", 1, "img", cpus=4.0, memory_mb=1024))
    assert limits == {"mem_limit": "1024m", "nano_cpus": 2_000_000_000}


def test_fly_toml_with_a_bad_memory_names_the_key():
    with pytest.raises(ConfigInvalid, match=r"vm\.0\.memory: 'lots' is not an amount"):
        parse({"app": "web", "vm": [{"memory": "lots"}]})


def test_scale_vm_replaces_the_vm_and_scale_memory_keeps_the_size():
    config = parse({"app": "web", "vm": [{"size": "shared-cpu-2x", "cpus": 2}]}).config
    bigger = with_vm(config, vm_change("shared-cpu-4x", None))
    assert vm_resources(bigger) == resources("shared-cpu-4x", 4, 1024)
    more_memory = with_vm(config, vm_change(None, "768"))
    assert vm_resources(more_memory) == resources("shared-cpu-2x", 2, 768)
    first = with_vm(parse({"app": "web"}).config, vm_change(None, 16))
    assert vm_resources(first) == resources("shared-cpu-1x", 1, 16)


@pytest.mark.parametrize(
    ("size", "memory", "phrase"),
    [("huge", None, "unknown VM size"), (None, "x", "not an amount"), (None, None, "nothing")],
)
def test_bad_vm_changes_are_refused(size, memory, phrase):
    with pytest.raises(InvalidInput, match=phrase):
        vm_change(size, memory)


# -- restart policy ------------------------------------------------------------

CRASH, OOM, CLEAN, GONE = ExitStatus(1), ExitStatus(137, True), ExitStatus(0), ExitStatus(None)


def test_on_failure_restarts_a_crash_until_the_retries_run_out():
    policy = RestartPolicy("on-failure", retries=2)
    assert decide(policy, CRASH, restarts=0) is Verdict.RESTART
    assert decide(policy, OOM, restarts=1) is Verdict.RESTART
    assert decide(policy, CRASH, restarts=2) is Verdict.GIVE_UP
    assert decide(policy, GONE, restarts=0) is Verdict.RESTART


def test_on_failure_leaves_a_clean_exit_stopped():
    assert decide(RestartPolicy(), CLEAN, restarts=0) is Verdict.STOP


def test_always_restarts_whatever_the_exit_and_count():
    policy = RestartPolicy("always", retries=0)
    assert decide(policy, CLEAN, restarts=100) is Verdict.RESTART
    assert decide(policy, OOM, restarts=0) is Verdict.RESTART


def test_no_never_restarts():
    assert decide(RestartPolicy("no"), OOM, restarts=0) is Verdict.STOP


def test_exits_are_described_for_people():
    assert [s.describe() for s in (CRASH, OOM, CLEAN, GONE)] == [
        "exit 1",
        "oom killed",
        "exit 0",
        "container gone",
    ]


def test_the_delay_before_a_restart_grows_and_is_capped():
    assert [restart_delay(n) for n in (0, 1, 2, 3)] == [1.0, 2.0, 4.0, 8.0]
    assert restart_delay(10_000) == 30.0


def test_restart_section_follows_fly_spellings_and_defaults():
    assert restart_policy(parse({"app": "web"}).config) == RestartPolicy("on-failure", 10)
    config = parse({"app": "web", "restart": [{"policy": "never", "processes": ["app"]}]}).config
    assert restart_policy(config) == RestartPolicy("no", 10)
    with pytest.raises(ConfigInvalid, match=r"restart\.0\.retries"):
        parse({"app": "web", "restart": [{"policy": "always", "retries": -1}]})
