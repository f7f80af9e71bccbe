"""Zero-downtime redeploys, measured.

Starts its own `hangar server` (temporary data dir, free ports), deploys an
example app (`--app hello` or `slowpoke`), then drives constant HTTP load
through the edge (keep-alive and new connections) while running consecutive
redeploys; a 5-second request is started just before each redeploy. For
slowpoke, its two broken releases follow (each must fail). Prints what it measured.

    .venv/bin/python bench/zero_downtime.py [--app hello|slowpoke] [--redeploys 5]
        [--rate 400] [--strategies rolling,canary,bluegreen] [--scale 4]
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.server import Cli, RunningServer, start_server  # noqa: E402

KINDS = (True,) * 4 + (False,) * 4  # workers on kept-alive connections, and on new ones
MAX_SECONDS = 900  # every loop here is bounded in time as well as count


@dataclass
class Tally:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, error: str | None = None) -> None:
        with self.lock:
            self.sent += 1
            if status is not None:
                self.statuses[status] += 1
            if error is not None:
                self.errors[error] += 1

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


def drive_load(
    server: RunningServer,
    app: str,
    rate: float,
    keep_alive: bool,
    tally: Tally,
    stop: threading.Event,
) -> None:
    """One worker: `rate` requests a second, on one kept-alive connection or a new one each."""
    headers = {"Host": f"{app}.localhost"}
    connection: http.client.HTTPConnection | None = None
    deadline = time.monotonic() + MAX_SECONDS
    next_at = time.monotonic()
    while not stop.is_set() and time.monotonic() < deadline:
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
        try:
            connection.request("GET", "/", headers=headers)
            response = connection.getresponse()
            response.read()
            tally.record(response.status)
            if not keep_alive or response.will_close:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as exc:
            tally.record(None, type(exc).__name__)
            connection.close()
            connection = None
        next_at += 1 / rate
        time.sleep(max(0.0, next_at - time.monotonic()))
    if connection is not None:
        connection.close()


def slow_request(server: RunningServer, app: str, results: list[str]) -> None:
    try:
        response = server.get(app, "/cgi-bin/slow?s=5", timeout=60)
        results.append(str(response.status_code))
    except httpx.HTTPError as exc:
        results.append(type(exc).__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="hello", choices=("hello", "slowpoke"))
    parser.add_argument("--redeploys", type=int, default=5, help="redeploys per strategy")
    parser.add_argument("--rate", type=float, default=400, help="total requests a second")
    parser.add_argument(
        "--strategies", default="rolling", help="comma-separated, e.g. rolling,canary,bluegreen"
    )
    parser.add_argument("--scale", type=int, default=0, help="also scale 2 -> N -> 2 under load")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hangar-bench-"))
    server = start_server(work / "data")
    cli = Cli(work / "home", server.api_url)
    project = work / args.app
    shutil.copytree(REPO / "examples" / args.app, project)
    app = f"bench-{args.app}"
    try:
        cli.ok("auth", "signup", "--email", "bench@example.com", "--password", "bench-password")
        cli.ok("apps", "create", app)
        cli.ok("deploy", "-a", app, cwd=project)
        print(
            f"deployed {app}; load {args.rate:.0f} req/s through the edge on "
            f"127.0.0.1:{server.http_port}, {args.redeploys} redeploys per strategy"
        )
        for strategy in filter(None, args.strategies.split(",")):
            print(f"strategy {strategy}:")
            with Load(server, app, args.rate) as load:
                durations, slow = redeploy(cli, server, app, project, strategy, args.redeploys)
            load.report(durations, slow)
        if args.app == "slowpoke":
            print("broken releases:")
            with Load(server, app, args.rate) as load:
                broken = [deploy_broken(cli, app, project, name) for name in BROKEN]
            load.report(broken, [])
        if args.scale:
            print(f"scale count 2 -> {args.scale} -> 2:")
            with Load(server, app, args.rate) as load:
                durations = [scale(cli, app, count) for count in (args.scale, 2)]
            load.report(durations, [])
    finally:
        cli("apps", "destroy", app, "--yes")
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


class Load:
    """Constant load through the edge while the block runs; `report` prints the tally."""

    def __init__(self, server: RunningServer, app: str, rate: float) -> None:
        self.tally, self.stop = Tally(), threading.Event()
        self.workers = [
            threading.Thread(
                target=drive_load,
                args=(server, app, rate / len(KINDS), keep_alive, self.tally, self.stop),
            )
            for keep_alive in KINDS
        ]

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for worker in self.workers:
            worker.join()
        self.elapsed = time.monotonic() - self.started

    def report(self, durations: list[float], slow: list[str]) -> None:
        tally = self.tally
        rate = tally.sent / self.elapsed
        print(f"  requests sent:        {tally.sent} ({rate:.0f} req/s over {self.elapsed:.0f}s)")
        print(f"  non-2xx responses:    {tally.non_2xx} {dict(tally.statuses)}")
        print(f"  connection errors:    {sum(tally.errors.values())} {dict(tally.errors)}")
        if slow:
            print(f"  slow requests:        {', '.join(slow)}")
        if durations:
            print(f"  median time:          {statistics.median(durations):.1f}s")


def redeploy(
    cli: Cli, server: RunningServer, app: str, project: Path, strategy: str, count: int
) -> tuple[list[float], list[str]]:
    """`count` redeploys with a 5-second request in flight as each begins."""
    slow_results: list[str] = []
    durations: list[float] = []
    for number in range(1, count + 1):
        change_source(project, f"{strategy} {number}")
        slow = threading.Thread(target=slow_request, args=(server, app, slow_results))
        slow.start()
        time.sleep(0.5)  # the slow request is in flight when the deploy begins
        began = time.monotonic()
        cli.ok("deploy", "-a", app, "--strategy", strategy, cwd=project)
        durations.append(time.monotonic() - began)
        slow.join()
        print(f"  redeploy {number}: {durations[-1]:.1f}s, slow request {slow_results[-1]}")
    return durations, slow_results


BROKEN = ("fly.crashes.toml", "fly.never-listens.toml")


def change_source(project: Path, label: str) -> None:
    """A code change, so every redeploy builds a new image."""
    page = project / "www" / "index.html.in"
    if page.exists():
        page.write_text(f"<h1>{label} @VERSION@</h1>\n")
    else:
        with (project / "app.py").open("a") as source:
            source.write(f"# {label}\n")


def deploy_broken(cli: Cli, app: str, project: Path, config: str) -> float:
    """A broken release must fail its deploy; the good one keeps serving."""
    began = time.monotonic()
    result = cli("deploy", "-a", app, "-c", config, cwd=project)
    took = time.monotonic() - began
    reason = (result.stderr.strip().splitlines() or ["(no error)"])[0]
    verdict = "failed as it must" if result.returncode else "WRONGLY SUCCEEDED"
    print(f"  {config}: {took:.1f}s, {verdict}: {reason[:110]}")
    return took


def scale(cli: Cli, app: str, count: int) -> float:
    began = time.monotonic()
    cli.ok("scale", "count", str(count), "-a", app, "-y")
    took = time.monotonic() - began
    print(f"  scale count {count}: {took:.1f}s")
    return took


if __name__ == "__main__":
    main()
