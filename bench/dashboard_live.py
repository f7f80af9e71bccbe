"""What keeping a dashboard page live costs the server: one round of an app page's
panels (load through the control layer + render) and of the apps table, in ms and
bytes, for an app with an hour of traffic and usage, 20 releases, 300 deploy events.

Each open app page costs one such round a second (dashboard/live.py), so
1000 / (ms per round) is how many open pages one CPU keeps live.

Run: .venv/bin/python bench/dashboard_live.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from tests.support.platform import deploy_now, fake_platform_in, http_config, setup_app

from hangar.control.metrics import BUCKET_S, WINDOW_S, Metrics
from hangar.control.orgs import personal_org
from hangar.dashboard.app_view import load_app_page, render_panels
from hangar.dashboard.pages import app_rows
from hangar.ports import UsageSample
from hangar.store.models import User


def fill(platform, folder: Path) -> User:
    setup_app(platform)
    for _ in range(20):
        deploy_now(platform, folder, http_config("web"))
    events = platform.activities.latest("web").events
    for index in range(300 - len(events.so_far())):
        events.emit("build", f"Step {index}: a line of a long build log " + "x" * 40)
    now = time.time()
    clock = Clock()
    platform.metrics = Metrics(clock)
    for bucket in range(WINDOW_S // BUCKET_S):  # an hour of traffic, bucket by bucket
        clock.at = now - WINDOW_S + (bucket + 1) * BUCKET_S
        for status, ms in ((200, 12), (200, 30), (404, 3), (500, 800)):
            platform.metrics.record_request("web", status, ms)
        for machine in ("m1", "m2"):
            sample = UsageSample(bucket * 10**8, bucket * 10**10, 2, 64 * 2**20, 2**30)
            platform.metrics.record_usage("web", machine, sample)
    with platform.db.session() as session:
        user = session.scalar(select(User))
        session.expunge(user)
    return user


class Clock:
    at = 0.0

    def __call__(self) -> float:
        return self.at


def personal_org_name(platform, user: User) -> str:
    with platform.db.session() as session:
        return personal_org(session, user).name


def timed(rounds: int, work) -> tuple[float, int]:
    took, size = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        size = work()
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        platform = fake_platform_in(Path(folder))
        user = fill(platform, Path(folder))

        def app_round() -> int:
            page = load_app_page(platform, user, "web", "benchview12", "csrf")
            return sum(len(html) for html in render_panels(page).values())

        app_ms, app_bytes = timed(rounds, app_round)
        org = personal_org_name(platform, user)
        table_ms, table_bytes = timed(rounds, lambda: len(app_rows(platform, user, org)))
        platform.db.dispose()
    print(f"app page round: {app_ms:.1f} ms median, {app_bytes / 1024:.0f} KiB of panels")
    print(f"apps table round: {table_ms:.1f} ms median, {table_bytes} bytes")
    print(f"open app pages one CPU keeps live (1 round/s each): {1000 / app_ms:.0f}")


if __name__ == "__main__":
    main()
