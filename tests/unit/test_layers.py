"""The import layers hold: nothing imports a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"

SHARED = {"errors", "domain", "ports", "appconfig", "telemetry"}
ADAPTERS = {"store", "runtime", "edge", "builder", "acme_client"}
FOUNDATION = SHARED | {"store", "control"}
CONTROL_ROOMS = {"control.machines", "control.deploy", "control.operations", "control.supervision"}

# layer -> the layers its modules may import (its own always allowed)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "telemetry": set(),  # the metrics registry: counters anyone may bump
    "domain": {"errors"},
    "ports": {"errors", "domain"},
    "appconfig": {"errors", "domain"},
    "store": SHARED,
    "runtime": SHARED,
    "edge": SHARED,
    "acme_client": SHARED,
    "builder": SHARED | {"runtime", "builder.archive"},
    "builder.archive": {"errors"},
    "testing": SHARED,
    "control": FOUNDATION | {"builder.archive"},  # the upload format, pure like domain
    "control.machines": FOUNDATION,
    "control.deploy": FOUNDATION | {"control.machines"},
    "control.operations": FOUNDATION | {"control.machines", "control.deploy"},
    "control.supervision": FOUNDATION | {"control.machines"},
    "api": SHARED | {"store", "builder.archive", "control"} | CONTROL_ROOMS,
    "api.app": {"dashboard"},  # the app factory puts the dashboard beside the API
    # The dashboard's pages use the API's request dependencies, views and streams.
    "dashboard": SHARED | {"store", "control", "api"} | CONTROL_ROOMS,
    "server": SHARED | ADAPTERS | {"api", "api.app", "control", "server_options"} | CONTROL_ROOMS,
    "server_options": {"domain"},
    "package": set(),  # hangar/__init__.py
    "client": {"errors", "domain"},
    # The CLI reaches the platform only through the client; it shares the fly.toml
    # model, name rules and the archive format with the server, and `hangar server`
    # (cli.server_cmd) is the one command that runs the server in its own process.
    "cli": {"errors", "domain", "appconfig", "client", "builder.archive", "cli.server_cmd"},
    "cli.server_cmd": {"server", "server_options"},
}
# Layers cut out of a larger one: they may also import what the larger one may.
NARROWER = {"cli.server_cmd": "cli", "builder.archive": "builder", "api.app": "api"}


def layer_of(module: str) -> str:
    """The longest ALLOWED key that is `module` or a package above it."""
    parts = module.split(".")[1:]
    if not parts:
        return "package"
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in ALLOWED:
            return name
    raise AssertionError(f"{module} is in no layer: add it to ALLOWED in {__file__}")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def hangar_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("hangar.")}


def may_import(importer: str, imported: str) -> bool:
    source, target = layer_of(importer), layer_of(imported)
    allowed = ALLOWED[source] | {source}
    if source in NARROWER:
        wider = NARROWER[source]
        allowed |= ALLOWED[wider] | {wider}
    return target in allowed


def upward_imports() -> list[str]:
    wrong = []
    for path in sorted(SOURCE.rglob("*.py")):
        importer = module_name(path)
        wrong += [
            f"{importer} -> {name}"
            for name in sorted(hangar_imports(path))
            if not may_import(importer, name)
        ]
    return wrong


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("hangar.control.apps", "hangar.control.machines.lifecycle"),
        ("hangar.control.machines.lifecycle", "hangar.control.deploy.engine"),
        ("hangar.control.supervision.reconcile", "hangar.control.deploy.engine"),
        ("hangar.cli.deploy", "hangar.control.apps"),
        ("hangar.cli.deploy", "hangar.builder.docker_builder"),
        ("hangar.client.api_client", "hangar.store.models"),
        ("hangar.store.models", "hangar.control.apps"),
        ("hangar.control.apps", "hangar.runtime.docker_runtime"),
        ("hangar.api.routes.apps", "hangar.runtime.docker_runtime"),
    ],
)
def test_an_upward_import_is_refused(importer, imported):
    assert not may_import(importer, imported)


def test_every_module_has_a_layer():
    for path in SOURCE.rglob("*.py"):
        layer_of(module_name(path))
