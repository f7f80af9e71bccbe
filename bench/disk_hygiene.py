"""Disk hygiene, measured: does an app's image count stop growing at --keep-images?

Starts its own `hangar server --keep-images N` (temporary data dir, free
ports), then deploys a copy of the example app again and again, changing its
index page (and a random blob, so each image has bytes of its own) every time.
After each deploy (and its prune) prints the app's image count, the bytes
those images use, and the engine's total image size from `docker system df`.
Destroys the app and stops the server at the end.

    .venv/bin/python bench/disk_hygiene.py [--deploys 20] [--keep 5] [--blob-kb 256]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.server import Cli, RunningServer, start_server  # noqa: E402

DEPLOYMENT = re.compile(r"\(deployment ([0-9a-f]+)\)")


@dataclass(frozen=True)
class Usage:
    images: int  # tags of hangar/<app>
    size: int  # bytes of those images, shared layers (the base) counted once each
    unique: int  # bytes only those images hold: what removing them all frees
    engine: int  # every image layer on the engine (`docker system df`)


def measure(client: docker.DockerClient, app: str) -> Usage:
    df = client.df()
    prefix = f"hangar/{app}:"
    mine = [i for i in df["Images"] if any(t.startswith(prefix) for t in i["RepoTags"] or ())]
    tags = sum(1 for i in mine for t in i["RepoTags"] if t.startswith(prefix))
    size = sum(i["Size"] for i in mine)
    unique = sum(i["Size"] - i["SharedSize"] for i in mine if i["SharedSize"] >= 0)
    return Usage(tags, size, unique, int(df["LayersSize"]))


def deploy(cli: Cli, app: str, project: Path, number: int, blob_kb: int) -> list[dict[str, Any]]:
    """Change the app, deploy it, and wait for the deploy (prune included) to be over."""
    (project / "www" / "index.html.in").write_text(f"<h1>deploy {number} @VERSION@</h1>\n")
    (project / "www" / "blob.bin").write_bytes(os.urandom(blob_kb * 1024))
    result = cli.ok("deploy", "-a", app, cwd=project)
    match = DEPLOYMENT.search(result.stdout)
    if match is None:
        raise RuntimeError(f"no deployment id in:\n{result.stdout}")
    return events_until_closed(cli, app, match.group(1))


def events_until_closed(cli: Cli, app: str, deployment: str) -> list[dict[str, Any]]:
    """Every event of the deploy, its prune included."""
    token = cli.ok("auth", "token").stdout.strip()
    url = f"{cli.api_url}/v1/apps/{app}/deploys/{deployment}/events"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=None) as http, http.stream("GET", url) as answer:
        answer.raise_for_status()
        return [json.loads(line) for line in answer.iter_lines() if line.strip()]


def mb(size: int) -> str:
    return f"{size / 1e6:8.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deploys", type=int, default=20)
    parser.add_argument("--keep", type=int, default=5, help="hangar server --keep-images N")
    parser.add_argument("--blob-kb", type=int, default=256, help="random bytes added per deploy")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hangar-bench-disk-"))
    client = docker.from_env()
    server = start_server(work / "data", extra=("--keep-images", str(args.keep)))
    cli = Cli(work / "home", server.api_url)
    project = work / "hello"
    shutil.copytree(REPO / "examples" / "hello", project)
    app = f"bench-disk-{os.getpid()}"
    try:
        cli.ok("auth", "signup", "--email", "bench@example.com", "--password", "bench-password")
        cli.ok("apps", "create", app)
        run(server, cli, client, app, project, args)
    finally:
        cli("apps", "destroy", app, "--yes")
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        left = measure(client, app).images
        print(f"after `apps destroy`: {left} image(s) of {app} left")
        client.close()


def run(
    server: RunningServer,
    cli: Cli,
    client: docker.DockerClient,
    app: str,
    project: Path,
    args: argparse.Namespace,
) -> None:
    print(f"{args.deploys} deploys of {app}, hangar server --keep-images {args.keep}")
    print(" deploy  images   app images (size / unique)   engine images    secs  pruned")
    counts = []
    for number in range(1, args.deploys + 1):
        began = time.monotonic()
        events = deploy(cli, app, project, number, args.blob_kb)
        seconds = time.monotonic() - began
        usage = measure(client, app)
        counts.append(usage.images)
        pruned = next((len(e["images"]) for e in events if e["type"] == "prune"), 0)
        print(
            f" {number:6d}  {usage.images:6d}  {mb(usage.size)} / {mb(usage.unique)}"
            f"  {mb(usage.engine)}  {seconds:6.1f}  {pruned:6d}"
        )
    if server.get(app).status_code != 200:
        print("the app did not answer after the last deploy")
    steady = counts[args.keep - 1 :] if len(counts) >= args.keep else []
    print(
        f"image count: max {max(counts)}, last {counts[-1]}; "
        f"stops growing at {args.keep}: {'yes' if steady and set(steady) == {args.keep} else 'no'}"
    )


if __name__ == "__main__":
    main()
