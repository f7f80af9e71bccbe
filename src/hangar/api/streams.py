"""Newline-delimited JSON streams, with blank keep-alive lines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from hangar.domain.events import Event

NDJSON = "application/x-ndjson"


Item = dict[str, Any] | Event | None


def ndjson(items: Iterable[Item], on_end: Callable[[], None] | None = None) -> StreamingResponse:
    """Stream `items`; `on_end` runs however the response ends (done, client gone, shutdown)."""
    return OwnedStream(_lines(items), NDJSON, on_end)


class OwnedStream(StreamingResponse):
    """A streaming response that runs `on_end` however it ends."""

    def __init__(
        self,
        content: Iterator[bytes] | AsyncIterator[bytes],
        media_type: str,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(content, media_type=media_type, headers={"Cache-Control": "no-store"})
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._on_end is not None:
                self._on_end()


def _lines(items: Iterable[Item]) -> Iterator[bytes]:
    for item in items:
        if item is None:
            yield b"\n"
        else:
            body = item.wire() if isinstance(item, Event) else item
            yield json.dumps(body).encode() + b"\n"
