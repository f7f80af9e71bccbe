"""HangarError and request validation errors as JSON with a hint."""

from __future__ import annotations

import logging
import math
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hangar.api.body_limit import too_large_body
from hangar.errors import HangarError, TooManyAttempts

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HangarError, _hangar_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


def _hangar_error(_request: Request, exc: HangarError) -> JSONResponse:
    body = {"error": exc.code, "message": exc.message, "hint": exc.hint}
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own answers (no such route, wrong method, body too large) in Hangar's shape."""
    if exc.status_code == 413:
        body = too_large_body()
    elif exc.status_code == 404:
        body = {
            "error": "not_found",
            "message": f"no such API route: {request.method} {request.url.path}",
            "hint": "the routes are listed at /openapi.json; is the CLI as new as the server?",
        }
    else:
        body = {"error": "http", "message": str(exc.detail), "hint": "see /openapi.json"}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        f"{'.'.join(str(p) for p in err['loc'] if p != 'body')}: {err['msg']}"
        for err in exc.errors()
    ]
    body = {
        "error": "invalid",
        "message": "the request is not valid: " + "; ".join(problems),
        "hint": "check the values sent",
    }
    return JSONResponse(body, status_code=422)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged in full; the client learns nothing of the server (no paths, no values)."""
    incident = uuid.uuid4().hex[:12]
    log.error(
        "unexpected error %s in %s %s", incident, request.method, request.url.path, exc_info=exc
    )
    body = {
        "error": "internal",
        "message": f"internal error {incident}",
        "hint": f"this is a bug; the server log has the details under {incident}",
    }
    return JSONResponse(body, status_code=500)
