"""The FastAPI app factory: the API and the dashboard, over one platform."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from hangar.api.body_limit import BodyLimit
from hangar.api.errors import install_error_handlers
from hangar.api.host_check import HostCheck, host_name
from hangar.api.routes import (
    apps,
    auth,
    certs,
    deploys,
    domains,
    machines,
    orgs,
    scale,
    secrets,
    tokens,
)
from hangar.control.deploy.engine import Deployer
from hangar.control.platform import Platform
from hangar.dashboard.mount import install_dashboard

# Follow streams (logs -f, deploy events, the dashboard's log panels) each hold a
# worker thread while they wait for a line: anyio's default of 40 would let 40
# open browser tabs stall every other request.
WORKER_THREADS = 400


@asynccontextmanager
async def _more_threads(_api: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def create_api(
    platform: Platform, deployer: Deployer | None = None, hosts: Iterable[str] | None = None
) -> FastAPI:
    """The API; with `hosts`, it answers only requests whose Host is one of them."""
    api = FastAPI(
        title="Hangar",
        version="0.1.0",
        summary="Run Dockerfile apps like fly.io",
        lifespan=_more_threads,
    )
    api.state.platform = platform
    api.state.deployer = deployer or Deployer(platform)
    install_error_handlers(api)
    api.add_middleware(BodyLimit)
    if hosts is not None:
        api.add_middleware(HostCheck, allowed=frozenset(host_name(h) for h in hosts))
    for module in (auth, tokens, orgs, apps, deploys, machines, secrets, scale, certs, domains):
        api.include_router(module.router)
    install_dashboard(api)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api
