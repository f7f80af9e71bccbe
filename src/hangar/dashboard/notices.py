"""A message for the next page: what an action did, or why it did nothing.

Actions answer with a redirect (post/redirect/get); the message rides along
in a short-lived cookie and is shown, escaped, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, unquote

from fastapi import Request, Response

NOTICE_COOKIE = "hangar_notice"
NOTICE_TTL_S = 60
MAX_NOTICE_CHARS = 600


@dataclass(frozen=True)
class Notice:
    text: str
    hint: str = ""
    error: bool = False


def leave_notice(response: Response, notice: Notice) -> None:
    text, hint = notice.text[:MAX_NOTICE_CHARS], notice.hint[:MAX_NOTICE_CHARS]
    body = json.dumps([text, hint, notice.error])
    response.set_cookie(
        NOTICE_COOKIE, quote(body), max_age=NOTICE_TTL_S, httponly=True, samesite="lax", path="/"
    )


def take_notice(request: Request, response: Response) -> Notice | None:
    """The waiting notice, if any (and it is cleared)."""
    raw = request.cookies.get(NOTICE_COOKIE)
    if raw is None:
        return None
    response.delete_cookie(NOTICE_COOKIE, path="/")
    try:
        text, hint, error = json.loads(unquote(raw))
        return Notice(str(text), str(hint), bool(error))
    except (ValueError, TypeError):
        return None
