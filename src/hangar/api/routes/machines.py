from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from hangar.api.deps import current_user, platform
from hangar.api.schemas import MachineOut
from hangar.api.streams import ndjson
from hangar.api.views import machine_out
from hangar.control.apps import app_machines, find_app
from hangar.control.logs import app_logs, follow_logs
from hangar.control.operations import machine_actions
from hangar.control.platform import Platform
from hangar.ports import LogLine
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps/{name}", tags=["machines"])


@router.get("/machines", response_model=list[MachineOut])
def list_machines(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> list[MachineOut]:
    with p.db.session() as session:
        return [machine_out(m) for m in app_machines(session, find_app(session, name, user))]


@router.post("/machines/{machine_id}/stop", status_code=204)
def stop(
    name: str, machine_id: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> None:
    machine_actions.stop_machine(p, user, name, machine_id)


@router.post("/machines/{machine_id}/start", status_code=204)
def start(
    name: str, machine_id: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> None:
    machine_actions.start_machine(p, user, name, machine_id)


@router.delete("/machines/{machine_id}", status_code=204)
def destroy(
    name: str, machine_id: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> None:
    machine_actions.destroy_machine(p, user, name, machine_id)


@router.get("/logs")
def logs(
    name: str,
    machine: str | None = None,
    follow: bool = False,
    tail: int = 100,
    edge: bool = False,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
) -> StreamingResponse:
    """The app's log lines; `edge` adds the edge's line per request."""
    if not follow:
        lines = app_logs(p, user, name, machine, tail, edge)
        return ndjson(_line_json(line) for line in lines)
    live = follow_logs(p, user, name, machine, tail, edge)
    return ndjson((_line_json(line) if line else None for line in live), on_end=live.close)


def _line_json(line: LogLine) -> dict[str, str]:
    return {"machine": line.machine_id, "timestamp": line.timestamp, "message": line.message}
