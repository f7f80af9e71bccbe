"""What the edge's access log tells the control plane, one request at a time: the
traffic plots (control/metrics.py), the app's edge log (`hangar logs --edge`) and
when each machine last served (control/machine_traffic.py)."""

from __future__ import annotations

from hangar.control.platform import Platform
from hangar.ports import EdgeRequest

NO_MACHINE = "edge"  # the tag of a request no machine took (a 503, a redirect)


def record_request(platform: Platform, request: EdgeRequest) -> None:
    platform.metrics.record_request(request.app, request.status, request.duration_ms)
    machine = machine_of(request.machine)
    platform.edge_log.write(request.app, machine, describe(request))
    if machine != NO_MACHINE:
        platform.traffic.saw(machine)  # not idle (control/supervision/auto_stop.py)


def machine_of(server: str) -> str:
    """The machine id in the edge's name for one of its containers (`<id>-<container>`)."""
    if server.startswith("<"):  # <NOSRV>
        return NO_MACHINE
    return server.rsplit("-", 1)[0]


def describe(request: EdgeRequest) -> str:
    return (
        f"{request.method} {request.path} {request.status} {request.bytes_sent} B"
        f" {request.duration_ms} ms request_id={request.request_id}"
    )
