"""A deployment's event log: appended by the deploy thread, read live by clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from hangar.domain.events import Event, EventKind


class EventLog:
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._closed = False
        self._changed = threading.Condition()

    def emit(self, kind: EventKind, message: str = "", **fields: Any) -> None:
        event = Event(type=kind, message=message, **fields)
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def so_far(self) -> list[Event]:
        """The events emitted until now."""
        with self._changed:
            return list(self._events)

    def follow(self, poll_s: float = 1.0) -> Iterator[Event | None]:
        """Every event from the first, then new ones as they come, until closed.

        Yields None when nothing happened for `poll_s`, so a streaming response
        can send a keep-alive and notice a client that went away.
        """
        index = 0
        while True:
            with self._changed:
                if index >= len(self._events) and not self._closed:
                    self._changed.wait(poll_s)
                batch = self._events[index:]
                finished = self._closed and index + len(batch) >= len(self._events)
            index += len(batch)
            if not batch and not finished:
                yield None
            yield from batch
            if finished:
                return
