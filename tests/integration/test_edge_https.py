"""The edge over HTTPS with the server's own CA, its redirect and the headers it
sets, against the real HAProxy and tiny backends on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hangar.edge import HAProxyEdge
from hangar.edge.local_ca import LocalCA
from hangar.ports import Backend, Route, RoutePolicy
from tests.support.backends import NamedServer, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
pytestmark = pytest.mark.haproxy


@pytest.fixture
def ca(tmp_path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.fixture
def edge(tmp_path, ca) -> Iterator[HAProxyEdge]:
    if not os.access(HAPROXY, os.X_OK):
        pytest.skip("needs HAProxy")
    edge = HAProxyEdge(
        tmp_path / "edge",
        http_port=free_port(),
        https_port=free_port(),
        haproxy_bin=HAPROXY,
        issuer=ca,
    )
    yield edge
    edge.stop()


@pytest.fixture
def machine() -> Iterator[NamedServer]:
    server = NamedServer("m1")
    yield server
    server.close()


def trusting(ca: LocalCA, **more) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca.cert_path))
    for name, value in more.items():
        setattr(context, name, value)
    return context


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def https_get(edge, context, host, path="/", headers=None) -> Answer:
    port = edge.listen.https_port
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    conn.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host
    )
    return _ask(conn, host, path, headers)


def http_get(edge, host, path="/", headers=None) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", edge.http_port, timeout=10)
    return _ask(conn, host, path, headers)


def _ask(conn: http.client.HTTPConnection, host, path, headers) -> Answer:
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def test_each_app_is_served_over_https_with_a_certificate_for_its_name(edge, ca, machine):
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", machine.backend, None)
    other = NamedServer("m2")
    edge.add_backend("api", other.backend, None)  # a new app: its own certificate
    context = trusting(ca)
    context.set_alpn_protocols(["http/1.1"])
    for host, name in (("web.localhost", b"m1"), ("api.localhost", b"m2")):
        answer = https_get(edge, context, host)  # verified against the CA, for this name
        assert (answer.status, answer.body) == (200, name)
    assert (ca.key_path.stat().st_mode & 0o777) == 0o600
    assert {p.name for p in edge.paths.certs_dir.glob("*.pem")} == {
        "localhost.pem",
        "web.localhost.pem",
        "api.localhost.pem",
    }
    other.close()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_tls_is_1_2_or_newer_and_h2_is_offered(edge, ca, machine):
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", machine.backend, None)
    context = trusting(ca)
    context.set_alpn_protocols(["h2", "http/1.1"])
    port = edge.listen.https_port
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="web.localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    old = trusting(ca, minimum_version=ssl.TLSVersion.TLSv1, maximum_version=ssl.TLSVersion.TLSv1_1)
    old.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLError):
        old.wrap_socket(raw, server_hostname="web.localhost")


def test_force_https_redirects_plain_http_but_not_acme_challenges(edge, machine):
    https_only = RoutePolicy(force_https=True)
    edge.sync([Route("web", "web.localhost", policy=https_only), Route("api", "api.localhost")])
    edge.add_backend("web", machine.backend, https_only)
    edge.add_backend("api", machine.backend, None)
    moved = http_get(edge, "web.localhost:8080", "/a/b?c=1")
    assert moved.status == 301
    port = edge.listen.https_port
    assert moved.headers["Location"] == f"https://web.localhost:{port}/a/b?c=1"
    challenge = http_get(edge, "web.localhost", "/.well-known/acme-challenge/token")
    assert (challenge.status, challenge.body) == (200, b"m1")
    assert http_get(edge, "api.localhost").status == 200  # an app without force_https


def test_the_edge_sets_forwarded_headers_and_replaces_the_clients_copies(edge, ca, machine):
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", machine.backend, None)
    forged = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Proto": "https",
        "Fly-Client-IP": "6.6.6.6",
        "Fly-Region": "evil",
        "Forwarded": "for=6.6.6.6",
        "X-Forwarded-Ssl": "on",
        "X-Real-IP": "6.6.6.6",
        "X-Request-Id": "no spaces allowed",
    }
    answer = http_get(edge, "web.localhost", "/headers", forged)
    seen = json.loads(answer.body)
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["fly-client-ip"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-port"] == seen["fly-forwarded-port"] == [str(edge.http_port)]
    assert seen["x-forwarded-host"] == ["web.localhost"]
    assert seen["fly-region"] == ["local"]
    assert "forwarded" not in seen and "x-real-ip" not in seen
    assert seen["x-forwarded-ssl"] == ["off"]
    made = seen["x-request-id"][0]
    assert made != forged["X-Request-Id"] and seen["fly-request-id"] == [made]
    assert answer.headers["X-Request-Id"] == made

    kept = https_get(
        edge, trusting(ca), "web.localhost", "/headers", {"X-Request-Id": "req-1234abcd"}
    )
    seen = json.loads(kept.body)
    assert seen["x-request-id"] == ["req-1234abcd"]
    assert seen["x-forwarded-proto"] == ["https"]
    assert kept.headers["X-Request-Id"] == "req-1234abcd"


def test_a_header_over_the_limit_gets_400_at_the_edge(edge, machine):
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", machine.backend, None)
    fits = http_get(edge, "web.localhost", "/", {"X-Big": "a" * 14_000})
    assert (fits.status, fits.body) == (200, b"m1")
    too_big = http_get(edge, "web.localhost", "/", {"X-Big": "a" * 16_384})
    assert too_big.status == 400 and b"m1" not in too_big.body


def test_an_apps_own_domain_is_routed_with_a_certificate_of_its_own(edge, ca, machine):
    edge.sync([])
    edge.set_domains("web", ("shop.example.test",))  # before the app's first machine
    edge.add_backend("web", machine.backend, None)
    answer = https_get(edge, trusting(ca), "shop.example.test")  # verified for this name
    assert (answer.status, answer.body) == (200, b"m1")
    state = edge.certificate("shop.example.test")
    assert state is not None and state.issuer.startswith("Hangar local CA on ")
    edge.set_domains("web", ("shop.example.test", "www.example.test"))
    assert https_get(edge, trusting(ca), "www.example.test").status == 200
    edge.set_domains("web", ())
    assert http_get(edge, "shop.example.test").status == 404
    assert edge.certificate("shop.example.test") is None
    assert http_get(edge, "web.localhost").status == 200


WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class UpgradingServer:
    """Answers any request with 101 Switching Protocols, then echoes what it gets."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self.listener.accept()
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                headers = dict(
                    line.split(b": ", 1) for line in request.split(b"\r\n")[1:] if b": " in line
                )
                key = {k.lower(): v for k, v in headers.items()}[b"sec-websocket-key"]
                accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest())
                conn.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                )
                while data := conn.recv(4096):
                    conn.sendall(data)

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("tls", [False, True])
def test_websockets_pass_through_over_http_and_https(edge, ca, tls):
    upgrading = UpgradingServer()
    edge.sync([Route("web", "web.localhost")])
    edge.add_backend("web", Backend("ws1", upgrading.port), None)
    port = edge.listen.https_port if tls else edge.http_port
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = trusting(ca).wrap_socket(raw, server_hostname="web.localhost") if tls else raw
    with conn:
        conn.sendall(
            b"GET /ws HTTP/1.1\r\nHost: web.localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        conn.sendall(b"frames both ways")
        echoed = b""
        while len(echoed) < len(b"frames both ways"):
            echoed += conn.recv(4096)
        assert echoed == b"frames both ways"
    upgrading.close()
