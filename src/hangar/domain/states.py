"""The states an app, a release and a machine go through."""

from __future__ import annotations

from enum import StrEnum


class AppStatus(StrEnum):
    PENDING = "pending"  # created, never deployed
    DEPLOYED = "deployed"
    SUSPENDED = "suspended"


class ReleaseStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    ROLLED_BACK = "rolled back"  # failed, and the machines it moved were put back
    INTERRUPTED = "interrupted"  # the server stopped while it ran


class MachineState(StrEnum):
    CREATED = "created"
    STARTED = "started"
    STOPPED = "stopped"
    REPLACING = "replacing"
    FAILED = "failed"


class CheckStatus(StrEnum):
    PASSING = "passing"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
