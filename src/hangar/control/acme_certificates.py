"""The edge's certificates from ACME: kept in the store, obtained in the background.

The edge asks `issue` for a hostname whenever it writes its files. A current
certificate from the store is given at once. A missing one, or one due for
renewal, is queued and the edge keeps serving what it has (its fallback for a new
name) until `run_due` has obtained a new one and told the edge to refresh, which
loads it without a reload. A failed attempt is kept with its reason (`hangar
certs show`) and retried after a pause that doubles from a minute to an hour;
`hangar certs check` tries at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hangar.domain.clock import SYSTEM_CLOCK, Clock, as_utc
from hangar.errors import CertificateFailed, EdgeFailure
from hangar.ports import AcmeAuthority, Edge, IssuedCertificate
from hangar.store.database import Database
from hangar.store.models import AcmeAccount, App, Certificate, Domain
from hangar.store.secret_box import SecretBox

log = logging.getLogger(__name__)

RETRY_FIRST_S = 60.0
RETRY_MAX_S = 3600.0


@dataclass(frozen=True)
class Issuance:
    """How getting a hostname's certificate from ACME goes, as `certs show` says."""

    state: str  # "issued", "pending" or "failed"
    last_error: str | None = None
    attempted_at: datetime | None = None
    retry_at: datetime | None = None
    renew_after: datetime | None = None


class AcmeCertificates:
    """A `CertificateIssuer` for the edge, backed by the store and an ACME directory."""

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        authority: AcmeAuthority,
        domain: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.name = f"ACME ({authority.directory})"
        self.db, self.box, self.authority = db, box, authority
        self.domain = domain
        self.clock = clock
        self._edge: Edge | None = None
        self._wanted: set[str] = set()
        self._lock = threading.Lock()
        self._orders = threading.Lock()  # one order per hostname at a time
        self._account_ready = False

    def attach(self, edge: Edge) -> None:
        """The edge that answers the challenges and serves what is obtained."""
        self._edge = edge

    def issue(self, hostnames: tuple[str, ...]) -> IssuedCertificate | None:
        hostname = hostnames[0]
        current = self._current(hostname)
        now = self.clock.now()
        if current is not None and not current.renewal_due(now):
            return current
        with self._lock:
            self._wanted.add(hostname)
        return current if current is not None and now < current.not_after else None

    def run_due(self) -> None:
        """Try each wanted hostname whose pause after a failure is over."""
        with self._lock:
            wanted = sorted(self._wanted)
        for hostname in wanted:
            if self._retry_at(hostname) <= self.clock.now():
                self.obtain(hostname)

    def obtain(self, hostname: str) -> Issuance:
        """One attempt now (`certs check`); the edge loads a certificate obtained."""
        with self._orders:
            app_id = self._owner(hostname)
            if app_id is None:  # no longer served
                with self._lock:
                    self._wanted.discard(hostname)
                return Issuance("pending")
            self._ensure_account()
            assert self._edge is not None, "attach the edge first"
            try:
                issued = self.authority.obtain(hostname, self._edge)
            except (CertificateFailed, EdgeFailure) as exc:  # EdgeFailure: no challenge served
                log.warning("no certificate for %s from %s: %s", hostname, self.name, exc)
                self._record_failure(app_id, hostname, exc.message)
                return self.status(hostname)
            self._record(app_id, issued)
        self._edge.refresh_certificates()
        return self.status(hostname)

    def status(self, hostname: str) -> Issuance:
        with self.db.session() as session:
            row = _row(session, hostname)
            if row is None:
                return Issuance("pending")
            attempted = as_utc(row.attempted_at) if row.attempted_at else None
            retry_at = _retry_at(row) if row.failures else None
            renew = _renew_after(row)
            if row.failures:
                return Issuance("failed", row.last_error, attempted, retry_at, renew)
            return Issuance("issued" if row.chain_pem else "pending", None, attempted, None, renew)

    def forget(self, session: Session, hostname: str) -> None:
        """The hostname is no longer the app's: its certificate goes (in `session`)."""
        session.execute(delete(Certificate).where(Certificate.hostname == hostname))
        with self._lock:
            self._wanted.discard(hostname)

    def _current(self, hostname: str) -> IssuedCertificate | None:
        """The stored certificate (read each time: the edge asks only when it has none
        or its own is due, and a row goes with its app or domain)."""
        with self.db.session() as session:
            row = _row(session, hostname)
            return self._decrypted(row) if row is not None else None

    def _retry_at(self, hostname: str) -> datetime:
        with self.db.session() as session:
            row = _row(session, hostname)
            return _retry_at(row) if row is not None and row.failures else self.clock.now()

    def _owner(self, hostname: str) -> int | None:
        """The id of the app that serves `hostname`, if one does."""
        with self.db.session() as session:
            suffix = f".{self.domain}"
            if hostname.endswith(suffix):
                name = hostname.removesuffix(suffix)
                return session.scalar(select(App.id).where(App.name == name))
            return session.scalar(select(Domain.app_id).where(Domain.hostname == hostname))

    def _ensure_account(self) -> None:
        if self._account_ready:
            return
        directory = self.authority.directory
        with self.db.session() as session:
            account = session.get(AcmeAccount, directory)
            stored = self.box.decrypt(account.key_ciphertext).encode() if account else None
            key_pem = self.authority.use_account(stored)
            if account is None:
                session.add(AcmeAccount(directory=directory, key_ciphertext=self._seal(key_pem)))
        self._account_ready = True

    def _record(self, app_id: int, issued: IssuedCertificate) -> None:
        hostname = issued.hostnames[0]
        with self.db.session() as session:
            row = _row(session, hostname) or _new_row(session, app_id, hostname)
            row.app_id, row.issuer = app_id, issued.issuer
            row.chain_pem, row.key_ciphertext = (
                issued.chain_pem.decode(),
                self._seal(issued.key_pem),
            )
            row.not_before, row.not_after = issued.not_before, issued.not_after
            row.attempted_at, row.failures, row.last_error = self.clock.now(), 0, None
        with self._lock:
            self._wanted.discard(hostname)

    def _record_failure(self, app_id: int, hostname: str, reason: str) -> None:
        with self.db.session() as session:
            row = _row(session, hostname) or _new_row(session, app_id, hostname)
            row.attempted_at, row.last_error = self.clock.now(), reason
            row.failures = (row.failures or 0) + 1

    def _seal(self, pem: bytes) -> str:
        return self.box.encrypt(pem.decode())

    def _decrypted(self, row: Certificate) -> IssuedCertificate | None:
        if not (row.chain_pem and row.key_ciphertext and row.not_before and row.not_after):
            return None
        return IssuedCertificate(
            (row.hostname,),
            row.chain_pem.encode(),
            self.box.decrypt(row.key_ciphertext).encode(),
            as_utc(row.not_before),
            as_utc(row.not_after),
            row.issuer or self.name,
        )


def _row(session: Session, hostname: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.hostname == hostname))


def _new_row(session: Session, app_id: int, hostname: str) -> Certificate:
    row = Certificate(app_id=app_id, hostname=hostname, failures=0)
    session.add(row)
    return row


def _retry_at(row: Certificate) -> datetime:
    pause = min(RETRY_FIRST_S * 2 ** max(row.failures - 1, 0), RETRY_MAX_S)
    attempted = as_utc(row.attempted_at) if row.attempted_at else datetime.min.replace(tzinfo=UTC)
    return attempted + timedelta(seconds=pause)


def _renew_after(row: Certificate) -> datetime | None:
    if row.not_before is None or row.not_after is None:
        return None
    start, end = as_utc(row.not_before), as_utc(row.not_after)
    return start + (end - start) * 2 / 3
