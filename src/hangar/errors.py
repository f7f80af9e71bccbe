"""One exception hierarchy for Hangar.

Every error a user can see carries what went wrong (`message`) and what to do
next (`hint`). Adapters translate library errors into these with
``raise X from exc``; the API maps `status` to the HTTP response.
"""

from __future__ import annotations


class HangarError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class InvalidInput(HangarError):
    status = 422
    code = "invalid"


class NotFound(HangarError):
    status = 404
    code = "not_found"


class Conflict(HangarError):
    status = 409
    code = "conflict"


class ConcurrentChange(Conflict):
    """Another request wrote the same unique row in the same instant (the store said so)."""


class Unauthorized(HangarError):
    status = 401
    code = "unauthorized"


class Forbidden(HangarError):
    status = 403
    code = "forbidden"


class TooManyAttempts(HangarError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, hint: str = "", retry_after_s: float = 1.0) -> None:
        super().__init__(message, hint)
        self.retry_after_s = retry_after_s


class QuotaExceeded(HangarError):
    status = 413
    code = "quota_exceeded"


class BuildFailed(HangarError):
    status = 422
    code = "build_failed"


class HealthCheckFailed(HangarError):
    status = 502
    code = "health_check_failed"


class RuntimeFailure(HangarError):
    """The Docker Engine refused or failed an operation."""

    status = 502
    code = "runtime_failure"


class EdgeFailure(HangarError):
    """HAProxy refused a command or could not be started."""

    status = 502
    code = "edge_failure"


class CertificateFailed(HangarError):
    """An ACME order failed: the directory refused it, or a challenge did not validate."""

    status = 502
    code = "certificate_failed"


class StoreUnavailable(HangarError):
    """The state store was busy (SQLite locked) or unreachable; nothing was changed."""

    status = 503
    code = "store_unavailable"
