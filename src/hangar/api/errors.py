"""HangarError and request validation errors as JSON with a hint."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hangar.errors import HangarError

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HangarError, _hangar_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


def _hangar_error(_request: Request, exc: HangarError) -> JSONResponse:
    body = {"error": exc.code, "message": exc.message, "hint": exc.hint}
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


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
