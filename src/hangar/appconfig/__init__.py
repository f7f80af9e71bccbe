"""fly.toml: models, loading with key-path errors, writing."""

from hangar.appconfig.load import CONFIG_FILE, ConfigInvalid, Loaded, load_file, parse
from hangar.appconfig.model import AppConfig
from hangar.appconfig.write import render, write_file

__all__ = [
    "CONFIG_FILE",
    "AppConfig",
    "ConfigInvalid",
    "Loaded",
    "load_file",
    "parse",
    "render",
    "write_file",
]
