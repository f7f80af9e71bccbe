"""The certificates HAProxy serves: one PEM file per hostname and the crt-list naming them.

A hostname's file is written once its issuer has a certificate for it, and again
once a renewal is due and the issuer has a newer one; files of hostnames no
longer served are removed. The first line of the crt-list, without an SNI
filter, is the fallback certificate: served for any other name, and for a
hostname whose own certificate is still to come (ACME's take a while).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from hangar.edge.files import write_atomic
from hangar.ports import CertificateIssuer, CertificateState
from hangar.telemetry import CERTIFICATES

_Validity = tuple[datetime.datetime, datetime.datetime]


@dataclass(frozen=True)
class _Served:
    validity: _Validity
    issuer: str  # the common name of who signed it


@dataclass
class CertificateChanges:
    """The hostnames whose file `CertificateFiles.write` wrote: a running HAProxy
    must be told (new ones are added to its crt-list, renewed ones replaced)."""

    added: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.renewed)


class CertificateFiles:
    def __init__(
        self,
        folder: Path,
        crt_list: Path,
        issuer: CertificateIssuer,
        fallback: str,
        fallback_issuer: CertificateIssuer | None = None,
    ):
        self.folder = folder
        self.crt_list = crt_list
        self.issuer = issuer
        self.fallback = fallback  # the name of the certificate for unknown names
        self.fallback_issuer = fallback_issuer or issuer
        self._served: dict[str, _Served] = {}

    def write(
        self, hostnames: Iterable[str], now: datetime.datetime | None = None
    ) -> CertificateChanges:
        """Have a current certificate for each of `hostnames` the issuer can serve."""
        now = now or datetime.datetime.now(datetime.UTC)
        changes = CertificateChanges()
        self._ensure(self.fallback, self.fallback_issuer, now, changes)
        wanted = sorted(set(hostnames) - {self.fallback})
        for hostname in wanted:
            self._ensure(hostname, self.issuer, now, changes)
        served = [h for h in wanted if self._validity_of(h) is not None]
        lines = [f"{self.path(self.fallback)}\n"] + [f"{self.path(h)} {h}\n" for h in served]
        if not self.crt_list.exists() or self.crt_list.read_text() != "".join(lines):
            write_atomic(self.crt_list, "".join(lines))
        self._remove_others({self.fallback, *served})
        return changes

    def state(self, hostname: str) -> CertificateState | None:
        """The certificate served for `hostname`, if there is one of its own."""
        served = self._served_of(hostname)
        return CertificateState(served.issuer, served.validity[1]) if served else None

    def path(self, hostname: str) -> Path:
        return self.folder / f"{hostname}.pem"

    def _ensure(
        self,
        hostname: str,
        issuer: CertificateIssuer,
        now: datetime.datetime,
        changes: CertificateChanges,
    ) -> None:
        validity = self._validity_of(hostname)
        if validity is not None and not _due(validity, now):
            return
        issued = issuer.issue((hostname,))
        if issued is None or (validity and issued.not_after <= validity[1]):
            return  # nothing newer yet: keep serving what there is
        write_atomic(self.path(hostname), issued.bundle)  # 0600, like every temp file
        CERTIFICATES.labels(issuer.name, "renewal" if validity else "first").inc()
        self._served.pop(hostname, None)
        (changes.renewed if validity else changes.added).append(hostname)

    def _validity_of(self, hostname: str) -> _Validity | None:
        served = self._served_of(hostname)
        return served.validity if served else None

    def _served_of(self, hostname: str) -> _Served | None:
        if hostname in self._served:
            return self._served[hostname]
        try:
            cert = x509.load_pem_x509_certificate(self.path(hostname).read_bytes())
        except (OSError, ValueError):
            return None
        names = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        issuer = str(names[0].value) if names else cert.issuer.rfc4514_string()
        served = _Served((cert.not_valid_before_utc, cert.not_valid_after_utc), issuer)
        self._served[hostname] = served
        return served

    def _remove_others(self, kept: set[str]) -> None:
        if not self.folder.exists():
            return
        for pem in self.folder.glob("*.pem"):
            if pem.stem not in kept:
                pem.unlink(missing_ok=True)
                self._served.pop(pem.stem, None)


def _due(validity: _Validity, now: datetime.datetime) -> bool:
    not_before, not_after = validity
    return now >= not_before + (not_after - not_before) * 2 / 3
