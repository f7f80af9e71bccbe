"""The error pages HAProxy serves itself: 404 (unknown host) and 503 (no machine)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hangar.edge.config import NO_MACHINE_PAGE, NOT_FOUND_PAGE
from hangar.edge.files import write_atomic


def write_pages(pages_dir: Path) -> None:
    """Put both pages where the rendered haproxy.cfg expects them."""
    no_machine = http_response(503, "Service Unavailable", _template("503.html"))
    write_atomic(pages_dir / NOT_FOUND_PAGE, _template("404.html"))
    write_atomic(pages_dir / NO_MACHINE_PAGE, no_machine)


def http_response(status: int, reason: str, html: str) -> bytes:
    """A complete HTTP/1.1 response with `html` as body, as errorfile wants it."""
    body = html.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


def _template(name: str) -> str:
    return (resources.files("hangar.edge") / "pages" / name).read_text(encoding="utf-8")
