"""What the app page's buttons do: each posts a form, acts once, and redirects back
with a notice (the panels then show the progress live).

Each action is the control layer's own use case, with its own checks: the
page hides what a member may not do, and the server refuses it anyway.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hangar.api.deps import deployer, platform
from hangar.control.deploy import secrets_restart
from hangar.control.deploy.engine import Deployer
from hangar.control.deploy.rollback import start_rollback
from hangar.control.operations import machine_actions
from hangar.control.operations.destroy import destroy_app
from hangar.control.operations.restart import start_app_restart
from hangar.control.operations.scale import start_scale_count
from hangar.control.platform import Platform
from hangar.dashboard.forms import ONCE_FIELD, OnceLedger, checked_form
from hangar.dashboard.notices import Notice, leave_notice
from hangar.dashboard.session import Visitor, visitor
from hangar.errors import HangarError, InvalidInput

router = APIRouter(prefix="/apps/{name}", include_in_schema=False)
Form = dict[str, str]
MACHINE_ACTIONS = {
    "stop": (machine_actions.stop_machine, "stopped"),
    "start": (machine_actions.start_machine, "started"),
    "destroy": (machine_actions.destroy_machine, "destroyed"),
}


def ledger(request: Request) -> OnceLedger:
    value: OnceLedger = request.app.state.once_ledger
    return value


async def _act(
    request: Request, who: Visitor, name: str, work: Callable[[Form], str], done_at: str = ""
) -> Response:
    """Check the form, do `work` once, and go back with what happened."""
    back = f"/apps/{name}"
    try:
        form = await checked_form(request, who)
        with ledger(request).acting(form.get(ONCE_FIELD, ""), request.url.path):
            notice = Notice(await run_in_threadpool(work, form))
        back = done_at or back
    except HangarError as exc:
        notice = Notice(exc.message, exc.hint, error=True)
    response = RedirectResponse(back, status_code=303)
    leave_notice(response, notice)
    return response


@router.post("/restart")
async def restart(
    request: Request, name: str, who: Visitor = Depends(visitor), p: Platform = Depends(platform)
) -> Response:
    def work(_form: Form) -> str:
        start_app_restart(p, who.user, name)
        return f"Restarting {name}, one machine at a time: the progress is below."

    return await _act(request, who, name, work)


@router.post("/machines/{machine_id}/{verb}")
async def machine(
    request: Request,
    name: str,
    machine_id: str,
    verb: str,
    who: Visitor = Depends(visitor),
    p: Platform = Depends(platform),
) -> Response:
    def work(_form: Form) -> str:
        if verb not in MACHINE_ACTIONS:
            raise InvalidInput(f"a machine cannot {verb!r}", hint="stop, start or destroy it")
        action, done = MACHINE_ACTIONS[verb]
        action(p, who.user, name, machine_id)
        return f"Machine {machine_id} {done}."

    return await _act(request, who, name, work)


@router.post("/rollback/{version}")
async def rollback(
    request: Request,
    name: str,
    version: str,
    who: Visitor = Depends(visitor),
    d: Deployer = Depends(deployer),
) -> Response:
    def work(_form: Form) -> str:
        number = _whole_number(version, "release version")
        start_rollback(d, who.user, name, number)
        return f"Rolling back to v{number} as a new release: the progress is below."

    return await _act(request, who, name, work)


@router.post("/scale")
async def scale(
    request: Request, name: str, who: Visitor = Depends(visitor), p: Platform = Depends(platform)
) -> Response:
    def work(form: Form) -> str:
        count = _whole_number(form.get("count", ""), "machine count")
        start_scale_count(p, who.user, name, count)
        return f"Scaling {name} to {count} machine{'' if count == 1 else 's'}: see below."

    return await _act(request, who, name, work)


@router.post("/secrets")
async def set_secret(
    request: Request, name: str, who: Visitor = Depends(visitor), d: Deployer = Depends(deployer)
) -> Response:
    def work(form: Form) -> str:
        key = form.get("name", "").strip()
        change = secrets_restart.set_secrets(d, who.user, name, {key: form.get("value", "")}, False)
        restart = " The machines restart with it." if change.deployment else ""
        return f"Secret {key} set.{restart}"

    return await _act(request, who, name, work)


@router.post("/secrets/{secret}/unset")
async def unset_secret(
    request: Request,
    name: str,
    secret: str,
    who: Visitor = Depends(visitor),
    d: Deployer = Depends(deployer),
) -> Response:
    def work(_form: Form) -> str:
        change = secrets_restart.unset_secrets(d, who.user, name, [secret], False)
        restart = " The machines restart without it." if change.deployment else ""
        return f"Secret {secret} removed.{restart}"

    return await _act(request, who, name, work)


@router.post("/destroy")
async def destroy(
    request: Request, name: str, who: Visitor = Depends(visitor), p: Platform = Depends(platform)
) -> Response:
    def work(form: Form) -> str:
        if form.get("confirm", "").strip() != name:
            raise InvalidInput(
                "the name typed is not the app's: nothing was destroyed",
                hint=f"type {name} exactly to confirm",
            )
        destroy_app(p, who.user, name)
        return f"App {name} destroyed: its machines, images and route are gone."

    return await _act(request, who, name, work, done_at="/apps")


def _whole_number(text: str, what: str) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise InvalidInput(f"the {what} must be a whole number, not {text[:20]!r}") from None
    if number < 0:
        raise InvalidInput(f"the {what} cannot be negative ({number})", hint="use 0 or more")
    return number
