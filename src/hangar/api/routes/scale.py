"""Scaling: machine count and VM size, clones, rolling restarts.

Count, clone and restart answer with the operation's events as NDJSON (the
request is checked first: a bad input or a running deploy is an error
response, not a stream); a VM change starts a deploy, followed like any other.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from hangar.api.deps import current_user, deployer, platform
from hangar.api.scale_schemas import (
    RestartPolicyOut,
    ScaleCount,
    ScaleOut,
    ScalePlanOut,
    ScaleVm,
    VmOut,
)
from hangar.api.schemas import DeployOut
from hangar.api.streams import ndjson
from hangar.control.deploy.engine import Deployer
from hangar.control.deploy.vm_change import vm_change_request
from hangar.control.operations.clone import start_clone
from hangar.control.operations.restart import start_app_restart
from hangar.control.operations.scale import plan_scale, scale_show, start_scale_count
from hangar.control.platform import Platform
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps/{name}", tags=["scale"])


@router.get("/scale", response_model=ScaleOut)
def show(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> ScaleOut:
    view = scale_show(p.db, user, name)
    return ScaleOut(
        app=view.app,
        count=view.count,
        regions=view.regions,
        release=view.release,
        vm=VmOut(size=view.vm.size, cpus=view.vm.cpus, memory_mb=view.vm.memory_mb),
        restart=RestartPolicyOut(policy=view.restart.policy, retries=view.restart.retries),
    )


@router.post("/scale/plan", response_model=ScalePlanOut)
def plan(
    name: str, body: ScaleCount, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> ScalePlanOut:
    """What `scale/count` would do now, without doing it."""
    planned = plan_scale(p.db, user, name, body.count)
    return ScalePlanOut(
        app=name,
        current=planned.current,
        desired=planned.desired,
        add=planned.add,
        remove=list(planned.remove),
        summary=planned.describe(),
    )


@router.post("/scale/count")
def count(
    name: str, body: ScaleCount, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> StreamingResponse:
    return ndjson(start_scale_count(p, user, name, body.count).follow())


@router.post("/scale/vm", response_model=DeployOut, status_code=201)
def vm(
    name: str,
    body: ScaleVm,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
    d: Deployer = Depends(deployer),
) -> DeployOut:
    """Roll out a new [[vm]] as a release; follow it at /deploys/{id}/events."""
    request = vm_change_request(p, user, name, body.size, body.memory)
    return DeployOut(id=d.start(request).id, app=name)


@router.post("/restart")
def restart(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> StreamingResponse:
    return ndjson(start_app_restart(p, user, name).follow())


@router.post("/machines/{machine_id}/clone")
def clone(
    name: str, machine_id: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> StreamingResponse:
    return ndjson(start_clone(p, user, name, machine_id).follow())
