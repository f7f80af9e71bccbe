"""App and org names: what is allowed, and readable generated ones."""

from __future__ import annotations

import re
import secrets

from hangar.errors import InvalidInput

MAX_NAME_LENGTH = 40
_VALID = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_ADJECTIVES = ("quiet", "brave", "misty", "lively", "sunny", "bold", "calm", "swift", "bright")
_NOUNS = ("river", "forest", "meadow", "harbor", "canyon", "glacier", "comet", "falcon", "cedar")


# The edge's own proxies are named so in haproxy.cfg; an app of that name would be
# credited with their requests (their access-log lines name them as the backend).
RESERVED_APP_NAMES = frozenset({"http", "metrics"})


def validate_app_name(name: str) -> str:
    if name in RESERVED_APP_NAMES:
        raise InvalidInput(f"app name {name!r} is reserved by the platform", hint="choose another")
    return _validate("app", name)


def validate_org_name(name: str) -> str:
    return _validate("org", name)


def _validate(kind: str, name: str) -> str:
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"{kind} name {name[:64]!r} is {len(name)} characters long",
            hint=f"use at most {MAX_NAME_LENGTH} characters",
        )
    if not _VALID.fullmatch(name):
        raise InvalidInput(
            f"{kind} name {name!r} is not allowed",
            hint="use lowercase letters, digits and dashes; start and end with a letter or digit",
        )
    return name


def generate_app_name(base: str = "") -> str:
    """A readable name such as `misty-river-4821`, or `<base>-4821` from a folder name."""
    prefix = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:24].strip("-")
    if not prefix:
        prefix = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}"
    return f"{prefix}-{secrets.randbelow(9000) + 1000}"


def new_machine_id() -> str:
    return secrets.token_hex(7)
