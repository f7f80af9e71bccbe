"""Encryption of secret values at rest, with a key kept apart from the database.

The key is a Fernet key (AES-128-CBC + HMAC-SHA256) in a file of its own,
created with mode 0600 the first time the server starts. Whoever holds the
database without the key file cannot read the values.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from hangar.errors import HangarError

log = logging.getLogger(__name__)

KEY_FILE_ENV = "HANGAR_SECRETS_KEY_FILE"
KEY_FILE_MODE = 0o600


class SecretsKeyError(HangarError):
    """The secrets key file is missing, unreadable, malformed, or not the right one."""

    status = 500
    code = "secrets_key"


def default_key_file() -> Path:
    """HANGAR_SECRETS_KEY_FILE, else /etc/hangar/secrets.key as root, else ~/.config/hangar/."""
    configured = os.environ.get(KEY_FILE_ENV)
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/etc/hangar/secrets.key")
    return Path.home() / ".config" / "hangar" / "secrets.key"


DIGEST_CONTEXT = b"hangar secret digest v1"


class SecretBox:
    """Encrypts and decrypts secret values with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:  # the key itself never goes into the message
            raise SecretsKeyError(
                "the secrets key is not a valid Fernet key",
                hint="it must be 32 url-safe base64-encoded bytes, as Fernet.generate_key() makes",
            ) from exc
        self._digest_key = hmac.new(
            base64.urlsafe_b64decode(key), DIGEST_CONTEXT, "sha256"
        ).digest()

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        """The box for the key in `path`; a missing file is created (mode 0600)."""
        if not path.exists():
            _create_key_file(path)
        key = _read_key_file(path)
        try:
            return cls(key)
        except SecretsKeyError as exc:
            raise SecretsKeyError(
                f"the secrets key file {path} does not hold a valid Fernet key", hint=exc.hint
            ) from exc

    def digest(self, value: str) -> str:
        """HMAC-SHA256 of the value under a key derived from the secrets key, hex.

        Tells whether two values are the same without revealing them; unlike a
        plain hash, a short value cannot be guessed offline from the database.
        """
        return hmac.new(self._digest_key, value.encode(), "sha256").hexdigest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The value; SecretsKeyError when the token was made with another key or altered."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretsKeyError(
                "a secret cannot be decrypted with this server's secrets key",
                hint="start the server with the key file the secrets were set with "
                "(--secrets-key-file), or set the secrets again",
            ) from exc


def _create_key_file(path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(path, exc) from exc
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        return  # another process created it first: use that one
    except OSError as exc:
        raise _unusable(path, exc) from exc
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(Fernet.generate_key() + b"\n")
    log.info("created the secrets key file %s (keep it apart from the database backups)", path)


def _read_key_file(path: Path) -> bytes:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        key = path.read_bytes().strip()
    except OSError as exc:
        raise _unusable(path, exc) from exc
    if mode & 0o077:
        log.warning(
            "the secrets key file %s is open to other users (mode %o): chmod 600 it", path, mode
        )
    if not key:
        raise SecretsKeyError(
            f"the secrets key file {path} is empty",
            hint="restore it from your backup, or remove it to start over with a new key",
        )
    return key


def _unusable(path: Path, exc: OSError) -> SecretsKeyError:
    return SecretsKeyError(
        f"cannot use the secrets key file {path}: {exc.strerror or exc}",
        hint="pick a writable place with --secrets-key-file or HANGAR_SECRETS_KEY_FILE",
    )
