"""The Jinja2 environment of the dashboard's pages, with its filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hangar.domain.clock import as_utc

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def when(moment: datetime | None) -> str:
    """A moment in UTC to the second: stable, so a live panel changes only when its data does."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


def iso(moment: datetime | None) -> str:
    return as_utc(moment).isoformat(timespec="seconds") if moment else ""


templates.env.filters["when"] = when
templates.env.filters["iso"] = iso


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def fragment(name: str, **context: Any) -> str:
    """A part of a page, as the live streams send it."""
    return templates.get_template(name).render(context)
