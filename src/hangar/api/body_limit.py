"""Request bodies are bounded: a JSON body over MAX_JSON_BYTES gets 413 before it is parsed.

Uploads are exempt here: their route streams the body to disk under its own,
larger limit. A declared Content-Length over the limit is refused before a
byte is read; a chunked body is counted as it arrives.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_BYTES = 2 * 1024 * 1024
_STREAMED = re.compile(r"^/v1/apps/[^/]+/uploads$")
HINT = "send less at once (secrets in several calls, a smaller fly.toml)"


def too_large_body() -> dict[str, Any]:
    return {
        "error": "too_large",
        "message": f"the request body is larger than {MAX_JSON_BYTES // 1024 // 1024} MiB",
        "hint": HINT,
    }


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _STREAMED.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self._declared(scope) > self.max_bytes:
            await _refuse(send)
            return
        await self.app(scope, self._counting(receive), send)

    def _declared(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, too_large_body()["message"])
            return message

        return counted


async def _refuse(send: Send) -> None:
    body = json.dumps(too_large_body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
