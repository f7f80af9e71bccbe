from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from hangar.api.deps import current_user, deployer, platform
from hangar.api.schemas import DeployCreate, DeployOut, RollbackCreate, UploadOut
from hangar.api.streams import ndjson
from hangar.appconfig import parse
from hangar.builder.archive import require_dockerfile
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.deploy.rollback import start_rollback
from hangar.control.platform import Platform
from hangar.control.uploads import claim_upload, unpack_upload
from hangar.errors import InvalidInput, NotFound
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps/{name}", tags=["deploys"])
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@router.post("/uploads", response_model=UploadOut, status_code=201)
async def upload(
    name: str, request: Request, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> UploadOut:
    """The project folder as a gzip tar in the body; unpacked safely on the server.

    Async only to read the body as it streams in; the store and the unpacking
    block, so they run in the threadpool and every other request goes on.
    """
    p.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    archive = p.settings.uploads_dir / f"{uuid.uuid4().hex}.tar.gz"
    size = await _receive(request, archive)
    upload_id, _ = await run_in_threadpool(unpack_upload, p.db, p.settings, user, name, archive)
    return UploadOut(upload_id=upload_id, bytes=size)


@router.post("/deploys", response_model=DeployOut, status_code=201)
def deploy(
    name: str,
    body: DeployCreate,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
    d: Deployer = Depends(deployer),
) -> DeployOut:
    folder = (
        None
        if body.upload_id is None
        else claim_upload(p.db, p.settings, user, name, body.upload_id)
    )
    try:
        return _start_deploy(name, body, folder, user, p, d)
    except BaseException:
        if folder is not None:  # a refused deploy leaves no upload behind
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _start_deploy(
    name: str, body: DeployCreate, folder: Path | None, user: User, p: Platform, d: Deployer
) -> DeployOut:
    config = parse(body.config).config
    if config.app != name:
        raise InvalidInput(
            f"fly.toml names app {config.app!r}, but the deploy is for {name!r}",
            hint="fix `app` in fly.toml or pass -a with the right app",
        )
    request = DeployRequest(
        app=name,
        user_email=user.email,
        config=config,
        context_dir=folder,
        image=body.image,
        strategy=body.strategy,
        wait_timeout_s=body.wait_timeout,
        rollback=body.rollback,
        wait_for_lock=body.wait_for_lock,
        smoke_checks=body.smoke_checks,
    )
    if request.context_dir is None and request.image is None:
        raise InvalidInput("nothing to deploy", hint="send an upload_id or an image")
    if request.context_dir is not None:
        require_dockerfile(request.context_dir, config.build.dockerfile)
    deployment = d.start(request)
    return DeployOut(id=deployment.id, app=name)


@router.get("/deploys/{deployment_id}/events")
def events(
    name: str,
    deployment_id: str,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
    d: Deployer = Depends(deployer),
) -> StreamingResponse:
    deployment = d.get(deployment_id)
    if deployment.app != name:
        raise NotFound(f"deployment {deployment_id} not found in app {name}")
    return ndjson(deployment.events.follow())


async def _receive(request: Request, archive: Path) -> int:
    """Write the body to `archive`; nothing is left of it if it is too large or cut off."""
    size = 0
    try:
        with archive.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise InvalidInput(
                        f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MiB",
                        hint="add large files that the build does not need to .dockerignore",
                    )
                out.write(chunk)
    except BaseException:
        archive.unlink(missing_ok=True)
        raise
    return size


@router.post("/rollback", response_model=DeployOut, status_code=201)
def rollback(
    name: str,
    body: RollbackCreate,
    user: User = Depends(current_user),
    d: Deployer = Depends(deployer),
) -> DeployOut:
    deployment = start_rollback(d, user, name, body.version, body.strategy, body.wait_for_lock)
    return DeployOut(id=deployment.id, app=name)
