"""The error pages HAProxy serves itself: 404 (unknown host) and 503 (no machine
ready, or every machine at its hard limit)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hangar.edge.config import NOT_FOUND_PAGE, UNAVAILABLE_PAGE
from hangar.edge.files import write_atomic

# By whether the app has a usable machine (nbsrv > 0): 0 or 1.
UNAVAILABLE_TITLES = {0: "App has no healthy machine", 1: "App is at capacity"}
UNAVAILABLE_REASONS = {
    0: "This app exists but none of its machines is ready to answer.",
    1: "Every machine of this app is at its hard limit of requests, and this one "
    "waited too long for a turn. Try again in a moment.",
}


def write_pages(pages_dir: Path) -> None:
    """Put the pages (and the 503 page's maps) where the rendered haproxy.cfg expects them."""
    write_atomic(pages_dir / NOT_FOUND_PAGE, _template("404.html"))
    titles, reasons = pages_dir / "503-titles.map", pages_dir / "503-reasons.map"
    write_atomic(titles, _map(UNAVAILABLE_TITLES))
    write_atomic(reasons, _map(UNAVAILABLE_REASONS))
    page = (
        _template(UNAVAILABLE_PAGE)
        .replace("{{TITLE}}", f"%[nbsrv,bool,map_int({titles})]")
        .replace("{{WHY}}", f"%[nbsrv,bool,map_int({reasons})]")
    )
    write_atomic(pages_dir / UNAVAILABLE_PAGE, page)


def _map(values: dict[int, str]) -> str:
    return "".join(f"{key} {text}\n" for key, text in values.items())


def _template(name: str) -> str:
    return (resources.files("hangar.edge") / "pages" / name).read_text(encoding="utf-8")
