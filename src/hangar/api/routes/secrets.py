"""An app's secrets: list (names and digests only), set, unset, deploy staged ones."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from hangar.api.deps import current_user, deployer, platform
from hangar.api.schemas import SecretOut, SecretsChangeOut, SecretsSet
from hangar.control import secrets
from hangar.control.apps import find_app
from hangar.control.deploy import secrets_restart
from hangar.control.deploy.engine import Deployer
from hangar.control.platform import Platform
from hangar.store.models import User

router = APIRouter(prefix="/v1/apps/{name}/secrets", tags=["secrets"])


@router.get("", response_model=list[SecretOut])
def list_all(
    name: str, user: User = Depends(current_user), p: Platform = Depends(platform)
) -> list[SecretOut]:
    with p.db.session() as session:
        found = secrets.list_secrets(session, find_app(session, name, user))
    return [SecretOut.model_validate(info, from_attributes=True) for info in found]


@router.post("", response_model=SecretsChangeOut)
def set_secrets(
    name: str,
    body: SecretsSet,
    user: User = Depends(current_user),
    d: Deployer = Depends(deployer),
) -> SecretsChangeOut:
    """Store the values (encrypted); unless `stage`, restart a deployed app with them."""
    values = {key: value.get_secret_value() for key, value in body.secrets.items()}
    change = secrets_restart.set_secrets(d, user, name, values, body.stage)
    return SecretsChangeOut.model_validate(change, from_attributes=True)


@router.delete("", response_model=SecretsChangeOut)
def unset_secrets(
    name: str,
    names: list[str] = Query(..., min_length=1, description="Secrets to remove"),
    stage: bool = Query(False, description="Remove without restarting the machines"),
    user: User = Depends(current_user),
    d: Deployer = Depends(deployer),
) -> SecretsChangeOut:
    """Remove the secrets now; the machines lose them at the restart (or the next deploy)."""
    change = secrets_restart.unset_secrets(d, user, name, names, stage)
    return SecretsChangeOut.model_validate(change, from_attributes=True)


@router.post("/deploy", response_model=SecretsChangeOut)
def deploy_secrets(
    name: str, user: User = Depends(current_user), d: Deployer = Depends(deployer)
) -> SecretsChangeOut:
    """Restart the machines with the current secrets (after --stage)."""
    change = secrets_restart.deploy_secrets(d, user, name)
    return SecretsChangeOut.model_validate(change, from_attributes=True)
