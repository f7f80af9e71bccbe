"""An app's secrets: list (names and digests only), set, unset, deploy staged ones."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from hangar.api.deps import current_user, deployer, platform
from hangar.api.schemas import SecretOut, SecretsChangeOut, SecretsSet
from hangar.control import secrets
from hangar.control.apps import get_app
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.machines.lifecycle import Target
from hangar.control.platform import Platform
from hangar.errors import Conflict, InvalidInput
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps/{name}/secrets", tags=["secrets"])


@router.get("", response_model=list[SecretOut])
def list_all(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> list[SecretOut]:
    with p.db.session() as session:
        found = secrets.list_secrets(session, get_app(session, user, name))
    return [SecretOut.model_validate(info, from_attributes=True) for info in found]


@router.post("", response_model=SecretsChangeOut)
def set_secrets(
    name: str,
    body: SecretsSet,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
    d: Deployer = Depends(deployer),
) -> SecretsChangeOut:
    """Store the values (encrypted); unless `stage`, restart a deployed app with them."""
    store = secrets.secret_store(p)
    values = {key: value.get_secret_value() for key, value in body.secrets.items()}
    with p.db.session() as session:
        app = get_app(session, user, name)
        names = store.set(session, app, values)
        current = None if body.stage else secrets.current_release(session, app)
    return _restarted(d, user, name, names, current)


@router.delete("", response_model=SecretsChangeOut)
def unset_secrets(
    name: str,
    names: list[str] = Query(..., min_length=1, description="Secrets to remove"),
    stage: bool = Query(False, description="Remove without restarting the machines"),
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
    d: Deployer = Depends(deployer),
) -> SecretsChangeOut:
    """Remove the secrets now; the machines lose them at the restart (or the next deploy)."""
    with p.db.session() as session:
        app = get_app(session, user, name)
        removed = secrets.unset(session, app, names)
        current = None if stage else secrets.current_release(session, app)
    return _restarted(d, user, name, removed, current)


@router.post("/deploy", response_model=SecretsChangeOut)
def deploy_secrets(
    name: str,
    user: User = Depends(current_user),
    p: Platform = Depends(platform),
    d: Deployer = Depends(deployer),
) -> SecretsChangeOut:
    """Restart the machines with the current secrets (after --stage)."""
    with p.db.session() as session:
        current = secrets.current_release(session, get_app(session, user, name))
    if current is None:
        raise InvalidInput(
            f"app {name} has not been deployed yet",
            hint="deploy it with `hangar deploy`: its secrets go with the first deploy",
        )
    return _restarted(d, user, name, [], current)


def _restarted(
    d: Deployer,
    user: User,
    name: str,
    names: list[str],
    current: Target | None,
) -> SecretsChangeOut:
    """Start a release of the current image and config, which picks up the secrets."""
    if current is None:
        return SecretsChangeOut(app=name, names=names)
    request = DeployRequest(
        app=name,
        user_email=user.email,
        config=current.config,
        image=current.image,
        description=secrets.UPDATE_SECRETS,
    )
    try:
        deployment = d.start(request)
    except Conflict as exc:
        raise Conflict(
            f"the secrets of {name} are saved but not applied: {exc.message}",
            hint=f"once it has finished, apply them with `hangar secrets deploy -a {name}`",
        ) from exc
    return SecretsChangeOut(app=name, names=names, deployment=deployment.id)
