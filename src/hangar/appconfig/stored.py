"""Release configs as the store keeps them: with a schema version, migrated forward on read.

A release's config is read back long after it was deployed (rollback, restart,
reconcile, scale). Each stored config says which schema it was written in;
reading one runs the migrations from that version to today's, then validates
the result. When a change to the model would refuse configs stored earlier
(a field renamed, a value tightened), bump SCHEMA_VERSION and add the
migration that rewrites the old form; tests/unit/test_stored_configs.py reads
a config stored in every version and fails until the migration exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from hangar.appconfig.model import AppConfig
from hangar.errors import HangarError

SCHEMA_VERSION = 1
_KEY = "schema_version"
StoredConfig = dict[str, Any]
# MIGRATIONS[n] rewrites a config stored in version n into version n + 1.
MIGRATIONS: dict[int, Callable[[StoredConfig], StoredConfig]] = {}


def to_stored(config: AppConfig) -> StoredConfig:
    return {_KEY: SCHEMA_VERSION, **config.model_dump(mode="json")}


def from_stored(stored: StoredConfig) -> AppConfig:
    data = dict(stored)
    version = int(data.pop(_KEY, 1))  # configs stored before versioning are version 1
    if version > SCHEMA_VERSION:
        raise HangarError(
            f"a release config was stored by a newer Hangar (schema {version}, this "
            f"server reads up to {SCHEMA_VERSION})",
            hint="run the newer Hangar, or restore the backup taken before the upgrade",
        )
    for step in range(version, SCHEMA_VERSION):
        data = MIGRATIONS[step](data)
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:  # a model change without its migration: a bug
        raise HangarError(
            f"a stored release config no longer reads ({exc.error_count()} errors)",
            hint="this is a bug in Hangar (a missing config migration); please report it",
        ) from exc
