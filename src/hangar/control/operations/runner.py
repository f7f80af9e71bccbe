"""A change to an app's machines (scale, restart, clone) run in the background.

The app's lease is taken before the operation starts, so it never runs during
a deploy or another change (Conflict at once), and held until it ends. Its
events can be followed live, like a deploy's; the last one is `done` or `error`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial

from hangar.control import leases
from hangar.control.events import EventLog
from hangar.control.machines.lifecycle import MachineOps
from hangar.control.platform import Platform
from hangar.domain.events import Event
from hangar.errors import Conflict, HangarError

log = logging.getLogger(__name__)

# Does the work with the operation's MachineOps; returns the `done` message.
Work = Callable[[MachineOps], str]


def start_operation(platform: Platform, app: str, kind: str, work: Work) -> EventLog:
    """Take the app's lease (or raise Conflict), then run `work` in a thread."""
    holder = f"{kind}-{uuid.uuid4().hex[:12]}"
    try:
        leases.acquire(platform.db, app, holder, kind)
    except Conflict as exc:
        raise Conflict(exc.message, hint=f"wait for it to finish, then {kind} again") from exc
    events = EventLog()
    platform.activities.record(app, kind, events)
    platform.background.start(f"{holder}-{app}", partial(_run, platform, app, holder, events, work))
    return events


def run_operation(platform: Platform, app: str, kind: str, work: Work) -> EventLog:
    """Start an operation and wait for its end (tests use this)."""
    events = start_operation(platform, app, kind, work)
    for _ in events.follow():
        pass
    return events


def outcome(events: EventLog) -> Event:
    """The last event of a finished operation: `done` or `error`."""
    told = [event for event in events.follow() if event is not None]
    return told[-1]


def _run(platform: Platform, app: str, holder: str, events: EventLog, work: Work) -> None:
    try:
        with leases.held(platform.db, app, holder):
            message = work(MachineOps(platform, events))
        events.emit("done", message)
    except HangarError as exc:
        events.emit("error", exc.message, hint=exc.hint)
    except Exception as exc:  # a bug must not leave the client waiting
        log.exception("%s of %s crashed", holder, app)
        events.emit("error", f"internal error: {exc}", hint="see the server log")
    finally:
        events.close()
