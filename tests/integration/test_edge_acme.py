"""Certificates from a real ACME server (Pebble) by HTTP-01 answered by the real
HAProxy edge, kept in a real store, loaded into HAProxy without a reload."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import ssl
from collections.abc import Iterator
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from sqlalchemy import select

from hangar.acme_client import AcmeDirectory
from hangar.control.accounts import signup
from hangar.control.acme_certificates import AcmeCertificates
from hangar.control.apps import create_app
from hangar.edge import HAProxyEdge
from hangar.edge.local_ca import LocalCA
from hangar.ports import Route
from hangar.store.database import Database
from hangar.store.models import Domain, User
from hangar.store.secret_box import SecretBox
from tests.support.backends import NamedServer, free_port
from tests.support.pebble import Pebble, running_pebble

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
DOMAIN = "hangar.test"
pytestmark = pytest.mark.haproxy


@pytest.fixture
def http_port() -> int:
    return free_port()


@pytest.fixture
def pebble(tmp_path, http_port) -> Iterator[Pebble]:
    with running_pebble(tmp_path / "pebble", http_port) as running:
        yield running


@pytest.fixture
def store(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'hangar.db'}")
    db.migrate()
    with db.session() as session:
        signup(session, "owner@example.com", "correct horse battery")
        owner = session.scalar(select(User))
        assert owner is not None
        app = create_app(session, owner, "web")
        session.add(Domain(app_id=app.id, hostname="www.example.com"))
        session.add(Domain(app_id=app.id, hostname="elsewhere.example.com"))
    return db


@pytest.fixture
def acme(store, pebble) -> AcmeCertificates:
    directory = AcmeDirectory(pebble.directory, "ops@example.com", str(pebble.ca_file))
    return AcmeCertificates(store, SecretBox(Fernet.generate_key()), directory, DOMAIN)


@pytest.fixture
def edge(tmp_path, http_port, acme) -> Iterator[HAProxyEdge]:
    if not os.access(HAPROXY, os.X_OK):
        pytest.skip("needs HAProxy")
    edge = HAProxyEdge(
        tmp_path / "edge",
        http_port=http_port,
        https_port=free_port(),
        domain=DOMAIN,
        haproxy_bin=HAPROXY,
        issuer=acme,
        fallback_issuer=LocalCA(tmp_path / "ca"),
    )
    acme.attach(edge)
    yield edge
    edge.stop()


@pytest.fixture
def machine() -> Iterator[NamedServer]:
    server = NamedServer("m1")
    yield server
    server.close()


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def served_certificate(edge: HAProxyEdge, hostname: str) -> x509.Certificate:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    port = edge.listen.https_port
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def verified_handshake(edge: HAProxyEdge, hostname: str, root_pem: bytes) -> None:
    context = ssl.create_default_context(cadata=root_pem.decode())
    with (
        socket.create_connection(("127.0.0.1", edge.listen.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname),
    ):
        pass


def test_an_apps_certificate_comes_from_acme_and_is_loaded_without_a_reload(
    edge, acme, machine, pebble
):
    edge.sync([Route("web", f"web.{DOMAIN}", domains=("www.example.com",))])
    edge.add_backend("web", machine.backend, None)
    before = served_certificate(edge, f"web.{DOMAIN}")
    assert "Pebble" not in before.issuer.rfc4514_string()  # the fallback, meanwhile
    worker = edge._process.stats.pid()
    acme.run_due()
    for hostname in (f"web.{DOMAIN}", "www.example.com"):
        assert acme.status(hostname).state == "issued"
        served = served_certificate(edge, hostname)
        assert "Pebble" in served.issuer.rfc4514_string()
        names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == [hostname]
        verified_handshake(edge, hostname, pebble.root_pem())
    assert edge._process.stats.pid() == worker  # set/commit ssl cert, no new worker
    assert edge.certificate(f"web.{DOMAIN}") is not None


def test_a_renewed_certificate_replaces_the_served_one_without_a_reload(edge, acme, machine):
    edge.sync([Route("web", f"web.{DOMAIN}")])
    edge.add_backend("web", machine.backend, None)
    first = acme.obtain(f"web.{DOMAIN}")
    assert first.state == "issued"
    served = served_certificate(edge, f"web.{DOMAIN}")
    worker = edge._process.stats.pid()
    files = edge._certificates
    assert files is not None
    not_after = served.not_valid_after_utc
    due = (not_after - 3 * (not_after - now()), not_after)
    files._served[f"web.{DOMAIN}"] = replace(files._served[f"web.{DOMAIN}"], validity=due)
    acme.obtain(f"web.{DOMAIN}")  # as the background round does once renewal is due
    renewed = served_certificate(edge, f"web.{DOMAIN}")
    assert renewed.serial_number != served.serial_number
    assert edge._process.stats.pid() == worker


def test_a_failed_validation_keeps_plain_http_and_says_why(edge, acme, machine, pebble):
    pebble.point("elsewhere.example.com", "127.0.0.2")  # nothing of ours listens there
    edge.sync([Route("web", f"web.{DOMAIN}", domains=("elsewhere.example.com",))])
    edge.add_backend("web", machine.backend, None)
    status = acme.obtain("elsewhere.example.com")
    assert status.state == "failed"
    assert status.last_error is not None and "elsewhere.example.com" in status.last_error
    assert status.retry_at is not None
    assert edge.certificate("elsewhere.example.com") is None
    with socket.create_connection(("127.0.0.1", edge.http_port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: elsewhere.example.com\r\nConnection: close\r\n\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")


def test_an_unreachable_directory_is_a_failure_that_says_so(tmp_path, store, edge, machine):
    closed = f"https://localhost:{free_port()}/dir"  # nothing listens there
    unreachable = AcmeCertificates(
        store, SecretBox(Fernet.generate_key()), AcmeDirectory(closed, None), DOMAIN
    )
    unreachable.attach(edge)
    edge.sync([Route("web", f"web.{DOMAIN}")])
    edge.add_backend("web", machine.backend, None)
    status = unreachable.obtain(f"web.{DOMAIN}")
    assert status.state == "failed"
    assert status.last_error is not None
    assert status.last_error.startswith("the ACME directory could not be reached")
