"""Newline-delimited JSON streams, with blank keep-alive lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

NDJSON = "application/x-ndjson"


def ndjson(
    items: Iterable[dict[str, Any] | None], on_end: Callable[[], None] | None = None
) -> StreamingResponse:
    """Stream `items`; `on_end` runs however the response ends (done, client gone, shutdown)."""
    if on_end is None:
        return StreamingResponse(_lines(items), media_type=NDJSON)
    return _OwnedStream(_lines(items), on_end)


class _OwnedStream(StreamingResponse):
    def __init__(self, content: Iterator[bytes], on_end: Callable[[], None]) -> None:
        super().__init__(content, media_type=NDJSON)
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_end()


def _lines(items: Iterable[dict[str, Any] | None]) -> Iterator[bytes]:
    for item in items:
        yield b"\n" if item is None else json.dumps(item).encode() + b"\n"
