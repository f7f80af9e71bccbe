"""Download one `ADD <url>` source without letting it reach what the build may not.

The engine would fetch the URL itself, from the host, wherever it points: the
API on loopback, the LAN, a cloud metadata service. Here the name is resolved
first, every address it has must be allowed by the egress policy, and the
connection goes to the checked address (no second lookup to rebind). Each
redirect is checked the same way; the body is bounded.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from hangar.builder.egress import EgressPolicy
from hangar.errors import BuildFailed

MAX_REDIRECTS = 5
MAX_SOURCE_BYTES = 512 * 1024 * 1024
TIMEOUT_S = 60.0
REFUSED_HINT = (
    "builds fetch only from public addresses: put the file in the project folder "
    "and COPY it, or download it in a RUN step"
)
# host, port -> the addresses it resolves to
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class Fetched:
    path: Path
    last_modified: str | None


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BuildFailed(f"ADD source host {host!r} cannot be resolved: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def fetch(
    url: str,
    dest: Path,
    policy: EgressPolicy,
    resolver: Resolver = resolve,
    transport: httpx.BaseTransport | None = None,
) -> Fetched:
    """Download `url` into `dest`; BuildFailed if it, or a redirect, is not allowed."""
    try:
        with httpx.Client(transport=transport, trust_env=False, timeout=TIMEOUT_S) as client:
            return _follow(client, url, dest, policy, resolver)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise BuildFailed(f"ADD {url} failed: {exc}", hint="check the address") from exc


def _follow(
    client: httpx.Client, url: str, dest: Path, policy: EgressPolicy, resolver: Resolver
) -> Fetched:
    current = httpx.URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        request = _pinned_request(client, current, url, policy, resolver)
        response = client.send(request, stream=True)
        try:
            if not response.is_redirect:
                return _save(response, url, dest)
            current = current.join(response.headers["location"])
        finally:
            response.close()
    raise BuildFailed(f"ADD {url}: more than {MAX_REDIRECTS} redirects")


def _pinned_request(
    client: httpx.Client, url: httpx.URL, original: str, policy: EgressPolicy, resolver: Resolver
) -> httpx.Request:
    if url.scheme not in ("http", "https") or not url.host:
        raise BuildFailed(f"ADD {original}: {url} is not an http or https address")
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = resolver(url.host, port)
    refused = [a for a in addresses if not policy.allows(a)]
    if refused or not addresses:
        where = refused[0] if refused else "no address"
        named = url.host if where == url.host else f"{url.host} resolves to {where}, which"
        raise BuildFailed(
            f"ADD {original} refused: {named} is this host or a private network",
            hint=REFUSED_HINT,
        )
    headers = {"Host": url.netloc.decode("ascii")}
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return client.build_request(
        "GET", url.copy_with(host=addresses[0]), headers=headers, extensions=extensions
    )


def _save(response: httpx.Response, original: str, dest: Path) -> Fetched:
    if response.status_code != 200:
        raise BuildFailed(f"ADD {original}: the server answered {response.status_code}")
    size = 0
    with dest.open("wb") as out:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_SOURCE_BYTES:
                raise BuildFailed(f"ADD {original}: larger than {MAX_SOURCE_BYTES >> 20} MiB")
            out.write(chunk)
    return Fetched(dest, response.headers.get("last-modified"))
