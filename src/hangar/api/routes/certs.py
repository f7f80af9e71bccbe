"""Certificates: the server's own CA, which signs the edge's certificates when
no ACME directory is configured (`hangar certs ca`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from hangar.api.deps import current_user, platform
from hangar.control.platform import Platform
from hangar.errors import NotFound
from hangar.store.models import User

router = APIRouter(prefix="/v1/certs", tags=["certs"])


class CaOut(BaseModel):
    path: str  # on the server's host
    pem: str
    subject: str


@router.get("/ca", response_model=CaOut)
def local_ca(user: User = Depends(current_user), p: Platform = Depends(platform)) -> CaOut:
    if p.ca is None:
        raise NotFound("this server serves plain HTTP only", hint="start it with --https-port")
    return CaOut(path=str(p.ca.cert_path), pem=p.ca.cert_path.read_text(), subject=p.ca.subject)
