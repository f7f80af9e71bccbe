"""The API answers only to its own host names: a web page cannot reach it by DNS rebinding.

A page in a browser on the server's host can make its own name resolve to
127.0.0.1 and then call the API from script; the browser then sends that name
as Host. Any Host not in the allow-list (`hangar server --api-host`, default
127.0.0.1 and localhost, with any port) gets 400 before routing.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


def host_name(header: str) -> str:
    """`Host` without its port, lower case; IPv6 literals keep their brackets."""
    value = header.strip().lower()
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostCheck:
    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._host(scope) not in self.allowed:
            await _refuse(send, sorted(self.allowed))
            return
        await self.app(scope, receive, send)

    def _host(self, scope: Scope) -> str:
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        return host_name(hosts[0].decode("latin-1")) if len(hosts) == 1 else ""


async def _refuse(send: Send, allowed: list[str]) -> None:
    body = json.dumps(
        {
            "error": "bad_host",
            "message": "this API does not answer to that host name",
            "hint": f"call it as one of {', '.join(allowed)}, or start the server with "
            "--api-host NAME",
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
