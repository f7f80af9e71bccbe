"""The edge's access log in the control plane (plots, `hangar logs --edge`) and the
control plane's own metrics."""

from __future__ import annotations

import threading

from prometheus_client import generate_latest

from hangar.control.edge_traffic import record_request
from hangar.control.logs import app_logs, follow_logs
from hangar.control.platform_metrics import MachinesByState
from hangar.ports import EdgeRequest
from hangar.telemetry import DEPLOYS, REGISTRY
from tests.support.platform import deploy_now, http_config, machine_rows, setup_app, user_named


def test_each_request_is_a_line_of_the_apps_edge_log_tagged_with_its_machine(
    fake_platform, tmp_path
):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    machine = machine_rows(fake_platform)[0].id
    served = EdgeRequest("web", f"{machine}-0123456789ab", 200, 7, 512, "GET", "r-123", "/x?y=1")
    record_request(fake_platform, served)
    record_request(fake_platform, EdgeRequest("web", "<NOSRV>", 503, 10000, 0, "GET", "r-9", "/"))
    user = user_named(fake_platform)
    edge_lines = [
        line for line in app_logs(fake_platform, user, "web", edge=True) if "[edge]" in line.message
    ]
    assert [(line.machine_id, line.message) for line in edge_lines] == [
        (machine, "[edge] GET /x?y=1 200 512 B 7 ms request_id=r-123"),
        ("edge", "[edge] GET / 503 0 B 10000 ms request_id=r-9"),
    ]
    assert not [line for line in app_logs(fake_platform, user, "web") if "[edge]" in line.message]
    only_machine = app_logs(fake_platform, user, "web", machine, edge=True)
    assert [line.message for line in only_machine if "[edge]" in line.message] == [
        edge_lines[0].message
    ]
    assert fake_platform.metrics.traffic("web") is not None


def test_following_with_edge_gets_new_requests_live(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    machine = machine_rows(fake_platform)[0].id
    live = follow_logs(fake_platform, user_named(fake_platform), "web", tail=0, edge=True)
    seen: list[str] = []

    def read() -> None:
        for line in live:
            if line is not None and "[edge]" in line.message:
                seen.append(line.message)
                return

    reader = threading.Thread(target=read)
    reader.start()
    request = EdgeRequest("web", f"{machine}-0123456789ab", 404, 3, 9, "POST", "r-1", "/new")
    record_request(fake_platform, request)
    reader.join(10)
    live.close()
    assert seen == ["[edge] POST /new 404 9 B 3 ms request_id=r-1"]


def test_the_metrics_count_machines_by_state_and_deploys_by_outcome(fake_platform, tmp_path):
    before = DEPLOYS.labels("complete")._value.get()
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    assert DEPLOYS.labels("complete")._value.get() == before + 1
    (family,) = MachinesByState(fake_platform.db).collect()
    assert [(s.labels, s.value) for s in family.samples] == [
        ({"app": "web", "state": "started"}, 2.0)
    ]
    assert b"hangar_deploy_duration_seconds_bucket" in generate_latest(REGISTRY)
