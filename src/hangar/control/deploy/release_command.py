"""[deploy] release_command: run once in a temporary machine of the new image, first."""

from __future__ import annotations

import shlex
import time
from dataclasses import replace

from hangar.control.events import EventLog
from hangar.control.machines.lifecycle import Target
from hangar.control.machines.specs import container_spec
from hangar.control.platform import Platform
from hangar.domain.names import new_machine_id
from hangar.errors import HangarError

POLL_S = 0.25
OUTPUT_LINES = 50


class ReleaseCommandFailed(HangarError):
    status = 422
    code = "release_command_failed"


def run_release_command(platform: Platform, target: Target, region: str, events: EventLog) -> None:
    """Run the command with RELEASE_COMMAND=1; raise with its output if it fails."""
    command = target.config.deploy.release_command
    if not command:
        return
    machine_id = new_machine_id()
    events.emit("phase", f"Running release command `{command}` in machine {machine_id}")
    spec = container_spec(
        target.config,
        machine_id,
        target.version,
        target.image,
        region,
        platform.secrets.env_for(target.app),
    )
    spec = replace(
        spec, cmd=shlex.split(command), internal_port=None, env={**spec.env, "RELEASE_COMMAND": "1"}
    )
    info = platform.runtime.run(spec)
    try:
        exit_code = _wait_for_exit(platform, info.container_id, target.config.deploy.wait_timeout)
        output = _output(platform, info.container_id, machine_id)
    finally:
        platform.runtime.remove(info.container_id)
    if exit_code != 0:
        raise ReleaseCommandFailed(
            f"release command `{command}` failed (exit code {exit_code}); its output:\n{output}",
            hint="no machine was changed; fix the command or the app and deploy again",
        )
    events.emit("phase", "Release command finished")


def _wait_for_exit(platform: Platform, container_id: str, timeout_s: float) -> int | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = platform.runtime.inspect(container_id)
        if info is None or info.state not in ("created", "running", "restarting"):
            return info.exit_code if info else None
        time.sleep(POLL_S)
    platform.runtime.stop(container_id, "SIGKILL", 0)
    raise ReleaseCommandFailed(
        f"the release command did not finish within {timeout_s:.0f}s",
        hint="make it faster, or raise [deploy] wait_timeout",
    )


def _output(platform: Platform, container_id: str, machine_id: str) -> str:
    lines = platform.runtime.logs(container_id, machine_id, tail=OUTPUT_LINES)
    return "\n".join(f"  {line.message}" for line in lines) or "  (no output)"
