"""What an app's page shows, loaded once per render through the control layer."""

from __future__ import annotations

import time
from dataclasses import dataclass

from markupsafe import Markup

from hangar.api.schemas import MachineOut, ReleaseOut
from hangar.api.views import machine_out, release_out
from hangar.control.activities import Activity
from hangar.control.app_summaries import AppSummary, summarize
from hangar.control.apps import app_machines, app_releases, find_app
from hangar.control.metrics import BUCKET_S
from hangar.control.operations.scale import ScaleView, scale_show
from hangar.control.orgs import ADMIN, role_in
from hangar.control.platform import Platform
from hangar.control.secrets import SecretInfo, list_secrets
from hangar.control.tokens import TokenInfo, list_tokens
from hangar.control.usage_sampler import SAMPLE_EVERY_S
from hangar.dashboard.plots import traffic_plots, usage_plots
from hangar.dashboard.templating import fragment
from hangar.domain.events import Event
from hangar.store.models import User

EVENTS_SHOWN = 300  # the newest events of the activity panel
PANELS = ("summary", "activity", "machines", "metrics", "releases", "secrets", "machine_options")


@dataclass(frozen=True)
class AppPage:
    summary: AppSummary
    machines: list[MachineOut]
    releases: list[ReleaseOut]
    secrets: list[SecretInfo]
    tokens: list[TokenInfo]
    admin: bool
    activity: Activity | None
    events: list[Event]
    plots: list[Markup]
    scale: ScaleView
    view: str  # this page load: forms sent from it act once
    csrf: str
    log_machine: str = ""  # the logs panel's filter
    bucket_s: int = BUCKET_S
    sample_s: float = SAMPLE_EVERY_S


def load_app_page(
    p: Platform, user: User, name: str, view: str, csrf: str, log_machine: str = ""
) -> AppPage:
    """Everything on the page of `name`; NotFound/Forbidden as find_app says."""
    with p.db.session() as session:
        app = find_app(session, name, user)
        activity = p.activities.latest(app.name)
        return AppPage(
            summary=summarize(session, p, app),
            machines=[machine_out(m) for m in app_machines(session, app)],
            releases=[release_out(r) for r in app_releases(session, app)],
            secrets=list_secrets(session, app),
            tokens=[t for t in list_tokens(session, user) if t.app == app.name],
            admin=role_in(session, app.org_id, user) == ADMIN,
            activity=activity,
            events=activity.events.so_far()[-EVENTS_SHOWN:] if activity else [],
            plots=_plots(p, app.name),
            scale=scale_show(p.db, user, app.name),
            view=view,
            csrf=csrf,
            log_machine=log_machine,
        )


def _plots(p: Platform, app: str) -> list[Markup]:
    """The app's plots, drawn again only when their data changed (every BUCKET_S at
    most): most live rounds reuse the last drawing."""
    key = (id(p.metrics), app)
    stamp = p.metrics.stamp(app)
    cached = _drawn.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    now = time.time()
    plots = traffic_plots(p.metrics.traffic(app), now) + usage_plots(p.metrics.usage(app), now)
    _drawn[key] = (stamp, plots)
    while len(_drawn) > DRAWINGS_KEPT:
        del _drawn[next(iter(_drawn))]
    return plots


DRAWINGS_KEPT = 256  # apps whose plots are kept drawn
_drawn: dict[tuple[int, str], tuple[tuple[int, float], list[Markup]]] = {}


def render_panels(page: AppPage) -> dict[str, str]:
    """The live parts of the page, by name, as HTML."""
    return {name: fragment(f"_{name}.html", page=page) for name in PANELS}
