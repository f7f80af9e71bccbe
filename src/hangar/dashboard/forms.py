"""State-changing requests from pages: the CSRF check and forms that act once.

Every form the server renders carries the session's CSRF token and a one-time
`once` value. A form posted twice (a double click, a reload of the answer)
finds its `once` spent and does nothing the second time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from fastapi import Request

from hangar.dashboard.session import CSRF_FIELD, CSRF_HEADER, Visitor
from hangar.errors import Conflict, Forbidden

ONCE_FIELD = "once"
ONCE_KEPT = 10_000  # spent values remembered (the oldest are forgotten first)
ONCE_TTL_S = 24 * 3600.0


class Spent(Conflict):
    code = "already_done"


class OnceLedger:
    """The `once` values of forms already acted on (this process, bounded)."""

    def __init__(self) -> None:
        self._spent: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def new() -> str:
        return secrets.token_urlsafe(16)

    @contextmanager
    def acting(self, once: str, action: str) -> Iterator[None]:
        """Do `action` for the form `once` came with, once: Spent if it was (or is
        being) done already from that form.

        A refused action (bad input, a conflict) frees the form, so the same form,
        corrected, can be sent again.
        """
        if not once:
            raise Spent("this form has no `once` field", hint="reload the page and use its form")
        value = f"{once}|{action}"
        self._reserve(value)
        try:
            yield
        except BaseException:
            with self._lock:
                self._spent.pop(value, None)
            raise

    def _reserve(self, value: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._forget_old(now)
            if value in self._spent:
                raise Spent(
                    "this form was already sent: it was done once, not again",
                    hint="the page shows the result; to do it again, use the form anew",
                )
            self._spent[value] = now

    def _forget_old(self, now: float) -> None:
        while self._spent and (
            len(self._spent) >= ONCE_KEPT or next(iter(self._spent.values())) < now - ONCE_TTL_S
        ):
            self._spent.popitem(last=False)


async def checked_form(request: Request, who: Visitor) -> dict[str, str]:
    """The posted fields, after the origin and CSRF checks."""
    check_origin(request)
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), who.csrf.encode()):
        raise Forbidden(
            "this form is not from your session (CSRF check failed)",
            hint="reload the page and try again",
        )
    return form


def check_origin(request: Request) -> None:
    """A browser names the page a post comes from: it must be this server."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "").lower()
    if origin == "null" or urlsplit(origin).netloc.lower() != host:
        raise Forbidden("this form was sent from another site", hint="use the dashboard itself")
