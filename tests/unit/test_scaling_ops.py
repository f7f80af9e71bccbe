"""scale count, apps restart, machines clone and scale vm on fakes for Docker and HAProxy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hangar.control import leases
from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.deploy.engine import Deployer
from hangar.control.deploy.vm_change import vm_change_request
from hangar.control.machines.specs import vm_resources
from hangar.control.operations.clone import clone_machine, start_clone
from hangar.control.operations.restart import restart_app, start_app_restart
from hangar.control.operations.runner import outcome, run_operation
from hangar.control.operations.scale import scale_count, scale_show, start_scale_count
from hangar.errors import Conflict, Forbidden, InvalidInput, NotFound
from hangar.store.models import Release
from tests.support.platform import (
    deploy_now,
    http_config,
    machine_rows,
    release_states,
    setup_app,
    user_named,
)


def _deployed(platform, tmp_path, **deploy):
    setup_app(platform)
    deploy_now(platform, tmp_path, http_config("web", **deploy))
    platform.edge.journal.clear()
    platform.runtime.journal.clear()
    return [m.id for m in machine_rows(platform)]


def _run(platform, kind, work):
    return outcome(run_operation(platform, "web", kind, work))


def test_scaling_up_routes_a_new_machine_only_once_it_is_healthy(fake_platform, tmp_path):
    before = _deployed(fake_platform, tmp_path)
    checked = len(fake_platform.health.checked)
    done = _run(fake_platform, "scale", lambda ops: scale_count(ops, "web", 3))
    assert done.wire() == {"type": "done", "message": "web now has 3 machines"}
    machines = machine_rows(fake_platform)
    added = machines[-1]
    assert [m.id for m in machines[:2]] == before
    assert (added.state, added.release_version, added.checks) == ("started", 1, "passing")
    assert fake_platform.health.checked[checked:] == [added.host_port]
    assert fake_platform.edge.journal == [f"add {added.id}"]
    assert set(fake_platform.edge.routes["web"]) == {m.id for m in machines}


def test_scaling_down_drains_then_destroys_the_newest(fake_platform, tmp_path):
    first, second = _deployed(fake_platform, tmp_path)
    _run(fake_platform, "scale", lambda ops: scale_count(ops, "web", 1))
    assert [m.id for m in machine_rows(fake_platform)] == [first]
    assert fake_platform.edge.journal == [f"drain {second}", f"remove {second}"]
    assert fake_platform.runtime.journal == [f"stop {second}"]
    assert list(fake_platform.edge.routes["web"]) == [first]
    assert len(fake_platform.runtime.containers) == 1


def test_a_new_machine_failing_its_checks_is_destroyed_and_the_rest_untouched(
    fake_platform, tmp_path
):
    before = _deployed(fake_platform, tmp_path)
    fake_platform.health.passes = len(fake_platform.health.checked)  # every next check fails
    error = _run(fake_platform, "scale", lambda ops: scale_count(ops, "web", 3))
    assert error.type == "error" and "was destroyed" in error.message
    assert [m.id for m in machine_rows(fake_platform)] == before
    assert set(fake_platform.edge.routes["web"]) == set(before)
    assert len(fake_platform.runtime.containers) == 2


def test_scale_refuses_while_a_deploy_holds_the_lease(fake_platform, tmp_path):
    before = _deployed(fake_platform, tmp_path)
    leases.acquire(fake_platform.db, "web", "d1", "deployment d1")
    with pytest.raises(Conflict, match="deployment d1 of web is still running") as caught:
        start_scale_count(fake_platform, user_named(fake_platform), "web", 3)
    assert "scale again" in caught.value.hint
    assert [m.id for m in machine_rows(fake_platform)] == before


def test_bad_counts_and_apps_never_deployed_are_refused(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    user = user_named(fake_platform)
    with pytest.raises(InvalidInput, match="cannot be negative"):
        start_scale_count(fake_platform, user, "web", -1)
    with fake_platform.db.session() as session:
        create_app(session, user, "fresh")
    with pytest.raises(InvalidInput, match="nothing to scale") as caught:
        start_scale_count(fake_platform, user, "fresh", 2)
    assert "deploy it first" in caught.value.hint
    assert scale_show(fake_platform.db, user, "fresh").release is None
    assert len(machine_rows(fake_platform)) == 2


def test_another_users_app_cannot_be_scaled(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    with fake_platform.db.session() as session:
        signup(session, "other@example.com", "another-password")
    with pytest.raises(Forbidden):
        start_scale_count(fake_platform, user_named(fake_platform, "other@example.com"), "web", 3)
    assert len(machine_rows(fake_platform)) == 2


def test_scale_show_counts_machines_and_reads_the_current_release(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    view = scale_show(fake_platform.db, user_named(fake_platform), "web")
    assert (view.count, view.regions, view.release) == (2, {"local": 2}, 1)
    assert view.vm.memory_mb is None and view.restart.policy == "on-failure"


def test_scale_memory_is_a_new_release_with_the_limit(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    request = vm_change_request(fake_platform, user_named(fake_platform), "web", memory=512)
    deployment = Deployer(fake_platform).run_sync(request)
    assert deployment.status == "complete"
    assert release_states(fake_platform) == [(1, "complete"), (2, "complete")]
    with fake_platform.db.session() as session:
        release = session.scalar(select(Release).where(Release.version == 2))
        assert release.description == "Scale VM"
        config = http_config("web").model_validate(release.config)
    assert vm_resources(config).memory_mb == 512
    assert {m.release_version for m in machine_rows(fake_platform)} == {2}


def test_a_vm_change_of_an_app_never_deployed_is_refused(fake_platform):
    setup_app(fake_platform)
    with pytest.raises(InvalidInput, match="not been deployed"):
        vm_change_request(fake_platform, user_named(fake_platform), "web", size="shared-cpu-2x")


def test_apps_restart_replaces_each_machine_in_turn_on_its_release(fake_platform, tmp_path):
    first, second = _deployed(fake_platform, tmp_path)
    containers = {m.id: m.container_id for m in machine_rows(fake_platform)}
    done = _run(fake_platform, "restart", lambda ops: restart_app(ops, "web"))
    assert done.message == "Restarted 2 machines of web"
    assert fake_platform.edge.journal == [
        f"drain {first}",
        f"remove {first}",
        f"add {first}",
        f"drain {second}",
        f"remove {second}",
        f"add {second}",
    ]
    machines = machine_rows(fake_platform)
    assert all(m.container_id != containers[m.id] for m in machines)
    assert {(m.state, m.release_version) for m in machines} == {("started", 1)}
    assert release_states(fake_platform) == [(1, "complete")]


def test_apps_restart_holds_the_lease(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    leases.acquire(fake_platform.db, "web", "s1", "scale")
    with pytest.raises(Conflict, match="scale of web"):
        start_app_restart(fake_platform, user_named(fake_platform), "web")


def test_clone_adds_a_machine_like_the_source(fake_platform, tmp_path):
    source, _ = _deployed(fake_platform, tmp_path)
    done = _run(fake_platform, "clone", lambda ops: clone_machine(ops, "web", source))
    clone = machine_rows(fake_platform)[-1]
    assert done.message == f"Machine {clone.id} cloned from {source} (v1)"
    assert (clone.state, clone.release_version, clone.region) == ("started", 1, "local")
    assert clone.id in fake_platform.edge.routes["web"]


def test_cloning_an_unknown_machine_is_refused(fake_platform, tmp_path):
    _deployed(fake_platform, tmp_path)
    with pytest.raises(NotFound, match="machine nope not found") as caught:
        start_clone(fake_platform, user_named(fake_platform), "web", "nope")
    assert "machines list" in caught.value.hint
    assert len(machine_rows(fake_platform)) == 2
