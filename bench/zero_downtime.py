"""Zero-downtime redeploys, measured.

For each example app (`--app all`, the default, or one of them) on its own
`hangar server` (temporary data dir, free ports), under constant HTTP load
through the edge (half on kept-alive connections, half on new ones), phase by
phase: redeploys with a 5-second request in flight as each begins; redeploys
with nothing slow in flight; the app's broken releases (each must fail); the
control plane stopped with SIGTERM and started, killed with SIGKILL and
started. Prints requests and failures by kind per phase, each deploy's phase
timings, and how many backend connections the edge opened and reused.

    .venv/bin/python bench/zero_downtime.py [--app all|hello|slowpoke] [--redeploys 5]
        [--quick 5] [--rate 400] [--strategies rolling,canary,bluegreen] [--scale 4]
        [--no-restarts]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker
import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.timeline import Timeline, describe, run_timed  # noqa: E402
from tests.support.server import (  # noqa: E402
    HANGAR,
    Cli,
    RunningServer,
    restart_server,
    start_server,
)

from hangar.edge.runtime_api import RuntimeAPI  # noqa: E402

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
    parser.add_argument("--app", default="all", choices=("all", *APPS))
    parser.add_argument("--redeploys", type=int, default=5, help="redeploys per strategy")
    parser.add_argument(
        "--quick", type=int, default=5, help="redeploys with no slow request in flight"
    )
    parser.add_argument("--rate", type=float, default=400, help="total requests a second")
    parser.add_argument(
        "--strategies", default="rolling", help="comma-separated, e.g. rolling,canary,bluegreen"
    )
    parser.add_argument("--scale", type=int, default=0, help="also scale 2 -> N -> 2 under load")
    parser.add_argument(
        "--restarts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="stop the control plane (SIGTERM, then SIGKILL) under load",
    )
    args = parser.parse_args()
    for app in APPS if args.app == "all" else (args.app,):
        bench_app(app, args)


APPS = ("hello", "slowpoke")


def bench_app(example: str, args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="hangar-bench-"))
    bench = Bench(example, work, args.rate)
    try:
        bench.deploy_first()
        for strategy in filter(None, args.strategies.split(",")) if args.redeploys else ():
            bench.phase(
                f"{args.redeploys} redeploys ({strategy}, a 5 s request in flight)",
                lambda s=strategy: bench.redeploys(s, args.redeploys, slow=True),
            )
        if args.quick:
            bench.phase(
                f"{args.quick} redeploys (rolling, nothing slow in flight)",
                lambda: bench.redeploys("rolling", args.quick, slow=False),
            )
            bench.phase(
                f"{args.quick} redeploys (rolling, nothing slow in flight, --no-smoke-checks)",
                lambda: bench.redeploys("rolling", args.quick, slow=False, smoke=False),
            )
        good = bench.bodies()
        if (bench.project / BROKEN[0]).exists():
            bench.phase("broken releases", bench.deploy_broken)
        if args.restarts:
            bench.phase("control plane restarts", bench.restarts)
        if args.scale:
            bench.phase(f"scale count 2 -> {args.scale} -> 2", lambda: bench.scale(args.scale))
        bench.final_check(good)
    finally:
        bench.close()
        shutil.rmtree(work, ignore_errors=True)


class Bench:
    """One example app on its own `hangar server`, and the phases run against it."""

    def __init__(self, example: str, work: Path, rate: float) -> None:
        self.example, self.rate = example, rate
        self.server = start_server(work / "data")
        self.cli = Cli(work / "home", self.server.api_url)
        self.project = work / example
        shutil.copytree(REPO / "examples" / example, self.project)
        self.app = f"bench-{example}"
        self.edge = EdgeCounters(self.server.data_dir / "edge" / "stats.sock", self.app)

    def deploy_first(self) -> None:
        self.cli.ok("auth", "signup", "--email", "bench@example.com", "--password", "bench-pw-1")
        self.cli.ok("apps", "create", self.app)
        self.cli.ok("deploy", "-a", self.app, cwd=self.project)
        print(
            f"== {self.example}: deployed {self.app}; load {self.rate:.0f} req/s through the "
            f"edge on 127.0.0.1:{self.server.http_port} (half keep-alive, half new connections)"
        )

    def phase(self, title: str, run: Callable[[], list[float]]) -> None:
        print(f"{title}:")
        before = self.edge.read()
        with Load(self.server, self.app, self.rate) as load:
            durations = run()
        load.report(durations)
        print(f"  backend connections:  {self.edge.read().reuse_since(before)}")

    def redeploys(self, strategy: str, count: int, slow: bool, smoke: bool = True) -> list[float]:
        """`count` redeploys; with `slow`, a 5-second request in flight as each begins."""
        durations, switched = [], []
        for number in range(1, count + 1):
            change_source(self.project, f"{strategy} {number} {slow=} {smoke=}")
            slow_results: list[str] = []
            request = threading.Thread(
                target=slow_request, args=(self.server, self.app, slow_results)
            )
            if slow:
                request.start()
                time.sleep(0.5)  # the slow request is in flight when the deploy begins
            flags = () if smoke else ("--no-smoke-checks",)
            timeline = self.deploy("--strategy", strategy, *flags)
            if slow:
                request.join()
            assert timeline.returncode == 0, timeline.stderr
            durations.append(timeline.total_s)
            switched.append(timeline.total_s - timeline.phases().get("after the last swap", 0))
            note = f", slow request {slow_results[-1]}" if slow_results else ""
            print(f"  redeploy {number}: {timeline.total_s:.1f}s{note}")
            print(f"    {describe(timeline.phases())}")
        until = statistics.median(switched)
        print(f"  median until every machine is on the new release: {until:.1f}s")
        return durations

    def deploy(self, *extra: str) -> Timeline:
        command = [HANGAR, "deploy", "-a", self.app, *extra]
        return run_timed(command, cwd=self.project, env=self.cli.environment())

    def deploy_broken(self) -> list[float]:
        """Each broken release must fail its deploy, naming why; the good one keeps serving."""
        took = []
        for config in BROKEN:
            timeline = self.deploy("-c", config)
            took.append(timeline.total_s)
            verdict = "failed as it must" if timeline.returncode else "WRONGLY SUCCEEDED"
            errors = [line for line in timeline.stderr.splitlines() if "rror" in line]
            reason = (errors or ["(no error printed)"])[0]
            print(f"  {config}: {timeline.total_s:.1f}s, {verdict}: {reason[:140]}")
        return took

    def restarts(self) -> list[float]:
        """SIGTERM the control plane, start it, SIGKILL it, start it: the edge serves on."""
        before = self.containers()
        took = []
        for how in ("SIGTERM", "SIGKILL"):
            began = time.monotonic()
            self.restart_server(how)
            took.append(time.monotonic() - began)
            print(f"  {how}, 2 s with the edge alone, started again: {took[-1]:.1f}s")
        machines = json.loads(self.cli.ok("machines", "list", "-a", self.app, "--json").stdout)
        replaced = len(before - self.containers())
        print(f"  machines after:       {[m['state'] for m in machines]}")
        print(f"  containers replaced:  {replaced} of {len(before)}")
        return took

    def restart_server(self, how: str) -> None:
        if how == "SIGTERM":
            self.server.stop(keep_edge=True)
        else:
            self.server.process.kill()
            self.server.process.wait()
        time.sleep(2)
        self.server = restart_server(self.server)

    def containers(self) -> set[str]:
        engine = docker.from_env()
        try:
            found = engine.containers.list(filters={"label": f"hangar.app={self.app}"})
        finally:
            engine.close()
        return {c.id for c in found if c.id}

    def scale(self, count: int) -> list[float]:
        took = []
        for target in (count, 2):
            began = time.monotonic()
            self.cli.ok("scale", "count", str(target), "-a", self.app, "-y")
            took.append(time.monotonic() - began)
            print(f"  scale count {target}: {took[-1]:.1f}s")
        return took

    def bodies(self, count: int = 20) -> set[str]:
        return {self.server.get(self.app).text for _ in range(count)}

    def final_check(self, good: set[str]) -> None:
        """The last good release serves every request after the broken ones and restarts."""
        answers = [self.server.get(self.app) for _ in range(40)]
        statuses = Counter(a.status_code for a in answers)
        same = all(a.text in good for a in answers)
        print(f"after all phases: {dict(statuses)}, all from the last good release: {same}")

    def close(self) -> None:
        self.cli("apps", "destroy", self.app, "--yes")
        self.server.stop()


@dataclass(frozen=True)
class Counters:
    pid: int
    connect: int
    reuse: int

    def reuse_since(self, before: Counters) -> str:
        if self.pid == before.pid:
            connect, reuse = self.connect - before.connect, self.reuse - before.reuse
            since = "in this phase"
        else:
            connect, reuse, since = self.connect, self.reuse, "since the edge last reloaded"
        share = 100 * reuse / (connect + reuse) if connect + reuse else 0.0
        return f"{connect} opened, {reuse} reused ({share:.1f}% reuse {since})"


class EdgeCounters:
    """The app's backend counters in HAProxy (`show stat`: connect, reuse)."""

    def __init__(self, socket: Path, app: str) -> None:
        self.api, self.app = RuntimeAPI(socket), app

    def read(self) -> Counters:
        rows = csv.DictReader(io.StringIO(self.api.send(f"show stat {self.app} 2 -1")[2:]))
        row = next(rows)
        return Counters(self.api.pid(), int(row["connect"] or 0), int(row["reuse"] or 0))


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

    def report(self, durations: list[float]) -> None:
        tally = self.tally
        rate = tally.sent / self.elapsed
        print(f"  requests sent:        {tally.sent} ({rate:.0f} req/s over {self.elapsed:.0f}s)")
        print(f"  non-2xx responses:    {tally.non_2xx} {dict(tally.statuses)}")
        print(f"  connection errors:    {sum(tally.errors.values())} {dict(tally.errors)}")
        if durations:
            print(f"  median time:          {statistics.median(durations):.1f}s")


BROKEN = ("fly.crashes.toml", "fly.never-listens.toml")


def change_source(project: Path, label: str) -> None:
    """A code change, so every redeploy builds a new image."""
    page = project / "www" / "index.html.in"
    if page.exists():
        page.write_text(f"<h1>{label} @VERSION@</h1>\n")
    else:
        with (project / "app.py").open("a") as source:
            source.write(f"# {label}\n")


if __name__ == "__main__":
    main()
