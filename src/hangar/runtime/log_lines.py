"""Turn Docker's timestamped log stream into LogLines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hangar.ports import LogLine


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Reassemble complete lines from arbitrary byte chunks (a last partial line too)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield _decode(line)
    if pending:
        yield _decode(pending)


def to_log_line(machine_id: str, line: str) -> LogLine:
    """Split Docker's RFC 3339 prefix ("2024-05-01T12:00:00.123456789Z message")."""
    timestamp, _, message = line.partition(" ")
    return LogLine(machine_id=machine_id, timestamp=timestamp, message=message)


def _decode(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").rstrip("\r")
