"""An app's own domains (fly's `certs`): add, list, show, check, remove.

A domain is routed to one app only; once added, the edge answers it and serves a
certificate for it (signed by the server's own CA when no ACME is configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.control.apps import find_app
from hangar.control.platform import Platform
from hangar.domain.hostnames import custom_domain
from hangar.errors import Conflict, NotFound
from hangar.ports import CertificateState
from hangar.store.models import App, Domain, User


@dataclass(frozen=True)
class DomainView:
    hostname: str
    app: str
    added: datetime
    dns: str  # the record to create
    certificate: CertificateState | None

    @property
    def status(self) -> str:
        return "issued" if self.certificate else "awaiting certificate"


def add_domain(platform: Platform, user: User, app_name: str, name: str) -> DomainView:
    hostname = custom_domain(name, platform.settings.domain)
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        held = session.scalar(select(Domain).where(Domain.hostname == hostname))
        if held is not None:
            raise _taken(hostname, held.app_id == app.id, app_name)
        session.add(Domain(app_id=app.id, hostname=hostname))
        session.flush()
        platform.edge.set_domains(app.name, app_domains(session, app))  # before the commit
    return show_domain(platform, user, app_name, hostname)


def list_domains(platform: Platform, user: User, app_name: str) -> list[DomainView]:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        rows = session.scalars(
            select(Domain).where(Domain.app_id == app.id).order_by(Domain.hostname)
        )
        return [_view(platform, app, row) for row in rows]


def show_domain(platform: Platform, user: User, app_name: str, name: str) -> DomainView:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        return _view(platform, app, _domain_of(session, app, name))


def check_domain(platform: Platform, user: User, app_name: str, name: str) -> DomainView:
    """Issue or renew the certificate now if it is missing or due, then show it."""
    show_domain(platform, user, app_name, name)  # yours, and added
    platform.edge.refresh_certificates()
    return show_domain(platform, user, app_name, name)


def remove_domain(platform: Platform, user: User, app_name: str, name: str) -> None:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        session.delete(_domain_of(session, app, name))
        session.flush()
        platform.edge.set_domains(app.name, app_domains(session, app))


def app_domains(session: Session, app: App) -> tuple[str, ...]:
    rows = session.scalars(select(Domain.hostname).where(Domain.app_id == app.id))
    return tuple(sorted(rows))


def _domain_of(session: Session, app: App, name: str) -> Domain:
    hostname = name.strip().lower()
    row = session.scalar(select(Domain).where(Domain.app_id == app.id, Domain.hostname == hostname))
    if row is None:
        raise NotFound(
            f"{hostname} is not a domain of app {app.name}",
            hint=f"list them with `hangar certs list -a {app.name}`",
        )
    return row


def _taken(hostname: str, ours: bool, app_name: str) -> Conflict:
    if ours:
        return Conflict(f"{hostname} is already a domain of app {app_name}")
    return Conflict(
        f"{hostname} is taken by another app",
        hint="a domain routes to one app only; remove it from the other app first",
    )


def _view(platform: Platform, app: App, row: Domain) -> DomainView:
    target = platform.settings.hostname(app.name)
    dns = f"CNAME {row.hostname} -> {target} (or A/AAAA records to this server's public address)"
    return DomainView(
        row.hostname, app.name, row.created_at, dns, platform.edge.certificate(row.hostname)
    )
