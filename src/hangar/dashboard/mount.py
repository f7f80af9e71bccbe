"""The dashboard's place in the API app: its routes, static files and login redirects."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hangar.dashboard import actions, live, pages
from hangar.dashboard.forms import OnceLedger
from hangar.dashboard.page_headers import PageHeaders
from hangar.dashboard.session import LoginNeeded, login_url
from hangar.dashboard.templating import HERE


def install_dashboard(api: FastAPI) -> None:
    api.state.once_ledger = OnceLedger()
    api.add_middleware(PageHeaders)
    api.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (live, pages, actions):  # /apps/live before /apps/{name}
        api.include_router(module.router)
    api.add_exception_handler(LoginNeeded, _to_login)  # type: ignore[arg-type]


def _to_login(request: Request, exc: LoginNeeded) -> Response:
    """A page goes to the login form and back; a live stream just ends (401)."""
    if "text/event-stream" in request.headers.get("accept", ""):
        body = {"error": exc.code, "message": exc.message, "hint": exc.hint}
        return JSONResponse(body, status_code=401)
    return RedirectResponse(login_url(exc.after), status_code=303)
