"""Write fly.toml the way `fly launch` lays it out."""

from __future__ import annotations

from pathlib import Path

import tomlkit

from hangar.appconfig.model import AppConfig, Concurrency
from hangar.domain.durations import format_duration


def render(config: AppConfig) -> str:
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"fly.toml app configuration file for {config.app!r}"))
    doc.add(tomlkit.nl())
    doc["app"] = config.app
    doc["primary_region"] = config.primary_region
    doc["kill_signal"] = config.kill_signal
    doc["kill_timeout"] = format_duration(config.kill_timeout)
    doc["build"] = _build_table(config)
    if config.env:
        doc["env"] = dict(config.env)
    doc["deploy"] = {
        "strategy": config.deploy.strategy,
        "max_unavailable": _number(config.deploy.max_unavailable),
        "wait_timeout": format_duration(config.deploy.wait_timeout),
    }
    if config.http_service is not None:
        doc["http_service"] = _http_service_table(config)
    vms = tomlkit.aot()
    for vm in config.vm or []:
        vms.append(tomlkit.item(vm.model_dump(exclude_none=True)))
    if config.vm:
        doc["vm"] = vms
    if config.restart:
        restarts = tomlkit.aot()
        for restart in config.restart:
            restarts.append(tomlkit.item(restart.model_dump(exclude={"processes"})))
        doc["restart"] = restarts
    return tomlkit.dumps(doc)


def write_file(path: Path, config: AppConfig) -> None:
    path.write_text(render(config))


def rename_app(path: Path, name: str) -> None:
    """Set `app` in an existing fly.toml, keeping everything else as written."""
    doc = tomlkit.parse(path.read_text())
    doc["app"] = name
    path.write_text(tomlkit.dumps(doc))


def _build_table(config: AppConfig) -> tomlkit.items.Table:
    table = tomlkit.table()
    for key, value in config.build.model_dump(exclude_none=True).items():
        if value:
            table[key] = value
    return table


def _http_service_table(config: AppConfig) -> tomlkit.items.Table:
    service = config.http_service
    assert service is not None
    table = tomlkit.table()
    table["internal_port"] = service.internal_port
    table["force_https"] = service.force_https
    table["auto_stop_machines"] = service.auto_stop_machines
    table["auto_start_machines"] = service.auto_start_machines
    table["min_machines_running"] = service.min_machines_running
    if service.concurrency != Concurrency():
        table["concurrency"] = service.concurrency.model_dump()
    checks = tomlkit.aot()
    for check in service.checks:
        checks.append(
            tomlkit.item(
                {
                    "grace_period": format_duration(check.grace_period),
                    "interval": format_duration(check.interval),
                    "timeout": format_duration(check.timeout),
                    "method": check.method,
                    "path": check.path,
                }
            )
        )
    if service.checks:
        table["checks"] = checks
    return table


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else value
