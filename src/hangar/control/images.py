"""Disk hygiene: after a deploy, remove the app's old release images and build leftovers.

What is kept and what goes is decided by pure functions on plain data
(`release_images_to_remove`, `produced_layers`, `leftover_layers`); the rest
gathers those data from the store, the Docker Engine and the deploy logs, and
makes one runtime call per image.

Release images. Kept: the images of the app's last `keep` releases (whatever
their status), of its current release (the newest complete one), every image a
machine of the app refers to (in any state: a stopped machine is started again
from its release image) or one of its containers uses, and every image another
app's release refers to. Removed: only images Hangar built for this app
(`hangar/<app>:deployment-<id>`) that this server's releases table names; an
image deployed with `--image` (say `hangar/busybox:1`) is never removed.
Removing a tag also removes its untagged parent layers that nothing else uses.

Dangling build layers (a failed build's finished steps, a multi-stage build's
earlier stages) carry nothing that names their app, and pruning every dangling
image of the engine would delete other builds' layers, even those of a build
running at that moment. So a layer is removed only when it is dangling now
and a build of this server made it for this app, or for an app since
destroyed: the classic builder prints ` ---> <id>` after each step, and the
engine confirms each such id was built on the image of the step before (a
`RUN` step that prints a look-alike line names an image built elsewhere, and
is not believed). A layer that a build of another existing app made, or a
build still running, is left alone. Build logs live in the server's memory: layers of
builds from before a restart are not attributed (`docker image prune` frees
them).
"""

from __future__ import annotations

import logging
import re
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.control.apps import app_named
from hangar.control.events import EventLog
from hangar.control.platform import Platform
from hangar.domain.events import Event
from hangar.domain.image_names import is_release_image, release_repository
from hangar.domain.states import ReleaseStatus
from hangar.errors import HangarError
from hangar.ports import Runtime
from hangar.store.models import App, Machine, Release

log = logging.getLogger(__name__)

_STEP = re.compile(r"^Step \d+/\d+ : (\w+)", re.IGNORECASE)
_PRODUCED = re.compile(r"^\s*---> ([0-9a-f]{12})\s*$")
# The image an image was built on (None: none, or no such image), from the engine.
ParentOf = Callable[[str], str | None]


# -- the decisions, on plain data ---------------------------------------------


@dataclass(frozen=True)
class ReleaseImage:
    version: int
    status: str
    image: str


@dataclass(frozen=True)
class BuildRecord:
    """What one deploy's build log says it made."""

    app: str
    finished: bool  # the deploy is over: its build cannot be using a layer any more
    layers: frozenset[str]  # short (12 hex) ids of the images its steps made


def images_to_keep(releases: Sequence[ReleaseImage], keep: int, in_use: set[str]) -> set[str]:
    """The last `keep` releases' images, the current release's and those in use."""
    newest = sorted(releases, key=lambda release: release.version, reverse=True)
    kept = {release.image for release in newest[: max(keep, 0)]}
    current = next((r for r in newest if r.status == ReleaseStatus.COMPLETE), None)
    if current is not None:
        kept.add(current.image)
    return kept | in_use


def release_images_to_remove(
    app: str,
    releases: Sequence[ReleaseImage],
    keep: int,
    in_use: set[str],
    present: set[str],
) -> list[str]:
    """The app's release images to remove: built by Hangar for it, present, not kept."""
    kept = images_to_keep(releases, keep, in_use)
    built = {release.image for release in releases if is_release_image(app, release.image)}
    return sorted((built & present) - kept)


def produced_layers(lines: Iterable[str], parent_of: ParentOf) -> frozenset[str]:
    """Short ids of the images a classic-builder log's steps made, as the engine confirms.

    The log says which step made which image, but a `RUN` step can print a line
    that looks the same. So an id counts only if the engine says it was built
    on the image of the step before (or the stage's `FROM` image): a printed id
    of any other image is not this build's and is skipped. A `FROM` step
    announces its base image, which the build did not make: not counted.
    """
    layers: set[str] = set()
    head: str | None = None  # the image the next step builds on
    in_from = False
    for line in lines:
        step = _STEP.match(line)
        if step is not None:
            in_from = step.group(1).upper() == "FROM"
            continue
        announced = _PRODUCED.match(line)
        if announced is None:
            continue
        image = announced.group(1)
        if in_from:
            head, in_from = image, False
        elif head is not None and _built_on(parent_of(image), head):
            layers.add(image)
            head = image
    return frozenset(layers)


def _built_on(parent: str | None, head: str) -> bool:
    return parent is not None and short_id(parent) == head


def leftover_layers(
    app: str, builds: Iterable[BuildRecord], live_apps: set[str], dangling: Iterable[str]
) -> list[str]:
    """The dangling images that `app`'s builds (or finished builds of gone apps) made.

    A layer another existing app's build, or any build still running, announced
    is never chosen, even if `app`'s builds announced it too (shared cache).
    """
    ours: set[str] = set()
    theirs: set[str] = set()
    for build in builds:
        mine = build.app == app or (build.finished and build.app not in live_apps)
        (ours if mine else theirs).update(build.layers)
    return sorted(image for image in dangling if short_id(image) in ours - theirs)


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


# -- gathering the data, and the Docker calls ---------------------------------


class DeploymentLike(Protocol):
    """What pruning reads of a deployment (`hangar.control.deploy.engine.Deployment`)."""

    app: str
    events: EventLog


@dataclass
class PruneReport:
    app: str
    keep: int
    removed_images: list[str] = field(default_factory=list)
    freed_layers: list[str] = field(default_factory=list)

    def message(self) -> str:
        images, layers = len(self.removed_images), len(self.freed_layers)
        return (
            f"Removed {images} old image(s) of {self.app} (keeping the last {self.keep} "
            f"releases) and {layers} dangling build layer(s)"
        )


@dataclass(frozen=True)
class _StoreFacts:
    releases: list[ReleaseImage]
    in_use: set[str]  # images of the app's machines and other apps' releases
    live_apps: set[str]


def prune_after_deploy(
    platform: Platform, deployment: DeploymentLike, deployments: Iterable[DeploymentLike]
) -> None:
    """Prune `deployment.app`'s images; never raises (a failure is logged as a warning).

    `deployments` are every deploy this server knows, for their build logs.
    """
    app, began = deployment.app, time.monotonic()
    try:
        builds = [build_record(d, platform.runtime.image_parent) for d in deployments]
        report = prune_app_images(platform, app, builds)
    except Exception:
        log.warning("pruning the images of %s failed; they stay for now", app, exc_info=True)
        return
    log.info("%s in %.2fs", report.message(), time.monotonic() - began)
    if report.removed_images or report.freed_layers:
        deployment.events.emit(
            "prune",
            report.message(),
            images=report.removed_images,
            layers=report.freed_layers,
        )


def prune_app_images(platform: Platform, app: str, builds: Sequence[BuildRecord]) -> PruneReport:
    runtime, keep = platform.runtime, platform.settings.keep_images
    with platform.db.session() as session:
        facts = _store_facts(session, app)
    report = PruneReport(app, keep)
    if facts is not None:  # else the app is gone: `apps destroy` removed its images
        report.removed_images = _prune_release_images(runtime, app, facts, keep)
        report.freed_layers = _free_leftover_layers(runtime, app, builds, facts.live_apps)
    return report


def _prune_release_images(runtime: Runtime, app: str, facts: _StoreFacts, keep: int) -> list[str]:
    """Remove the app's stale release images; return those that are gone now."""
    in_use = facts.in_use | {c.image for c in runtime.list_managed(app=app)}
    present = runtime.image_tags(release_repository(app))
    stale = release_images_to_remove(app, facts.releases, keep, in_use, present)
    for ref in stale:
        _removed(ref, runtime.remove_image)  # an image a container uses stays (409)
    return sorted(set(stale) - runtime.image_tags(release_repository(app)))


def _free_leftover_layers(
    runtime: Runtime, app: str, builds: Sequence[BuildRecord], live_apps: set[str]
) -> list[str]:
    """Remove the dangling layers the app's builds left; return their short ids."""
    layers = leftover_layers(app, builds, live_apps, runtime.dangling_images())
    freed = [image for image in layers if _removed(image, runtime.remove_dangling_image)]
    return [short_id(image) for image in freed]


# The build logs of deploys that are over do not change: each is read once.
_finished_records: weakref.WeakKeyDictionary[EventLog, BuildRecord] = weakref.WeakKeyDictionary()


def build_record(deployment: DeploymentLike, parent_of: ParentOf) -> BuildRecord:
    """What the deployment's build made; read once for a deploy that is over."""
    events = deployment.events
    known = _finished_records.get(events)
    if known is not None:
        return known
    closed = events.closed  # read before the lines: a log closed later is read again
    lines = (e.message for e in snapshot(events) if e.type == "build")
    record = BuildRecord(deployment.app, closed, produced_layers(lines, parent_of))
    if closed:
        _finished_records[events] = record
    return record


def snapshot(events: EventLog) -> list[Event]:
    """The events logged so far, without waiting for more."""
    taken: list[Event] = []
    for event in events.follow(poll_s=0):
        if event is None:
            break
        taken.append(event)
    return taken


def _store_facts(session: Session, app_name: str) -> _StoreFacts | None:
    app = app_named(session, app_name)
    if app is None:
        return None
    rows = session.execute(
        select(Release.version, Release.status, Release.image).where(Release.app_id == app.id)
    )
    releases = [ReleaseImage(version, status, image) for version, status, image in rows]
    in_use = _machine_images(session, app) | _used_by_other_apps(session, app)
    return _StoreFacts(releases, in_use, set(session.scalars(select(App.name))))


def _machine_images(session: Session, app: App) -> set[str]:
    """The release image of every machine of the app, whatever its state."""
    query = select(Release.image).join(
        Machine,
        (Machine.app_id == Release.app_id) & (Machine.release_version == Release.version),
    )
    return set(session.scalars(query.where(Release.app_id == app.id)))


def _used_by_other_apps(session: Session, app: App) -> set[str]:
    """The app's images that other apps' releases refer to (deployed with --image)."""
    prefix = release_repository(app.name) + ":"
    query = select(Release.image).where(
        Release.app_id != app.id, Release.image.startswith(prefix, autoescape=True)
    )
    return set(session.scalars(query))


def _removed(image: str, remove: Callable[[str], object]) -> bool:
    """Call `remove(image)`; False if it failed (logged) or said it removed nothing."""
    try:
        return remove(image) is not False
    except HangarError as exc:
        log.warning("could not remove image %s: %s", image, exc.message)
        return False
