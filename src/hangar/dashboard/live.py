"""Server-sent events that keep the pages true without a reload.

The apps table and an app's panels are rendered again every POLL_S and sent
only when they changed; an app's logs are followed line by line. Every round
checks the session and the app again: a visitor who logs out, or is removed
from the org, stops receiving at once (a `gone` event, then the end).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator

from fastapi import APIRouter, Depends, Request
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from hangar.api.deps import platform
from hangar.api.streams import OwnedStream
from hangar.control.apps import find_app
from hangar.control.logs import follow_logs
from hangar.control.platform import Platform
from hangar.dashboard.app_view import load_app_page, render_panels
from hangar.dashboard.pages import app_rows
from hangar.dashboard.session import Visitor, visitor_of
from hangar.errors import HangarError, InvalidInput
from hangar.ports import LogLine

router = APIRouter(include_in_schema=False)
EVENT_STREAM = "text/event-stream"
POLL_S = 1.0
KEEP_ALIVE_ROUNDS = 10  # a comment line this often keeps proxies and the client honest
LOG_TAIL = 50
_VIEW = re.compile(r"[A-Za-z0-9_-]{8,32}")


@router.get("/apps/live")
def apps_live(request: Request, org: str, p: Platform = Depends(platform)) -> OwnedStream:
    def render(who: Visitor) -> dict[str, str]:
        return {"apps": app_rows(p, who.user, org)}

    return _live(request, p, render)


@router.get("/apps/{name}/live")
def app_live(
    request: Request, name: str, view: str, machine: str = "", p: Platform = Depends(platform)
) -> OwnedStream:
    if not _VIEW.fullmatch(view):
        raise InvalidInput("this page's live updates need its view id", hint="reload the page")

    def render(who: Visitor) -> dict[str, str]:
        return render_panels(load_app_page(p, who.user, name, view, who.csrf, machine))

    return _live(request, p, render)


@router.get("/apps/{name}/logs/live")
def logs_live(
    request: Request, name: str, machine: str = "", p: Platform = Depends(platform)
) -> OwnedStream:
    who = visitor_of(request, p)
    follow = follow_logs(p, who.user, name, machine or None, LOG_TAIL)

    def lines() -> Iterator[bytes]:
        for line in follow:
            if line is not None:
                yield event("line", _log_line(line))
                continue
            try:  # nothing new for a while: still allowed?
                with p.db.session() as session:
                    find_app(session, name, visitor_of(request, p).user)
            except HangarError as exc:
                yield event("gone", str(escape(exc.message)))
                return
            yield KEEP_ALIVE

    return OwnedStream(lines(), EVENT_STREAM, on_end=follow.close)


def _live(
    request: Request, p: Platform, render: Callable[[Visitor], dict[str, str]]
) -> OwnedStream:
    first = render(visitor_of(request, p))  # a refusal comes before the stream starts
    return OwnedStream(_changes(request, p, render, first), EVENT_STREAM)


async def _changes(
    request: Request,
    p: Platform,
    render: Callable[[Visitor], dict[str, str]],
    first: dict[str, str],
) -> AsyncIterator[bytes]:
    for name, html in first.items():
        yield event(name, html)
    sent, rounds = first, 0
    while not p.background.stopping:
        await asyncio.sleep(POLL_S)
        try:
            fragments = await run_in_threadpool(lambda: render(visitor_of(request, p)))
        except HangarError as exc:  # logged out, removed, the app destroyed
            yield event("gone", str(escape(exc.message)))
            return
        for name, html in fragments.items():
            if sent.get(name) != html:
                yield event(name, html)
        sent = fragments
        rounds += 1
        if rounds % KEEP_ALIVE_ROUNDS == 0:
            yield KEEP_ALIVE


KEEP_ALIVE = b": keep-alive\n\n"


def event(name: str, html: str) -> bytes:
    data = "".join(f"data: {line}\n" for line in (html.splitlines() or [""]))
    return f"event: {name}\n{data}\n".encode()


def _log_line(line: LogLine) -> str:
    return (
        f'<span class="line"><span class="m">{escape(line.machine_id)}</span> '
        f"{escape(line.timestamp)} {escape(line.message)}</span>"
    )
