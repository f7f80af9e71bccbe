"""A deploy as named phases: build, record the release, roll machines, finish.

Each deploy runs in its own thread; its events can be followed live. One
deploy per app runs at a time.
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hangar.appconfig.model import AppConfig
from hangar.control.apps import app_machines
from hangar.control.events import EventLog
from hangar.control.machines import MachineOps, Target
from hangar.control.platform import Platform
from hangar.control.strategies.registry import strategy_named
from hangar.domain.names import new_machine_id
from hangar.domain.rollout import first_deploy_count
from hangar.domain.states import AppStatus, MachineState, ReleaseStatus
from hangar.errors import Conflict, HangarError, NotFound
from hangar.store.models import App, Release

log = logging.getLogger(__name__)


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


@dataclass
class Deployment:
    id: str
    app: str
    events: EventLog = field(default_factory=EventLog)
    release: int | None = None
    status: str = ReleaseStatus.RUNNING


class Deployer:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._deployments: dict[str, Deployment] = {}
        self._running: dict[str, Deployment] = {}
        self._lock = threading.Lock()

    def start(self, request: DeployRequest) -> Deployment:
        strategy_named(request.strategy or request.config.deploy.strategy)
        deployment = Deployment(id=uuid.uuid4().hex[:12], app=request.app)
        with self._lock:
            running = self._running.get(request.app)
            if running is not None:
                raise Conflict(
                    f"deployment {running.id} of {request.app} is still running",
                    hint="wait for it to finish, then deploy again",
                )
            self._running[request.app] = deployment
            self._deployments[deployment.id] = deployment
        thread = threading.Thread(target=self._run, args=(deployment, request), daemon=True)
        thread.start()
        return deployment

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
        try:
            image = self._build(deployment, request)
            deployment.release = self._record_release(request, image)
            events.emit(
                "release", f"Release v{deployment.release} created", version=deployment.release
            )
            self._roll(deployment, request, image)
            self._finish(deployment, request)
        except HangarError as exc:
            self._fail(deployment, exc.message, exc.hint)
        except Exception as exc:  # a bug must not leave the deploy hanging
            log.exception("deployment %s crashed", deployment.id)
            self._fail(deployment, f"internal error: {exc}", "see the server log")
        finally:
            with self._lock:
                self._running.pop(request.app, None)
            if request.context_dir is not None:
                shutil.rmtree(request.context_dir, ignore_errors=True)
            events.close()

    def _build(self, deployment: Deployment, request: DeployRequest) -> str:
        if request.image is not None:
            if not self.platform.runtime.image_exists(request.image):
                raise NotFound(
                    f"image {request.image!r} does not exist on this server",
                    hint="build it first, or deploy from a folder with a Dockerfile",
                )
            return request.image
        assert request.context_dir is not None
        tag = f"hangar/{request.app}:deployment-{deployment.id}"
        deployment.events.emit("phase", "Building image", phase="build")
        self.platform.builder.build(
            request.context_dir, tag, lambda line: deployment.events.emit("build", line)
        )
        deployment.events.emit("phase", f"Image {tag} built", phase="build")
        return tag

    def _record_release(self, request: DeployRequest, image: str) -> int:
        with self.platform.db.session() as session:
            app = _app(session, request.app)
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
                    config=request.config.model_dump(mode="json"),
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
        ops = MachineOps(self.platform, deployment.events)
        with self.platform.db.session() as session:
            app = _app(session, request.app)
            machines = [m for m in app_machines(session, app) if m.state != MachineState.STOPPED]
            app_id, region = app.id, app.region
        deployment.events.emit("phase", "Updating machines", phase="machines")
        if not machines:
            self._create_first_machines(ops, app_id, region, target)
            return
        strategy = strategy_named(request.strategy or config.deploy.strategy)
        strategy.roll(ops, machines, target)

    def _create_first_machines(
        self, ops: MachineOps, app_id: int, region: str, target: Target
    ) -> None:
        for _ in range(first_deploy_count(target.config.http_service is not None)):
            machine_id = new_machine_id()
            ops.create(app_id, machine_id, target, region)
            ops.bring_up(machine_id, target, region, target.config.deploy.wait_timeout)

    def _finish(self, deployment: Deployment, request: DeployRequest) -> None:
        with self.platform.db.session() as session:
            app = _app(session, request.app)
            app.status = AppStatus.DEPLOYED
            _set_release_status(session, app, deployment.release, ReleaseStatus.COMPLETE, "")
        deployment.status = ReleaseStatus.COMPLETE
        url = self.platform.settings.app_url(request.app)
        deployment.events.emit(
            "done", f"Visit your newly deployed app at {url}", url=url, status="complete"
        )

    def _fail(self, deployment: Deployment, message: str, hint: str) -> None:
        deployment.status = ReleaseStatus.FAILED
        if deployment.release is not None:
            with self.platform.db.session() as session:
                app = _app(session, deployment.app)
                _set_release_status(session, app, deployment.release, ReleaseStatus.FAILED, message)
        deployment.events.emit("error", message, hint=hint, status="failed")


def _app(session: Session, name: str) -> App:
    app = session.scalar(select(App).where(App.name == name))
    if app is None:
        raise NotFound(f"app {name!r} no longer exists")
    return app


def _set_release_status(
    session: Session, app: App, version: int | None, status: str, reason: str
) -> None:
    release = session.scalar(
        select(Release).where(Release.app_id == app.id, Release.version == version)
    )
    if release is not None:
        release.status = status
        release.reason = reason
