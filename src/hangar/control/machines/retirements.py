"""Old containers drained and stopped in the background while a rollout goes on.

A machine's old container is out of rotation from the moment its drain begins,
so waiting for its last requests and its stop (up to kill_timeout for an app
that ignores SIGTERM) need not hold up the next machine. The rollout still
waits for every retirement before it ends, so a deploy that says done has no
old container left running.
"""

from __future__ import annotations

import threading
from functools import partial

from hangar.appconfig.model import AppConfig
from hangar.control.machines.lifecycle import MachineOps


class Retirements:
    def __init__(self, ops: MachineOps, config: AppConfig) -> None:
        self.ops = ops
        self.config = config
        self._threads: list[threading.Thread] = []

    def retire(self, machine_id: str, container_id: str) -> None:
        work = partial(self._retire, machine_id, container_id)
        thread = self.ops.platform.background.start(f"retire-{self.config.app}-{machine_id}", work)
        self._threads.append(thread)

    def wait(self) -> None:
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _retire(self, machine_id: str, container_id: str) -> None:
        try:
            self.ops.retire(self.config.app, machine_id, container_id, self.config)
        except Exception as exc:  # a thread's error would otherwise vanish
            self.ops.events.emit(
                "warning",
                f"Machine {machine_id}: its old container {container_id[:12]} could not be "
                f"stopped ({exc}); it takes no traffic, and the server removes it when it "
                "next starts",
            )
