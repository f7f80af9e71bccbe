"""Newline-delimited JSON streams, with blank keep-alive lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse

NDJSON = "application/x-ndjson"


def ndjson(items: Iterable[dict[str, Any] | None]) -> StreamingResponse:
    return StreamingResponse(_lines(items), media_type=NDJSON)


def _lines(items: Iterable[dict[str, Any] | None]) -> Iterator[bytes]:
    for item in items:
        yield b"\n" if item is None else json.dumps(item).encode() + b"\n"
