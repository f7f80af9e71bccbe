"""An ACME directory (RFC 8555) as `AcmeAuthority`: orders proved by HTTP-01.

Built on the `acme` library (certbot's). The edge answers the challenges
(`ChallengeResponder`); the account key and the certificates are kept by the
control plane, encrypted in the store.
"""

from __future__ import annotations

import datetime
import threading

import josepy as jose
import requests
from acme import challenges, client, crypto_util, errors, messages
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from josepy.jwk import JWKRSA

from hangar.errors import CertificateFailed
from hangar.ports import ChallengeResponder, IssuedCertificate

ORDER_TIMEOUT_S = 90.0
_USER_AGENT = "hangar"


class AcmeDirectory:
    def __init__(self, directory: str, email: str | None, ca_bundle: str | None = None) -> None:
        """`ca_bundle`: a PEM file to trust for the directory's own HTTPS (Pebble's)."""
        self.directory = directory
        self.email = email
        self.ca_bundle = ca_bundle
        self._key: JWKRSA | None = None
        self._client: client.ClientV2 | None = None
        self._lock = threading.Lock()  # one registration, one order at a time

    def use_account(self, key_pem: bytes | None) -> bytes:
        """Sign with this account key (a new RSA key when None); returns the key's PEM."""
        if key_pem is None:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_pem = _pem(private)
        loaded = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise CertificateFailed("the stored ACME account key is not an RSA key")
        self._key, self._client = JWKRSA(key=loaded), None
        return key_pem

    def obtain(self, hostname: str, responder: ChallengeResponder) -> IssuedCertificate:
        with self._lock:
            try:
                return self._obtain(hostname, responder)
            except (errors.Error, requests.RequestException, jose.errors.Error) as exc:
                raise CertificateFailed(_reason(exc)) from exc

    def _obtain(self, hostname: str, responder: ChallengeResponder) -> IssuedCertificate:
        acme = self._registered()
        key_pem = _pem(ec.generate_private_key(ec.SECP256R1()))
        order = acme.new_order(crypto_util.make_csr(key_pem, [hostname]))
        tokens = self._answer_challenges(acme, order, responder)
        try:
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_TIMEOUT_S)
            order = acme.poll_and_finalize(order, deadline)
        finally:
            for token in tokens:
                responder.withdraw_challenge(token)
        return _issued(hostname, order.fullchain_pem.encode(), key_pem)

    def _answer_challenges(
        self, acme: client.ClientV2, order: messages.OrderResource, responder: ChallengeResponder
    ) -> list[str]:
        assert self._key is not None
        tokens = []
        for authz in order.authorizations:
            if authz.body.status == messages.STATUS_VALID:
                continue  # proved recently; the directory reuses it
            challenge = _http01(authz)
            response, validation = challenge.response_and_validation(self._key)
            token = challenge.chall.encode("token")
            responder.publish_challenge(token, validation)
            tokens.append(token)
            acme.answer_challenge(challenge, response)
        return tokens

    def _registered(self) -> client.ClientV2:
        if self._client is not None:
            return self._client
        if self._key is None:
            self.use_account(None)
        verify: bool | str = self.ca_bundle or True
        net = client.ClientNetwork(self._key, user_agent=_USER_AGENT, verify_ssl=verify)  # type: ignore[arg-type]
        acme = client.ClientV2(client.ClientV2.get_directory(self.directory, net), net)
        registration = messages.NewRegistration.from_data(
            email=self.email, terms_of_service_agreed=True
        )
        try:
            acme.new_account(registration)
        except errors.ConflictError as existing:  # this key has an account already
            regr = messages.RegistrationResource(
                uri=existing.location, body=messages.Registration()
            )
            net.account = acme.query_registration(regr)
        self._client = acme
        return acme


def _http01(authz: messages.AuthorizationResource) -> messages.ChallengeBody:
    for challenge in authz.body.challenges:
        if isinstance(challenge.chall, challenges.HTTP01):
            return challenge
    name = authz.body.identifier.value
    raise CertificateFailed(f"the ACME directory offers no HTTP-01 challenge for {name}")


def _issued(hostname: str, chain_pem: bytes, key_pem: bytes) -> IssuedCertificate:
    leaf = x509.load_pem_x509_certificate(chain_pem)
    return IssuedCertificate(
        (hostname,),
        chain_pem,
        key_pem,
        leaf.not_valid_before_utc,
        leaf.not_valid_after_utc,
        leaf.issuer.rfc4514_string(),
    )


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _reason(exc: Exception) -> str:
    """What went wrong, in the directory's words when it gave them."""
    if isinstance(exc, errors.ValidationError):
        details = [
            f"{a.body.identifier.value}: {c.error.detail or c.error.typ}"
            for a in exc.failed_authzrs
            for c in a.body.challenges
            if c.error is not None
        ]
        return "validation failed: " + ("; ".join(details) or "no detail given")
    if isinstance(exc, messages.Error):
        return f"the ACME directory refused: {exc.detail or exc.typ}"
    if isinstance(exc, errors.TimeoutError):
        return f"the ACME order did not complete within {ORDER_TIMEOUT_S:.0f} s"
    if isinstance(exc, requests.RequestException):
        return f"the ACME directory could not be reached: {exc}"
    return str(exc) or type(exc).__name__
