"""Every started machine's CPU and memory, read from the engine now and then."""

from __future__ import annotations

from sqlalchemy import select

from hangar.control.platform import Platform
from hangar.domain.states import MachineState
from hangar.store.models import App, Machine

SAMPLE_EVERY_S = 15.0


def sample_usage(platform: Platform) -> int:
    """One sample of each started machine into platform.metrics; how many were read."""
    with platform.db.session() as session:
        rows = session.execute(
            select(App.name, Machine.id, Machine.container_id)
            .join(App, Machine.app_id == App.id)
            .where(Machine.state == MachineState.STARTED, Machine.container_id.is_not(None))
        ).all()
    read = 0
    for app, machine_id, container_id in rows:
        sample = platform.runtime.usage(str(container_id))
        if sample is not None:
            platform.metrics.record_usage(app, machine_id, sample)
            read += 1
    return read
