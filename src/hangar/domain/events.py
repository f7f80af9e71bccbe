"""What a deploy or a machine operation reports as it goes: one schema for server and client.

The server streams these as JSON lines (api/streams.py); the client reads them
back into the same model (client/api_client.py), so neither side matches on
strings the other might spell differently. Unknown fields from a newer server
are ignored; the last event of a stream is `done` or `error`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

EventKind = Literal["phase", "build", "release", "machine", "warning", "prune", "done", "error"]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    type: EventKind
    message: str = ""
    hint: str | None = None
    phase: str | None = None  # "build" or "machines" on the phases that start one
    version: int | None = None  # on `release`: the release created
    url: str | None = None  # on `done` of a deploy: where the app answers
    status: str | None = None  # on `done`/`error` of a deploy: the release's status
    images: list[str] | None = None  # on `prune`: the images removed
    layers: list[str] | None = None  # on `prune`: the build layers freed

    @property
    def final(self) -> bool:
        return self.type in ("done", "error")

    def wire(self) -> dict[str, Any]:
        """The JSON object sent to clients (fields without a value left out)."""
        return self.model_dump(mode="json", exclude_none=True)
