"""The server's background work, with an owner: every thread it starts, every open follow.

Deploys, operations and log follows run in threads that outlive the request
that started them. They are started here, so the server can say what still
runs and stop it: open follows (and the engine streams they read) are closed
at once on shutdown; deploys and operations are given a bounded time to end,
and what is still running then is logged (the next start reconciles it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Closable(Protocol):
    def close(self) -> None: ...


class Background:
    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._open: set[Closable] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self, name: str, work: Callable[[], None]) -> threading.Thread:
        """Run `work` in a thread of its own, known here until it returns."""
        thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def every(self, name: str, interval_s: float, work: Callable[[], object]) -> threading.Thread:
        """Run `work` every `interval_s` until shutdown; a failed round is logged, not fatal."""

        def rounds() -> None:
            while not self._stopping.wait(interval_s):
                try:
                    work()
                except Exception:
                    log.exception("background round %s failed", name)

        return self.start(name, rounds)

    @property
    def stopping(self) -> bool:
        """Shutdown has begun: long-lived loops end now."""
        return self._stopping.is_set()

    def hold(self, stream: Closable) -> None:
        """Keep `stream` to close at shutdown, until it is released."""
        with self._lock:
            self._open.add(stream)

    def release(self, stream: Closable) -> None:
        with self._lock:
            self._open.discard(stream)

    def running(self) -> list[str]:
        """The names of the threads started here that have not returned."""
        with self._lock:
            return sorted(thread.name for thread in self._threads)

    def held(self) -> int:
        with self._lock:
            return len(self._open)

    def close_streams(self) -> None:
        """Close every open follow, so no client holds the server up."""
        with self._lock:
            streams = list(self._open)
        for stream in streams:
            stream.close()

    def shutdown(self, timeout_s: float) -> list[str]:
        """Close the streams and wait up to `timeout_s` for the threads; those still running."""
        self._stopping.set()
        self.close_streams()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = self.running()
        if left:
            log.warning("stopping with background work still running: %s", ", ".join(left))
        return left

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
