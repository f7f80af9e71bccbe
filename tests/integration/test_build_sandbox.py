"""Builds cannot reach this host or a private network: RUN steps in the sandbox, ADD sources.

The targets are addresses these tests assign themselves: one on a dummy
interface of the host (standing in for the control plane or any host service)
and one in a network namespace behind a veth (standing in for the LAN). Each
test first shows a container outside the sandbox does reach them, so a refusal
is the sandbox's doing and not a dead server.
"""

from __future__ import annotations

import http.server
import ipaddress
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from hangar.builder.docker_builder import DockerBuilder
from hangar.builder.egress import EgressPolicy, host_policy
from hangar.builder.sandbox import BRIDGE, CHAIN
from hangar.errors import BuildFailed
from hangar.runtime.docker_runtime import DockerRuntime
from tests.integration.conftest import BASE_IMAGE, Log, context

pytestmark = pytest.mark.docker

HOST_ADDRESS, LAN_PEER = "10.213.7.1", "10.213.7.2"
PORT = 18431


@pytest.fixture
def runtime(docker_client: docker.DockerClient) -> DockerRuntime:
    return DockerRuntime(docker_client)


@dataclass
class Server:
    """A python http.server started by the test; `requests` counts what reached it."""

    address: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def requests(self) -> int:
        return sum(1 for line in self.lines if '"GET ' in line)


def _start_server(address: str, *prefix: str) -> Server:
    command = [*prefix, sys.executable, "-u", "-m", "http.server", "--bind", address, str(PORT)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    server = Server(address, process)
    threading.Thread(target=lambda: server.lines.extend(process.stderr or []), daemon=True).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(address):
            return server
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the test server on {address} did not start")


def _answers(address: str) -> bool:
    probe = f"import socket; socket.create_connection(('{address}', {PORT}), 1).close()"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def _stop(server: Server) -> None:
    server.process.terminate()
    server.process.wait(10)
    if server.process.stderr is not None:
        server.process.stderr.close()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def veth_namespace() -> Iterator[str]:
    """A network namespace behind a veth: the host's side has HOST_ADDRESS, the peer LAN_PEER."""
    name = f"hgrt{uuid.uuid4().hex[:6]}"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b")
        _ip("link", "set", f"{name}b", "netns", name)
        _ip("addr", "add", f"{HOST_ADDRESS}/24", "dev", f"{name}a")
        _ip("link", "set", f"{name}a", "up")
        _ip("-n", name, "addr", "add", f"{LAN_PEER}/24", "dev", f"{name}b")
        _ip("-n", name, "link", "set", f"{name}b", "up")
        yield name
    finally:
        _ip("netns", "del", name)


@pytest.fixture
def host_server(veth_namespace: str) -> Iterator[Server]:
    """A server on an address of this host (its side of the veth)."""
    server = _start_server(HOST_ADDRESS)
    yield server
    _stop(server)


@pytest.fixture
def lan_server(veth_namespace: str) -> Iterator[Server]:
    """A server on a private network next to this host (inside the namespace)."""
    server = _start_server(LAN_PEER, "ip", "netns", "exec", veth_namespace)
    yield server
    _stop(server)


NC_GET = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {address} {port}"


def _reached_from_default_bridge(client: docker.DockerClient, address: str) -> bool:
    script = NC_GET.format(address=address, port=PORT) + " | head -1"
    out = client.containers.run(BASE_IMAGE, ["sh", "-c", script], remove=True)
    return b"200" in out


def test_run_steps_cannot_reach_the_host_or_a_private_network(
    docker_client: docker.DockerClient,
    host_server: Server,
    lan_server: Server,
    log: Log,
    tag: str,
    tmp_path: Path,
) -> None:
    for server in (host_server, lan_server):
        assert _reached_from_default_bridge(docker_client, server.address)
    seen = host_server.requests(), lan_server.requests()
    tries = " ; ".join(
        f"({NC_GET.format(address=s.address, port=PORT)} | grep -q 200"
        f" && echo REACHED-{s.address} || echo BLOCKED-{s.address})"
        for s in (host_server, lan_server)
    )

    DockerBuilder(docker_client).build(
        context(tmp_path, f"FROM {BASE_IMAGE}\nRUN {tries}\n"), tag, log
    )

    output = "\n".join(log)
    assert f"BLOCKED-{HOST_ADDRESS}" in output and f"BLOCKED-{LAN_PEER}" in output
    assert (host_server.requests(), lan_server.requests()) == seen


def test_the_sandbox_is_an_isolated_bridge_behind_the_firewall(
    docker_client: docker.DockerClient,
    log: Log,
    tag: str,
    tmp_path: Path,
) -> None:
    DockerBuilder(docker_client).build(context(tmp_path, f"FROM {BASE_IMAGE}\n"), tag, log)

    network = docker_client.networks.get("hangar-build").attrs
    assert network["Options"]["com.docker.network.bridge.name"] == BRIDGE
    assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    chain = subprocess.run(["iptables", "-S", CHAIN], capture_output=True, text=True).stdout
    assert "-d 169.254.0.0/16 -j DROP" in chain and "-d 10.0.0.0/8 -j DROP" in chain
    assert (
        f"-i {BRIDGE} -j DROP"
        in subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True).stdout
    )


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = b"the-secret-content\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A server on 127.0.0.1 that records every request; yields its port."""
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "source",
    [
        "http://127.0.0.1:{port}/openapi.json",
        "http://localhost:{port}/openapi.json",
        "http://2130706433:{port}/openapi.json",  # 127.0.0.1 as one number
        "http://[::ffff:127.0.0.1]:{port}/x",
        f"http://{HOST_ADDRESS}:{{port}}/x",
    ],
)
def test_add_from_this_host_or_a_private_address_is_refused_before_any_request(
    docker_client: docker.DockerClient,
    loopback_server: int,
    log: Log,
    tag: str,
    tmp_path: Path,
    source: str,
) -> None:
    url = source.format(port=loopback_server)
    dockerfile = f"FROM {BASE_IMAGE}\nADD {url} /leak\n"

    with pytest.raises(BuildFailed, match="refused") as failure:
        DockerBuilder(docker_client).build(context(tmp_path, dockerfile), tag, log)

    assert "public addresses" in (failure.value.hint or "")
    assert Recorder.hits == []


def test_add_with_a_build_arg_in_the_address_is_refused(
    docker_client: docker.DockerClient,
    log: Log,
    tag: str,
    tmp_path: Path,
) -> None:
    dockerfile = f"FROM {BASE_IMAGE}\nARG HOST=127.0.0.1\nADD http://$HOST/x /x\n"

    with pytest.raises(BuildFailed, match="build arg"):
        DockerBuilder(docker_client).build(context(tmp_path, dockerfile), tag, log)


def test_an_allowed_add_source_is_fetched_by_hangar_and_keeps_adds_meaning(
    docker_client: docker.DockerClient,
    runtime: DockerRuntime,
    loopback_server: int,
    log: Log,
    tag: str,
    tmp_path: Path,
) -> None:
    """With loopback allowed (only here), the file arrives as ADD <url> would make it."""
    loopback = ipaddress.ip_network("127.0.0.0/8")
    allow_loopback = EgressPolicy(tuple(n for n in host_policy().blocked if n != loopback))
    url = f"http://127.0.0.1:{loopback_server}/files/data.txt"
    dockerfile = (
        f"FROM {BASE_IMAGE}\nADD \\\n  {url} /opt/\nRUN ls -l /opt/data.txt && cat /opt/data.txt\n"
    )

    DockerBuilder(docker_client, fetch_policy=lambda: allow_loopback).build(
        context(tmp_path, dockerfile), tag, log
    )

    assert f"Fetching {url}" in log
    assert Recorder.hits == ["/files/data.txt"]  # once, by Hangar: the engine took the copy
    assert "the-secret-content" in log
    assert any(line.startswith("-rw-------") for line in log)  # ADD's mode for a URL
    assert any("Oct 21  2015" in line for line in log)  # and the source's Last-Modified
