"""The server's own certificate authority, for HTTPS without ACME (the local default).

Made on first start: an EC P-256 key (0600) and a self-signed CA certificate in
one folder of the data dir. It signs a certificate per hostname the edge serves;
trusting `ca.crt` (see `hangar certs ca`) makes them valid on this box.
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hangar.edge.files import write_atomic
from hangar.ports import IssuedCertificate

CA_LIFETIME = datetime.timedelta(days=3650)
# What browsers accept at most; renewed once two thirds have passed, like ACME's.
LEAF_LIFETIME = datetime.timedelta(days=397)
_BACKDATE = datetime.timedelta(minutes=5)  # a clock a little behind still accepts it
_MAX_COMMON_NAME = 64


class LocalCA:
    """Signs certificates for the edge's hostnames with a CA kept in `folder`."""

    name = "local CA"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cert_path = folder / "ca.crt"
        self.key_path = folder / "ca.key"
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._cert: x509.Certificate | None = None

    def ensure(self) -> None:
        """Load the CA, or make it on first use."""
        if self._cert is not None:
            return
        if not self.key_path.exists():
            self._create()
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{self.key_path} is not an EC key")
        self._key = key
        self._cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    @property
    def subject(self) -> str:
        self.ensure()
        assert self._cert is not None
        return self._cert.subject.rfc4514_string()

    def issue(self, hostnames: tuple[str, ...]) -> IssuedCertificate:
        """A new certificate for `hostnames` (the first is its subject)."""
        self.ensure()
        assert self._key is not None and self._cert is not None
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_subject(hostnames[0]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + LEAF_LIFETIME)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(_key_id(key.public_key()), critical=False)
            .add_extension(_authority_id(self._cert), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return IssuedCertificate(
            hostnames,
            _pem(cert) + _pem(self._cert),
            _key_pem(key),
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
            issuer=self.name,
        )

    def _create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hangar"),
                x509.NameAttribute(
                    NameOID.COMMON_NAME, f"Hangar local CA on {socket.gethostname()}"
                ),
            ]
        )
        now = _now()
        usage = x509.KeyUsage(
            digital_signature=True,
            key_cert_sign=True,
            crl_sign=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            encipher_only=False,
            decipher_only=False,
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(_key_id(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _key_pem(key))
        write_atomic(self.cert_path, _pem(cert))


def _subject(hostname: str) -> x509.Name:
    """CN holds at most 64 characters; clients read the names from the SAN anyway."""
    if len(hostname) > _MAX_COMMON_NAME:
        return x509.Name([])
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_id(public_key: ec.EllipticCurvePublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _authority_id(ca: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by this user only, from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
