"""The certificates HAProxy serves: one PEM file per hostname and the crt-list naming them.

A hostname's file is issued when first needed and again once its renewal is
due; files of hostnames no longer served are removed. The first line of the
crt-list, without an SNI filter, is the certificate for any other name.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from cryptography import x509

from hangar.edge.files import write_atomic
from hangar.edge.local_ca import IssuedCertificate
from hangar.ports import CertificateState
from hangar.telemetry import CERTIFICATES


class CertificateIssuer(Protocol):
    name: str  # as users are told: "local CA", or the ACME directory

    def issue(self, hostnames: tuple[str, ...]) -> IssuedCertificate: ...


class CertificateFiles:
    def __init__(self, folder: Path, crt_list: Path, issuer: CertificateIssuer, fallback: str):
        self.folder = folder
        self.crt_list = crt_list
        self.issuer = issuer
        self.fallback = fallback  # the name of the certificate for unknown names
        self._validity: dict[str, tuple[datetime.datetime, datetime.datetime]] = {}

    def write(self, hostnames: Iterable[str], now: datetime.datetime | None = None) -> bool:
        """Have a current certificate for each of `hostnames`; True if a file changed."""
        now = now or datetime.datetime.now(datetime.UTC)
        wanted = sorted(set(hostnames) - {self.fallback})
        changed = False
        for hostname in (self.fallback, *wanted):
            changed |= self._ensure(hostname, now)
        lines = [f"{self.path(self.fallback)}\n"]
        lines += [f"{self.path(h)} {h}\n" for h in wanted]
        if not self.crt_list.exists() or self.crt_list.read_text() != "".join(lines):
            write_atomic(self.crt_list, "".join(lines))
        self._remove_others({self.fallback, *wanted})
        return changed

    def state(self, hostname: str) -> CertificateState | None:
        """The certificate served for `hostname`, if there is one of its own."""
        validity = self._validity.get(hostname) or self._read_validity(hostname)
        return CertificateState(self.issuer.name, validity[1]) if validity else None

    def path(self, hostname: str) -> Path:
        return self.folder / f"{hostname}.pem"

    def _ensure(self, hostname: str, now: datetime.datetime) -> bool:
        validity = self._validity.get(hostname) or self._read_validity(hostname)
        if validity is not None:
            not_before, not_after = validity
            if now < not_before + (not_after - not_before) * 2 / 3:
                return False
        issued = self.issuer.issue((hostname,))
        write_atomic(self.path(hostname), issued.bundle)  # 0600, like every temp file
        CERTIFICATES.labels(self.issuer.name, "renewal" if validity else "first").inc()
        self._validity[hostname] = (issued.not_before, issued.not_after)
        return True

    def _read_validity(self, hostname: str) -> tuple[datetime.datetime, datetime.datetime] | None:
        try:
            cert = x509.load_pem_x509_certificate(self.path(hostname).read_bytes())
        except (OSError, ValueError):
            return None
        validity = (cert.not_valid_before_utc, cert.not_valid_after_utc)
        self._validity[hostname] = validity
        return validity

    def _remove_others(self, kept: set[str]) -> None:
        if not self.folder.exists():
            return
        for pem in self.folder.glob("*.pem"):
            if pem.stem not in kept:
                pem.unlink(missing_ok=True)
                self._validity.pop(pem.stem, None)
