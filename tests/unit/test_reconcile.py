"""Reconciliation at start, on fakes."""

from __future__ import annotations

from sqlalchemy import select

from hangar.control.supervision.reconcile import reconcile
from hangar.ports import ContainerSpec
from hangar.store.models import Release
from tests.support.platform import deploy_now, http_config, machine_rows, setup_app


def test_vanished_container_is_recreated_and_routed(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    lost = machine_rows(fake_platform)[0]
    fake_platform.runtime.remove(lost.container_id)
    reconcile(fake_platform)
    restored = {m.id: m for m in machine_rows(fake_platform)}[lost.id]
    assert restored.container_id != lost.container_id
    assert restored.state == "started"
    assert fake_platform.runtime.inspect(restored.container_id) is not None
    assert fake_platform.edge.routes["web"][lost.id] == restored.host_port


def test_container_no_machine_owns_is_removed(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    stray = fake_platform.runtime.run(ContainerSpec("web", "stray", 1, "img"))
    reconcile(fake_platform)
    assert fake_platform.runtime.inspect(stray.container_id) is None
    assert len(fake_platform.runtime.containers) == 2


def test_release_left_running_is_marked_interrupted(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    with fake_platform.db.session() as session:
        session.scalar(select(Release)).status = "running"
    reconcile(fake_platform)
    with fake_platform.db.session() as session:
        assert session.scalar(select(Release)).status == "interrupted"
    assert [m.state for m in machine_rows(fake_platform)] == ["started", "started"]
