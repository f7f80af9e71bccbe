"""A deploy's phases, timed from the progress lines `hangar deploy` prints as they come."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

PACKED = re.compile(r"^==> Deploying ")
BUILDING = re.compile(r"^--> Building image")
BUILT = re.compile(r"^--> Image \S+ built")
UPDATING = re.compile(r"^--> Updating machines")
MACHINE_STEPS = {
    "starting": re.compile(r"^--> Machine (\S+): starting v\d+ beside it"),
    "started": re.compile(r"^--> Machine (\S+): v\d+ started, waiting for health checks"),
    "healthy": re.compile(r"^--> Machine (\S+): v\d+ healthy, serving beside the old one"),
    "draining": re.compile(r"^--> Draining machine (\S+)"),
    "stopping": re.compile(r"^--> Stopping the old container of machine (\S+)"),
    "stopped": re.compile(r"^--> Machine (\S+): old container stopped"),
    "moved": re.compile(r"^--> Machine (\S+) is on v\d+"),
    "smoke": re.compile(r"^--> Smoke checks: machine (\S+) must keep running"),
    "smoked": re.compile(r"^--> Smoke checks passed for machine (\S+)"),
}
# phase name: (from step, to step)
MACHINE_PHASES = {
    "start": ("starting", "started"),
    "healthy": ("started", "healthy"),
    "drain": ("draining", "stopping"),
    "stop": ("stopping", "stopped"),
    "smoke wait": ("smoke", "smoked"),
}


@dataclass
class Timeline:
    """When each progress line arrived, seconds after the command began."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    returncode: int = 0
    stderr: str = ""
    total_s: float = 0.0

    def first(self, pattern: re.Pattern[str]) -> float | None:
        return next((t for t, line in self.lines if pattern.search(line)), None)

    def phases(self) -> dict[str, float]:
        """pack+upload, build, release, then each machine's start/healthy/drain/stop/smoke wait."""
        found: dict[str, float] = {}
        marks = [self.first(p) for p in (PACKED, BUILDING, BUILT, UPDATING)]
        packed, building, built, updating = marks
        if packed is not None:
            found["pack+upload"] = packed
        if building is not None and built is not None:
            found["build"] = built - building
        if built is not None and updating is not None:
            found["release"] = updating - built
        for machine, steps in self._machine_steps().items():
            for phase, (begin, end) in MACHINE_PHASES.items():
                if begin in steps and end in steps:
                    found[f"{machine} {phase}"] = steps[end] - steps[begin]
        moved = [t for t, line in self.lines if MACHINE_STEPS["moved"].search(line)]
        if moved:
            found["after the last swap"] = self.total_s - max(moved)
        return found

    def _machine_steps(self) -> dict[str, dict[str, float]]:
        steps: dict[str, dict[str, float]] = {}
        for at, line in self.lines:
            for step, pattern in MACHINE_STEPS.items():
                match = pattern.search(line)
                if match:
                    steps.setdefault(match.group(1), {}).setdefault(step, at)
        return steps


def run_timed(command: Sequence[str], **popen: object) -> Timeline:
    """Run `command`, stamping each stdout line as it arrives (bounded: 10 minutes)."""
    began = time.monotonic()
    timeline = Timeline()
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(  # type: ignore[call-overload]
            list(command), stdout=subprocess.PIPE, stderr=errors, text=True, **popen
        ) as process,
    ):
        for line in process.stdout:
            timeline.lines.append((time.monotonic() - began, line.rstrip("\n")))
        timeline.returncode = process.wait(timeout=600)
        errors.seek(0)
        timeline.stderr = errors.read()
    timeline.total_s = time.monotonic() - began
    return timeline


def describe(phases: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in phases.items())
