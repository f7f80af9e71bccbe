"""An app's own domains and their certificates (fly's `certs add|list|show|check|remove`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from hangar.api.deps import current_user, platform
from hangar.control import domains
from hangar.control.domains import DomainView
from hangar.control.platform import Platform
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps/{name}/certs", tags=["certs"])
Hostname = Field(min_length=1, max_length=253)


class DomainAdd(BaseModel):
    hostname: str = Hostname


class CertificateOut(BaseModel):
    issuer: str
    not_after: datetime


class IssuanceOut(BaseModel):
    """With ACME: how getting the certificate goes."""

    state: str  # issued, pending, failed
    last_error: str | None
    attempted_at: datetime | None
    retry_at: datetime | None
    renew_after: datetime | None


class DomainOut(BaseModel):
    hostname: str
    app: str
    added: datetime
    status: str
    dns: str
    certificate: CertificateOut | None
    acme: IssuanceOut | None = None


@router.get("", response_model=list[DomainOut])
def list_all(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> list[DomainOut]:
    return [_out(view) for view in domains.list_domains(p, user, name)]


@router.post("", response_model=DomainOut, status_code=201)
def add(
    name: str, body: DomainAdd, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> DomainOut:
    return _out(domains.add_domain(p, user, name, body.hostname))


@router.get("/{hostname}", response_model=DomainOut)
def show(
    name: str, hostname: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> DomainOut:
    return _out(domains.show_domain(p, user, name, hostname))


@router.post("/{hostname}/check", response_model=DomainOut)
def check(
    name: str, hostname: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> DomainOut:
    return _out(domains.check_domain(p, user, name, hostname))


@router.delete("/{hostname}", status_code=204)
def remove(
    name: str, hostname: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> None:
    domains.remove_domain(p, user, name, hostname)


def _out(view: DomainView) -> DomainOut:
    cert = view.certificate
    return DomainOut(
        hostname=view.hostname,
        app=view.app,
        added=view.added,
        status=view.status,
        dns=view.dns,
        certificate=CertificateOut(issuer=cert.issuer, not_after=cert.not_after) if cert else None,
        acme=IssuanceOut(**asdict(view.issuance)) if view.issuance else None,
    )
