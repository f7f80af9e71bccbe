"""The dashboard's pages: log in and out, the apps of an org, one app."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hangar.api.deps import platform
from hangar.control import accounts, tokens
from hangar.control.app_summaries import summarize
from hangar.control.apps import list_apps
from hangar.control.orgs import find_org, personal_org, user_orgs
from hangar.control.platform import Platform
from hangar.dashboard.app_view import load_app_page, render_panels
from hangar.dashboard.forms import check_origin, checked_form
from hangar.dashboard.notices import take_notice
from hangar.dashboard.session import (
    Visitor,
    cookie_name,
    end_session,
    start_session,
    visitor,
)
from hangar.dashboard.templating import fragment, render
from hangar.errors import Forbidden, HangarError, TooManyAttempts
from hangar.store.models import Org, User

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/apps", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/apps") -> Response:
    return render(request, "login.html", next=safe_next(next), email="", error="", hint="")


@router.post("/login")
async def login(request: Request, p: Platform = Depends(platform)) -> Response:
    """The same check, rate limits and session tokens as `hangar auth login`."""
    check_origin(request)
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    after = safe_next(str(form.get("next", "/apps")))
    address = request.client.host if request.client else "unknown"
    try:
        secret = await run_in_threadpool(_log_in, p, email, password, address)
    except HangarError as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        return render(
            request, "login.html", status, next=after, email=email, error=exc.message, hint=""
        )
    response = RedirectResponse(after, status_code=303)
    start_session(request, response, secret)
    return response


@router.get("/signup")
def signup_page(request: Request, invite: str = "", p: Platform = Depends(platform)) -> Response:
    return _signup_form(request, p, invite=invite)


@router.post("/signup")
async def signup(request: Request, p: Platform = Depends(platform)) -> Response:
    """The same rules as `hangar auth signup`: an invite code when the server asks one."""
    check_origin(request)
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    invite = str(form.get("invite", "")).strip()
    try:
        secret = await run_in_threadpool(_sign_up, p, email, password, invite)
    except HangarError as exc:
        return _signup_form(request, p, exc.status, email, invite, exc.message, exc.hint)
    response = RedirectResponse("/apps", status_code=303)
    start_session(request, response, secret)
    return response


def _signup_form(
    request: Request,
    p: Platform,
    status: int = 200,
    email: str = "",
    invite: str = "",
    error: str = "",
    hint: str = "",
) -> Response:
    invite_only = p.settings.signup_policy == accounts.INVITE
    context = {"email": email, "invite": invite, "error": error, "hint": hint}
    return render(request, "signup.html", status, invite_only=invite_only, **context)


def _sign_up(p: Platform, email: str, password: str, invite: str) -> str:
    with p.db.session() as session:
        return accounts.signup(session, email, password, p.settings.signup_policy, invite or None)


def _log_in(p: Platform, email: str, password: str, address: str) -> str:
    with p.db.session() as session:
        return accounts.login(session, email, password, address, p.login_limits)


@router.post("/logout")
async def logout(
    request: Request, who: Visitor = Depends(visitor), p: Platform = Depends(platform)
) -> Response:
    await checked_form(request, who)
    with p.db.session() as session:
        tokens.revoke_secret(session, request.cookies.get(cookie_name(request), ""))
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    return response


@router.get("/apps")
def apps_page(
    request: Request,
    org: str = "",
    who: Visitor = Depends(visitor),
    p: Platform = Depends(platform),
) -> Response:
    try:
        current, orgs = _org_choice(p, who.user, org)
        rows = app_rows(p, who.user, current)
    except HangarError as exc:
        return error_page(request, who, exc)
    return _with_notice(
        request, "apps.html", visitor=who, orgs=orgs, current_org=current, rows=rows
    )


def _org_choice(p: Platform, user: User, org: str) -> tuple[str, list[tuple[Org, str]]]:
    with p.db.session() as session:
        current = find_org(session, org, user).name if org else personal_org(session, user).name
        orgs = user_orgs(session, user)
        session.expunge_all()
        return current, list(orgs)


def app_rows(p: Platform, user: User, org: str) -> str:
    """The rows of the apps table of `org` (the apps page and its live stream)."""
    with p.db.session() as session:
        summaries = [summarize(session, p, app) for app in list_apps(session, user, org)]
    return fragment("_apps_rows.html", apps=summaries)


@router.get("/apps/{name}")
def app_page(
    request: Request,
    name: str,
    machine: str = "",
    who: Visitor = Depends(visitor),
    p: Platform = Depends(platform),
) -> Response:
    try:
        page = load_app_page(p, who.user, name, new_view(), who.csrf, machine)
    except Forbidden as exc:  # to someone outside its org, the app has no page
        return error_page(request, who, exc, status=404)
    except HangarError as exc:
        return error_page(request, who, exc)
    return _with_notice(
        request,
        "app.html",
        visitor=who,
        page=page,
        panels=render_panels(page),
    )


def _with_notice(request: Request, template: str, **context: Any) -> Response:
    response = Response()
    notice = take_notice(request, response)
    page = render(request, template, notice=notice, **context)
    for header in response.headers.getlist("set-cookie"):
        page.headers.append("set-cookie", header)
    return page


def error_page(
    request: Request, who: Visitor | None, exc: HangarError, status: int | None = None
) -> Response:
    return render(
        request,
        "error.html",
        status or exc.status,
        visitor=who,
        message=exc.message,
        hint=exc.hint,
    )


def new_view() -> str:
    return secrets.token_urlsafe(12)


def safe_next(after: str) -> str:
    """Where to go after logging in: a path of this server, never another site."""
    plain = all(c.isprintable() and not c.isspace() and c != "\\" for c in after)
    if plain and after.startswith("/") and not after.startswith("//"):
        return after
    return "/apps"
