"""Follow the Docker Engine's build stream: lines to the user, the outcome to the builder."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from hangar.errors import BuildFailed

TAIL_LINES = 30
FIX_HINT = "fix the Dockerfile and deploy again"


class BuildLog:
    """Turns decoded build chunks into whole lines, and remembers what a failure needs.

    Keeps the current step ("Step 2/5 : RUN make"), the engine's error message,
    the image id it announces, and the last `keep` lines.
    """

    def __init__(self, on_line: Callable[[str], None], keep: int = TAIL_LINES) -> None:
        self._on_line = on_line
        self._pending = ""
        self.tail: deque[str] = deque(maxlen=keep)
        self.step: str | None = None
        self.error: str | None = None
        self.image_id: str | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        """Take one decoded JSON message of the build stream."""
        if "stream" in chunk:
            self._take_text(str(chunk["stream"]))
        elif "status" in chunk:
            self._emit(str(chunk["status"]))
        if "aux" in chunk and isinstance(chunk["aux"], dict):
            self.image_id = chunk["aux"].get("ID", self.image_id)
        if "error" in chunk or "errorDetail" in chunk:
            self.flush()
            self.error = _error_message(chunk)
            self._emit(self.error)

    def flush(self) -> None:
        """Emit a last line that had no newline."""
        if self._pending:
            line, self._pending = self._pending, ""
            self._emit(line)

    def failure(self, tag: str, reason: str) -> BuildFailed:
        """A BuildFailed naming the failing step, with the last lines of the log."""
        self.flush()
        where = f" at {self.step}" if self.step else ""
        log = "\n".join(self.tail)
        message = f"build of {tag} failed{where}: {reason.strip()}"
        if log:
            message += f"\n--- last {len(self.tail)} lines of the build log ---\n{log}"
        return BuildFailed(message, hint=FIX_HINT)

    def _take_text(self, text: str) -> None:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self._emit(line.rstrip("\r"))

    def _emit(self, line: str) -> None:
        if line.startswith("Step "):
            self.step = line
        self.tail.append(line)
        self._on_line(line)


def _error_message(chunk: dict[str, Any]) -> str:
    detail = chunk.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    return str(chunk.get("error") or "the Docker Engine reported an unknown build error")
