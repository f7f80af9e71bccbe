"""What to do when a machine's main process exits, fly.io's way; pure.

- `always`: restart, whatever the exit code, without limit.
- `on-failure`: restart after a non-zero exit (an OOM kill is one) up to `retries`
  times; a clean exit leaves the machine stopped; then it has failed.
- `no`: never restart; the machine is left stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ALWAYS, ON_FAILURE, NO = "always", "on-failure", "no"
DEFAULT_RETRIES = 10
MAX_DELAY_S = 30.0


@dataclass(frozen=True)
class RestartPolicy:
    policy: str = ON_FAILURE  # fly's default for machines a deploy starts
    retries: int = DEFAULT_RETRIES


@dataclass(frozen=True)
class ExitStatus:
    """How a container ended; `code` None when it is gone without a trace."""

    code: int | None
    oom_killed: bool = False

    @property
    def failed(self) -> bool:
        return self.oom_killed or self.code != 0

    def describe(self) -> str:
        if self.oom_killed:
            return "oom killed"
        if self.code is None:
            return "container gone"
        return f"exit {self.code}"


class Verdict(StrEnum):
    RESTART = "restart"
    STOP = "stop"  # the policy leaves it stopped
    GIVE_UP = "give up"  # retries exhausted: failed


def decide(policy: RestartPolicy, status: ExitStatus, restarts: int) -> Verdict:
    """`restarts`: how many times the machine was restarted since it was last started."""
    if policy.policy == ALWAYS:
        return Verdict.RESTART
    if policy.policy == NO or not status.failed:
        return Verdict.STOP
    return Verdict.RESTART if restarts < policy.retries else Verdict.GIVE_UP


def restart_delay(restarts: int) -> float:
    """Seconds to leave an exited machine before restarting it: 1, 2, 4 … 30.

    The first second also tells a crash from a stop still being recorded.
    """
    return min(2.0 ** min(max(restarts, 0), 8), MAX_DELAY_S)


def attempt_label(policy: RestartPolicy, attempt: int) -> str:
    """`1/10` under on-failure; just `1` when there is no limit."""
    return f"{attempt}/{policy.retries}" if policy.policy == ON_FAILURE else str(attempt)
