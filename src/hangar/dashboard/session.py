"""Who is looking: a login session in an HttpOnly cookie, and its CSRF token.

The cookie holds an ordinary login token (control/tokens.py): the same
accounts, expiry and revocation as the CLI's. The CSRF token is an HMAC of
the session secret, so only a page the server rendered for that session
knows it; every state-changing request must carry it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Depends, Request, Response

from hangar.api.deps import platform
from hangar.control.platform import Platform
from hangar.control.tokens import SESSION, authenticate
from hangar.errors import HangarError, Unauthorized
from hangar.store.models import User

COOKIE = "hangar_session"
SECURE_COOKIE = "__Host-hangar_session"  # over HTTPS: no other host can set it
CSRF_FIELD, CSRF_HEADER = "csrf", "x-csrf-token"
_CSRF_CONTEXT = b"hangar dashboard csrf v1"


class LoginNeeded(HangarError):
    """No valid session: the visitor goes to the login page, then back to `after`."""

    status = 401
    code = "login_needed"

    def __init__(self, message: str, after: str = "/apps") -> None:
        super().__init__(message, hint="log in again")
        self.after = after


@dataclass(frozen=True)
class Visitor:
    user: User
    csrf: str


def visitor(request: Request, p: Platform = Depends(platform)) -> Visitor:
    """The logged-in user of this request, or LoginNeeded."""
    return visitor_of(request, p)


def visitor_of(request: Request, p: Platform) -> Visitor:
    """The logged-in user of `request` now (live streams ask again every round)."""
    secret = request.cookies.get(cookie_name(request), "")
    after = request.url.path
    if not secret:
        raise LoginNeeded("log in to see this page", after)
    with p.db.session() as session:
        try:
            token = authenticate(session, secret)
        except Unauthorized:
            raise LoginNeeded("your session has ended: log in again", after) from None
        if token.kind != SESSION:
            raise LoginNeeded("log in to see this page", after)
        session.expunge(token.user)
        return Visitor(token.user, csrf_token(secret))


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def start_session(request: Request, response: Response, secret: str) -> None:
    """The session cookie: for this host only, never to scripts, not on cross-site posts."""
    response.set_cookie(
        cookie_name(request),
        secret,
        httponly=True,
        samesite="lax",
        secure=served_over_https(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(cookie_name(request), path="/", secure=served_over_https(request))


def cookie_name(request: Request) -> str:
    return SECURE_COOKIE if served_over_https(request) else COOKIE


def login_url(after: str) -> str:
    return f"/login?next={quote(after, safe='/')}"


def served_over_https(request: Request) -> bool:
    return request.url.scheme == "https"
