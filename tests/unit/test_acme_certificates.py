"""Certificates from ACME, kept in the store: when they are ordered, kept, retried, shown."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from hangar.control.acme_certificates import RETRY_FIRST_S, AcmeCertificates
from hangar.edge.local_ca import LocalCA
from hangar.errors import CertificateFailed, EdgeFailure
from hangar.ports import ChallengeResponder, IssuedCertificate
from hangar.store.models import AcmeAccount, Certificate
from tests.unit.test_api import signed_up


@dataclass
class FakeDirectory:
    """Signs with a local CA once the edge answers the challenge; `refuse` says why not."""

    ca: LocalCA
    directory: str = "https://acme.test/dir"
    refuse: str | None = None
    orders: list[str] = field(default_factory=list)
    account_keys: list[bytes | None] = field(default_factory=list)

    def use_account(self, key_pem: bytes | None) -> bytes:
        self.account_keys.append(key_pem)
        return key_pem or b"-----BEGIN PRIVATE KEY-----\naccount\n-----END PRIVATE KEY-----\n"

    def obtain(self, hostname: str, responder: ChallengeResponder) -> IssuedCertificate:
        self.orders.append(hostname)
        responder.publish_challenge(f"token-{hostname}", "key-authorization")
        answered = getattr(responder, "challenges", {}).get(f"token-{hostname}")
        responder.withdraw_challenge(f"token-{hostname}")
        if self.refuse or answered != "key-authorization":
            raise CertificateFailed(self.refuse or "the challenge was not answered")
        return self.ca.issue((hostname,))


@pytest.fixture
def directory(tmp_path):
    return FakeDirectory(LocalCA(tmp_path / "ca"))


@pytest.fixture
def acme(fake_platform, directory):
    certificates = AcmeCertificates(
        fake_platform.db, fake_platform.secrets.box, directory, "localhost"
    )
    certificates.attach(fake_platform.edge)
    fake_platform.acme = certificates
    return certificates


@pytest.fixture
def owner(client):
    headers = signed_up(client)
    assert client.post("/v1/apps", json={"name": "web"}, headers=headers).status_code == 201
    return headers


def test_a_new_hostname_waits_for_its_order_then_is_served_from_the_store(
    client, owner, acme, directory, fake_platform
):
    assert acme.issue(("web.localhost",)) is None  # the edge serves its fallback meanwhile
    assert acme.status("web.localhost").state == "pending"
    acme.run_due()
    assert directory.orders == ["web.localhost"]
    assert fake_platform.edge.challenges == {}  # withdrawn once answered
    assert "refresh certificates" in fake_platform.edge.journal  # the edge loads it now
    issued = acme.issue(("web.localhost",))
    assert issued is not None and issued.hostnames == ("web.localhost",)
    acme.run_due()
    assert directory.orders == ["web.localhost"]  # nothing more to order
    shown = client.get("/v1/apps/web/certs/web.localhost", headers=owner).json()
    assert shown["acme"]["state"] == "issued"
    assert shown["acme"]["renew_after"] is not None


def test_keys_are_encrypted_in_the_store(client, owner, acme, fake_platform):
    acme.issue(("web.localhost",))
    acme.run_due()
    issued = acme.issue(("web.localhost",))
    assert issued is not None
    with fake_platform.db.session() as session:
        row = session.scalar(select(Certificate))
        account = session.scalar(select(AcmeAccount))
        assert row is not None and account is not None
        assert b"PRIVATE KEY" not in (row.key_ciphertext or "").encode()
        assert "PRIVATE KEY" not in account.key_ciphertext
        decrypted = fake_platform.secrets.box.decrypt(row.key_ciphertext or "")
        assert decrypted == issued.key_pem.decode()


def test_the_account_key_is_made_once_and_reused(client, owner, acme, directory, fake_platform):
    acme.obtain("web.localhost")
    again = AcmeCertificates(fake_platform.db, fake_platform.secrets.box, directory, "localhost")
    again.attach(fake_platform.edge)
    again.obtain("web.localhost")
    first, second = directory.account_keys
    assert first is None and second is not None and b"account" in second


def test_a_failed_order_says_why_and_waits_before_the_next_try(
    client, owner, acme, directory, fake_platform
):
    directory.refuse = "validation failed: connection refused"
    acme.issue(("web.localhost",))
    acme.run_due()
    acme.run_due()  # within the pause: no second order
    assert directory.orders == ["web.localhost"]
    status = acme.status("web.localhost")
    assert (status.state, status.last_error) == ("failed", "validation failed: connection refused")
    assert status.attempted_at is not None and status.retry_at is not None
    assert (status.retry_at - status.attempted_at).total_seconds() == RETRY_FIRST_S
    shown = client.get("/v1/apps/web/certs/web.localhost", headers=owner).json()
    assert shown["status"] == "failed" and "connection refused" in shown["acme"]["last_error"]
    directory.refuse = None
    checked = client.post("/v1/apps/web/certs/web.localhost/check", headers=owner).json()
    assert checked["acme"]["state"] == "issued" and checked["acme"]["last_error"] is None
    assert directory.orders == ["web.localhost", "web.localhost"]


def test_a_second_failure_waits_twice_as_long(client, owner, acme, directory):
    directory.refuse = "rate limited"
    acme.obtain("web.localhost")
    status = acme.obtain("web.localhost")
    assert status.retry_at is not None and status.attempted_at is not None
    assert (status.retry_at - status.attempted_at).total_seconds() == 2 * RETRY_FIRST_S


def test_a_due_certificate_is_kept_while_its_renewal_is_ordered(
    client, owner, acme, directory, monkeypatch
):
    acme.obtain("web.localhost")
    current = acme.issue(("web.localhost",))
    assert current is not None
    later = current.not_before + (current.not_after - current.not_before) * 0.7
    monkeypatch.setattr(acme, "clock", FixedClock(later))
    assert acme.issue(("web.localhost",)) == current  # still valid: served until renewed
    acme.run_due()
    assert directory.orders == ["web.localhost", "web.localhost"]


def test_hostnames_no_app_serves_are_not_ordered(client, owner, acme, directory):
    acme.issue(("gone.localhost",))
    acme.issue(("www.example.com",))  # no app has this domain
    acme.run_due()
    assert directory.orders == []


def test_a_removed_domain_loses_its_certificate(client, owner, acme, directory, fake_platform):
    client.post("/v1/apps/web/certs", json={"hostname": "www.example.com"}, headers=owner)
    acme.obtain("www.example.com")
    assert acme.status("www.example.com").state == "issued"
    assert client.delete("/v1/apps/web/certs/www.example.com", headers=owner).status_code == 204
    assert acme.issue(("www.example.com",)) is None
    with fake_platform.db.session() as session:
        assert session.scalar(select(Certificate.hostname)) is None


def test_another_user_sees_nothing_of_the_apps_certificates(client, owner, acme):
    acme.obtain("web.localhost")
    other = signed_up(client, "eve@example.com")
    for path in ("/v1/apps/web/certs/web.localhost", "/v1/apps/web/certs/web.localhost/check"):
        answer = (client.post if path.endswith("check") else client.get)(path, headers=other)
        assert answer.status_code == 403


@dataclass(frozen=True)
class FixedClock:
    moment: datetime.datetime

    def now(self) -> datetime.datetime:
        return self.moment


def test_an_edge_that_cannot_publish_the_challenge_is_a_failure_kept_with_its_reason(
    client, owner, acme, fake_platform, monkeypatch
):
    def refuse(token: str, key_authorization: str) -> None:
        raise EdgeFailure("HAProxy refused `add map`: unknown map")

    monkeypatch.setattr(fake_platform.edge, "publish_challenge", refuse)
    status = acme.obtain("web.localhost")
    assert status.state == "failed" and "add map" in (status.last_error or "")
