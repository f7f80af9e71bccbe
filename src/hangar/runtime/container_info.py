"""Read a ContainerInfo out of the Docker Engine's inspect document."""

from __future__ import annotations

from typing import Any

from hangar.ports import APP_LABEL, MACHINE_LABEL, RELEASE_LABEL, ContainerInfo

STOPPED_STATES = frozenset({"exited", "dead"})
LOOPBACK = "127.0.0.1"


def info_from_attrs(attrs: dict[str, Any]) -> ContainerInfo:
    """Map `docker inspect` output of a Hangar container to a ContainerInfo."""
    labels: dict[str, str] = attrs["Config"].get("Labels") or {}
    state = attrs["State"]
    return ContainerInfo(
        container_id=attrs["Id"],
        app=labels.get(APP_LABEL, ""),
        machine_id=labels.get(MACHINE_LABEL, ""),
        release=_int_or_zero(labels.get(RELEASE_LABEL)),
        state=state["Status"],
        host_port=published_port(attrs),
        image=attrs["Config"].get("Image", ""),
        exit_code=state.get("ExitCode") if state["Status"] in STOPPED_STATES else None,
        oom_killed=bool(state.get("OOMKilled")),
        pid=state.get("Pid") or None,
    )


def published_port(attrs: dict[str, Any]) -> int | None:
    """The host port on 127.0.0.1 of the first published TCP port, if running."""
    ports: dict[str, list[dict[str, str]] | None] = attrs["NetworkSettings"].get("Ports") or {}
    for container_port, bindings in sorted(ports.items()):
        if container_port.endswith("/tcp"):
            for binding in bindings or []:
                if binding.get("HostIp") in (LOOPBACK, "") and binding.get("HostPort"):
                    return int(binding["HostPort"])
    return None


def _int_or_zero(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
