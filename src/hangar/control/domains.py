"""An app's own domains (fly's `certs`): add, list, show, check, remove.

A domain is routed to one app only; once added, the edge answers it and serves a
certificate for it (from ACME with --acme-directory, else signed by the server's
own CA). `show` and `check` also take the app's own APP.<domain>.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.control.acme_certificates import Issuance
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
    certificate: CertificateState | None  # what the edge serves for it
    issuance: Issuance | None = None  # with ACME: how obtaining it goes

    @property
    def status(self) -> str:
        if self.issuance is not None and self.issuance.state == "failed":
            return "failed" if self.certificate is None else "issued (renewal failed)"
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
        return [_view(platform, app, row.hostname, row.created_at) for row in rows]


def show_domain(platform: Platform, user: User, app_name: str, name: str) -> DomainView:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        hostname = name.strip().lower()
        if hostname == platform.settings.hostname(app.name):
            return _view(platform, app, hostname, app.created_at)
        row = _domain_of(session, app, hostname)
        return _view(platform, app, row.hostname, row.created_at)


def check_domain(platform: Platform, user: User, app_name: str, name: str) -> DomainView:
    """Obtain the certificate now if it is missing or due (ACME: one attempt now)."""
    hostname = show_domain(platform, user, app_name, name).hostname  # yours, and added
    if platform.acme is not None and _wants_certificate(platform, hostname):
        platform.acme.obtain(hostname)
    else:
        platform.edge.refresh_certificates()
    return show_domain(platform, user, app_name, name)


def remove_domain(platform: Platform, user: User, app_name: str, name: str) -> None:
    with platform.db.session() as session:
        app = find_app(session, app_name, user)
        row = _domain_of(session, app, name)
        session.delete(row)
        if platform.acme is not None:
            platform.acme.forget(session, row.hostname)
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


def _view(platform: Platform, app: App, hostname: str, added: datetime) -> DomainView:
    target = platform.settings.hostname(app.name)
    if hostname == target:
        dns = f"A/AAAA {hostname} -> this server's public address (or *.{platform.settings.domain})"
    else:
        dns = f"CNAME {hostname} -> {target} (or A/AAAA records to this server's public address)"
    issuance = platform.acme.status(hostname) if platform.acme is not None else None
    certificate = platform.edge.certificate(hostname)
    return DomainView(hostname, app.name, added, dns, certificate, issuance)


def _wants_certificate(platform: Platform, hostname: str) -> bool:
    """No certificate served yet, or one due for renewal."""
    issuance = platform.acme.status(hostname) if platform.acme is not None else None
    if issuance is None or issuance.renew_after is None:
        return True
    return datetime.now(issuance.renew_after.tzinfo) >= issuance.renew_after
