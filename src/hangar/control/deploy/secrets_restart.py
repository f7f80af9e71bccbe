"""Secrets changes reach the machines: a release of the running image and config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from hangar.control import secrets
from hangar.control.apps import find_app
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.machines.lifecycle import Target
from hangar.control.machines.targets import latest_complete_release, target_of
from hangar.errors import Conflict, InvalidInput
from hangar.store.models import App, User


@dataclass(frozen=True)
class SecretsChange:
    app: str
    names: list[str] = field(default_factory=list)
    deployment: str | None = None  # the restart's deployment, when one was started


def set_secrets(
    deployer: Deployer, user: User, name: str, values: Mapping[str, str], stage: bool
) -> SecretsChange:
    """Store the values (encrypted); unless `stage`, restart a deployed app with them."""
    with deployer.platform.db.session() as session:
        app = find_app(session, name, user)
        names = deployer.platform.secrets.set(session, app, values)
        target = None if stage else deployed_target(session, app)
    return _restarted(deployer, user, name, names, target)


def unset_secrets(
    deployer: Deployer, user: User, name: str, names: Iterable[str], stage: bool
) -> SecretsChange:
    """Remove the secrets now; the machines lose them at the restart (or the next deploy)."""
    with deployer.platform.db.session() as session:
        app = find_app(session, name, user)
        removed = secrets.unset(session, app, names)
        target = None if stage else deployed_target(session, app)
    return _restarted(deployer, user, name, removed, target)


def deploy_secrets(deployer: Deployer, user: User, name: str) -> SecretsChange:
    """Restart the machines with the current secrets (after --stage)."""
    with deployer.platform.db.session() as session:
        target = deployed_target(session, find_app(session, name, user))
    if target is None:
        raise InvalidInput(
            f"app {name} has not been deployed yet",
            hint="deploy it with `hangar deploy`: its secrets go with the first deploy",
        )
    return _restarted(deployer, user, name, [], target)


def deployed_target(session: Session, app: App) -> Target | None:
    """What a secrets change restarts the machines with; None while never deployed."""
    release = latest_complete_release(session, app)
    return target_of(release) if release is not None else None


def _restarted(
    deployer: Deployer, user: User, name: str, names: list[str], target: Target | None
) -> SecretsChange:
    """Start a release of the current image and config, which picks up the secrets."""
    if target is None:
        return SecretsChange(app=name, names=names)
    request = DeployRequest(
        app=name,
        user_email=user.email,
        config=target.config,
        image=target.image,
        description=secrets.UPDATE_SECRETS,
    )
    try:
        deployment = deployer.start(request)
    except Conflict as exc:
        raise Conflict(
            f"the secrets of {name} are saved but not applied: {exc.message}",
            hint=f"once it has finished, apply them with `hangar secrets deploy -a {name}`",
        ) from exc
    return SecretsChange(app=name, names=names, deployment=deployment.id)
