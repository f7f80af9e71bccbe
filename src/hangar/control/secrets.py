"""App secrets: names checked, values encrypted at rest, given to machines as env vars.

A secret is `staged` from the moment it is set until a deploy that started
after that completes; then it is `deployed`. Values never leave this module
except as the environment of a machine: listings carry names and digests only,
and no error message or log line holds a value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from hangar.errors import ConcurrentChange, Conflict, InvalidInput, NotFound
from hangar.store.database import Database, flush
from hangar.store.models import App, Release, Secret
from hangar.store.secret_box import SecretBox, SecretsKeyError

UPDATE_SECRETS = "Update secrets"  # the description of the release a change makes
log = logging.getLogger(__name__)
DIGEST_SHOWN = 16  # hex digits of the digest that listings show
MAX_NAME_LENGTH = 255
MAX_VALUE_BYTES = 64 * 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED_PREFIX = "FLY_"
_RESERVED = frozenset({"PRIMARY_REGION"})
_NAME_HINT = (
    "a secret name is an environment variable name: letters, digits and _, not first a digit"
)


class SecretStatus(StrEnum):
    STAGED = "staged"  # set, not yet in every machine
    DEPLOYED = "deployed"  # a deploy that started after it was set completed


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown of a secret: never its value."""

    name: str
    digest: str
    status: str
    created_at: datetime
    updated_at: datetime


class SecretStore:
    """Secrets in the store, their values encrypted with the server's key."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def env_for(self, app: str) -> dict[str, str]:
        with self.db.session() as session:
            rows = session.execute(
                select(Secret.name, Secret.ciphertext).join(App).where(App.name == app)
            ).all()
        return {name: self._decrypt(app, name, token) for name, token in rows}

    def set(self, session: Session, app: App, values: Mapping[str, str]) -> list[str]:
        """Store every value (all or none), each staged; return the names."""
        check_values(values)
        existing = {secret.name: secret for secret in _secrets(session, app)}
        for name, value in values.items():
            secret = existing.get(name) or _new_secret(session, app, name)
            secret.ciphertext = self.box.encrypt(value)
            secret.digest = self.box.digest(value)
            secret.status = SecretStatus.STAGED
        _flush(session, app)
        return sorted(values)

    def rekey_digests(self) -> int:
        """Give every secret the keyed digest of its value (older versions stored a plain
        SHA-256); the number changed. A value this key cannot decrypt is left as it is."""
        changed = 0
        with self.db.session() as session:
            for secret in session.scalars(select(Secret)):
                try:
                    wanted = self.box.digest(self.box.decrypt(secret.ciphertext))
                except SecretsKeyError:
                    log.warning("secret %s cannot be decrypted: its digest is left", secret.name)
                    continue
                if secret.digest != wanted:
                    secret.digest, changed = wanted, changed + 1
        return changed

    def _decrypt(self, app: str, name: str, token: str) -> str:
        try:
            return self.box.decrypt(token)
        except SecretsKeyError as exc:
            raise SecretsKeyError(
                f"secret {name} of app {app} cannot be decrypted with this server's secrets key",
                hint=exc.hint,
            ) from exc


def validate_name(name: str) -> None:
    if not name:
        raise InvalidInput("a secret name cannot be empty", hint="give secrets as NAME=VALUE")
    if len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
        shown = name if len(name) <= 64 else name[:64] + "…"
        raise InvalidInput(f"{shown!r} is not a valid secret name", hint=_NAME_HINT)
    if name.startswith(_RESERVED_PREFIX) or name in _RESERVED:
        raise InvalidInput(
            f"{name} is reserved: Hangar sets it on every machine",
            hint="pick a name that does not start with FLY_ and is not PRIMARY_REGION",
        )


def check_values(values: Mapping[str, str]) -> None:
    """Every name valid, every value fit for an environment variable; messages name no value."""
    if not values:
        raise InvalidInput("no secrets given", hint="give at least one NAME=VALUE")
    for name, value in values.items():
        validate_name(name)
        if "\0" in value:
            raise InvalidInput(
                f"the value of {name} contains a NUL byte",
                hint="environment variables cannot hold NUL; encode the value (base64)",
            )
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise InvalidInput(
                f"the value of {name} is larger than {MAX_VALUE_BYTES // 1024} KiB",
                hint="keep large data in a file or a volume, and its key in the secret",
            )


def list_secrets(session: Session, app: App) -> list[SecretInfo]:
    return [_info(secret) for secret in _secrets(session, app)]


def unset(session: Session, app: App, names: Iterable[str]) -> list[str]:
    """Delete the named secrets (all or none); every name must exist."""
    wanted = sorted(set(names))
    if not wanted:
        raise InvalidInput("no secret names given", hint="give at least one NAME")
    existing = {secret.name: secret for secret in _secrets(session, app)}
    missing = [name for name in wanted if name not in existing]
    if missing:
        raise NotFound(
            f"app {app.name} has no secret named {', '.join(missing)}",
            hint=f"see its secrets with `hangar secrets list -a {app.name}`",
        )
    for name in wanted:
        session.delete(existing[name])
    return wanted


def mark_deployed(session: Session, app: App, version: int | None) -> None:
    """After release `version` completed: its machines hold every secret set before it began."""
    release = session.scalar(
        select(Release).where(Release.app_id == app.id, Release.version == version)
    )
    if release is None:
        return
    for secret in _secrets(session, app):
        if secret.status == SecretStatus.STAGED and secret.updated_at <= release.created_at:
            secret.status = SecretStatus.DEPLOYED


def _secrets(session: Session, app: App) -> list[Secret]:
    query = select(Secret).where(Secret.app_id == app.id).order_by(Secret.name)
    return list(session.scalars(query))


def _flush(session: Session, app: App) -> None:
    try:
        flush(session)
    except ConcurrentChange as exc:  # the same new name set by two requests at once
        raise Conflict(
            f"the secrets of {app.name} were changed by another request at the same time",
            hint="run the command again",
        ) from exc


def _new_secret(session: Session, app: App, name: str) -> Secret:
    secret = Secret(app_id=app.id, name=name)
    session.add(secret)
    return secret


def _info(secret: Secret) -> SecretInfo:
    return SecretInfo(
        name=secret.name,
        digest=secret.digest[:DIGEST_SHOWN],
        status=secret.status,
        created_at=secret.created_at,
        updated_at=secret.updated_at,
    )
