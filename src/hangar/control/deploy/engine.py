"""A deploy as named phases: build, record the release, roll machines, finish.

Each deploy runs in its own thread; its events can be followed live. One
deploy per app runs at a time.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hangar.appconfig.model import AppConfig
from hangar.appconfig.stored import to_stored
from hangar.control import leases
from hangar.control.apps import app_machines, find_app
from hangar.control.deploy.auto_rollback import Snapshot, restore, take_snapshot
from hangar.control.deploy.image_policy import check_deployable
from hangar.control.deploy.release_command import run_release_command
from hangar.control.deploy.strategies.registry import strategy_named
from hangar.control.events import EventLog
from hangar.control.images import prune_after_deploy
from hangar.control.machines.lifecycle import MachineOps, Target
from hangar.control.platform import Platform
from hangar.control.secrets import mark_deployed
from hangar.domain.image_names import release_image
from hangar.domain.names import new_machine_id
from hangar.domain.rollout import first_deploy_count
from hangar.domain.states import AppStatus, MachineState, ReleaseStatus
from hangar.errors import HangarError, NotFound
from hangar.store.models import App, Machine, Release
from hangar.telemetry import DEPLOY_SECONDS, DEPLOYS

log = logging.getLogger(__name__)
LOCK_WAIT_S = 1800.0
KEPT_DEPLOYMENTS = 100


@dataclass
class DeployRequest:
    app: str
    user_email: str
    config: AppConfig
    context_dir: Path | None = None  # a folder with a Dockerfile, or
    image: str | None = None  # an image that exists already
    strategy: str | None = None
    wait_timeout_s: float | None = None
    description: str = "Deploy image"
    rollback: bool = True  # put moved machines back on their release if the deploy fails
    smoke_checks: bool = True  # a machine exiting soon after it is healthy fails the deploy
    wait_for_lock: bool = False


@dataclass
class Deployment:
    id: str
    app: str
    events: EventLog = field(default_factory=EventLog)
    release: int | None = None
    status: str = ReleaseStatus.RUNNING
    started: float = field(default_factory=time.monotonic)

    def ended(self, outcome: str) -> None:
        """Count the deploy's end for the server's metrics."""
        DEPLOYS.labels(outcome).inc()
        DEPLOY_SECONDS.labels(outcome).observe(time.monotonic() - self.started)

    @property
    def label(self) -> str:
        return f"deployment {self.id}"


class Deployer:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._deployments: dict[str, Deployment] = {}
        self._lock = threading.Lock()

    def start(self, request: DeployRequest) -> Deployment:
        """Check the request, take the app's lease (or wait for it), run in a thread."""
        strategy = strategy_named(request.strategy or request.config.deploy.strategy)
        strategy.check(request.config)
        deployment = Deployment(id=uuid.uuid4().hex[:12], app=request.app)
        if not request.wait_for_lock:
            leases.acquire(self.platform.db, request.app, deployment.id, deployment.label)
        with self._lock:
            self._deployments[deployment.id] = deployment
            self._forget_old_deployments()
        self.platform.activities.record(request.app, request.description, deployment.events)
        self.platform.background.start(
            f"deploy-{request.app}-{deployment.id}", partial(self._run, deployment, request)
        )
        return deployment

    def _forget_old_deployments(self) -> None:
        """Keep the events of the last KEPT_DEPLOYMENTS deploys only (memory stays bounded)."""
        finished = [d for d in self._deployments.values() if d.events.closed]
        for old in finished[: max(0, len(self._deployments) - KEPT_DEPLOYMENTS)]:
            del self._deployments[old.id]

    def get(self, deployment_id: str) -> Deployment:
        try:
            return self._deployments[deployment_id]
        except KeyError:
            raise NotFound(f"deployment {deployment_id} not found") from None

    def run_sync(self, request: DeployRequest) -> Deployment:
        """Start a deploy and wait for it (tests and the set-up script use this)."""
        deployment = self.start(request)
        for _ in deployment.events.follow():
            pass
        return deployment

    def _run(self, deployment: Deployment, request: DeployRequest) -> None:
        events = deployment.events
        db = self.platform.db
        try:
            if request.wait_for_lock:
                events.emit("phase", "Waiting for the app's running change to finish")
                leases.acquire_waiting(
                    db, request.app, deployment.id, deployment.label, LOCK_WAIT_S
                )
            with leases.held(db, request.app, deployment.id):
                self._phases(deployment, request)
        except HangarError as exc:
            self._fail(deployment, exc)
        except Exception as exc:  # a bug must not leave the deploy hanging
            log.exception("deployment %s crashed", deployment.id)
            self._fail(deployment, HangarError(f"internal error: {exc}", "see the server log"))
        finally:
            if request.context_dir is not None:
                shutil.rmtree(request.context_dir, ignore_errors=True)
            events.close()

    def _phases(self, deployment: Deployment, request: DeployRequest) -> None:
        image = self._build(deployment, request)
        deployment.release = self._record_release(request, image)
        deployment.events.emit(
            "release", f"Release v{deployment.release} created", version=deployment.release
        )
        self._roll(deployment, request, image)
        self._finish(deployment, request)

    def _build(self, deployment: Deployment, request: DeployRequest) -> str:
        if request.image is not None:
            check_deployable(self.platform, request.app, request.image)
            return request.image
        assert request.context_dir is not None
        tag = release_image(request.app, deployment.id)
        deployment.events.emit("phase", "Building image", phase="build")
        build = request.config.build
        self.platform.builder.build(
            request.context_dir,
            tag,
            lambda line: deployment.events.emit("build", line),
            dockerfile=build.dockerfile or "Dockerfile",
            args=build.args,
        )
        deployment.events.emit("phase", f"Image {tag} built", phase="build")
        return tag

    def _record_release(self, request: DeployRequest, image: str) -> int:
        with self.platform.db.session() as session:
            app = find_app(session, request.app)
            latest = session.scalar(
                select(func.max(Release.version)).where(Release.app_id == app.id)
            )
            version = (latest or 0) + 1
            session.add(
                Release(
                    app_id=app.id,
                    version=version,
                    status=ReleaseStatus.RUNNING,
                    image=image,
                    config=to_stored(request.config),
                    description=request.description,
                    user_email=request.user_email,
                    reason="",
                )
            )
            app.config = request.config.model_dump(mode="json")
            return version

    def _roll(self, deployment: Deployment, request: DeployRequest, image: str) -> None:
        assert deployment.release is not None
        config = request.config
        if request.wait_timeout_s is not None:
            config = config.model_copy(
                update={
                    "deploy": config.deploy.model_copy(
                        update={"wait_timeout": request.wait_timeout_s}
                    )
                }
            )
        target = Target(deployment.release, image, config)
        smoke_s = None if request.smoke_checks else 0.0
        ops = MachineOps(self.platform, deployment.events, smoke_s)
        with self.platform.db.session() as session:
            app = find_app(session, request.app)
            every = app_machines(session, app)
            app_id, region = app.id, app.region
        machines = [m for m in every if m.state != MachineState.STOPPED]
        stopped = [m for m in every if m.state == MachineState.STOPPED]
        run_release_command(self.platform, target, region, deployment.events)
        deployment.events.emit("phase", "Updating machines", phase="machines")
        if not stopped and not any(m.state == MachineState.STARTED for m in machines):
            for leftover in machines:  # e.g. the failed machine of a failed first deploy
                ops.destroy(request.app, leftover, config)
            self._create_first_machines(ops, app_id, region, target)
            return
        if machines:
            self._roll_with_rollback(ops, request, machines, target)
        self._retarget_stopped(ops, stopped, target)

    def _retarget_stopped(self, ops: MachineOps, stopped: list[Machine], target: Target) -> None:
        """Stopped machines stay stopped, but start on the new release next time."""
        if stopped:
            ops.events.emit(
                "machine",
                f"{len(stopped)} stopped machine(s) stay stopped, now on v{target.version}: "
                "they start on it next (a request starts one with auto_start_machines)",
            )
        for machine in stopped:
            if machine.container_id:
                self.platform.runtime.remove(machine.container_id)
            ops.save(machine.id, release_version=target.version, container_id=None, host_port=None)

    def _roll_with_rollback(
        self, ops: MachineOps, request: DeployRequest, machines: list[Machine], target: Target
    ) -> None:
        strategy = strategy_named(request.strategy or target.config.deploy.strategy)
        snapshot = take_snapshot(self.platform.db, request.app)
        try:
            strategy.roll(ops, machines, target)
        except HangarError as exc:
            if not (request.rollback and strategy.rolls_back and snapshot.targets):
                raise
            raise self._rolled_back(ops, request.app, snapshot, exc) from exc

    def _rolled_back(
        self, ops: MachineOps, app: str, snapshot: Snapshot, failure: HangarError
    ) -> RolledBack:
        ops.events.emit("phase", f"Deploy failed: {failure.message}")
        ops.events.emit("phase", "Rolling machines back to the previous release")
        try:
            restored = restore(ops, app, snapshot)
        except HangarError as exc:
            return RolledBack(f"{failure.message}\nthe rollback failed too: {exc.message}", False)
        if not restored:
            note = "no machine had moved to the new release: the previous one still serves"
        else:
            note = f"rolled back {len(restored)} machine(s) to the previous release"
        return RolledBack(f"{failure.message}\n{note}", True)

    def _create_first_machines(
        self, ops: MachineOps, app_id: int, region: str, target: Target
    ) -> None:
        windows = []
        for _ in range(first_deploy_count(target.config.http_service is not None)):
            machine_id = new_machine_id()
            ops.create(app_id, machine_id, target, region)
            info = ops.bring_up(machine_id, target, region, target.config.deploy.wait_timeout)
            windows.append(ops.watch(info))
        for window in windows:
            ops.survive(window)

    def _finish(self, deployment: Deployment, request: DeployRequest) -> None:
        with self.platform.db.session() as session:
            app = find_app(session, request.app)
            app.status = AppStatus.DEPLOYED
            _set_release_status(session, app, deployment.release, ReleaseStatus.COMPLETE, "")
            mark_deployed(session, app, deployment.release)
        deployment.status = ReleaseStatus.COMPLETE
        deployment.ended(ReleaseStatus.COMPLETE)
        prune_after_deploy(self.platform, deployment, list(self._deployments.values()))
        url = self.platform.settings.app_url(request.app)
        deployment.events.emit(
            "done", f"Visit your newly deployed app at {url}", url=url, status="complete"
        )

    def _fail(self, deployment: Deployment, error: HangarError) -> None:
        rolled_back = isinstance(error, RolledBack) and error.complete
        status = ReleaseStatus.ROLLED_BACK if rolled_back else ReleaseStatus.FAILED
        deployment.status = status
        deployment.ended(status)
        if deployment.release is not None:
            with self.platform.db.session() as session:
                app = find_app(session, deployment.app)
                _set_release_status(session, app, deployment.release, status, error.message)
        deployment.events.emit("error", error.message, hint=error.hint, status=status)


class RolledBack(HangarError):
    """The deploy failed; `complete` tells whether every machine was put back."""

    def __init__(self, message: str, complete: bool) -> None:
        super().__init__(message, hint="fix the problem above and deploy again")
        self.complete = complete


def _set_release_status(
    session: Session, app: App, version: int | None, status: str, reason: str
) -> None:
    release = session.scalar(
        select(Release).where(Release.app_id == app.id, Release.version == version)
    )
    if release is not None:
        release.status = status
        release.reason = reason
