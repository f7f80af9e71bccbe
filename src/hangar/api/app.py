"""The FastAPI app factory: the only place that sees concrete adapters."""

from __future__ import annotations

from fastapi import FastAPI

from hangar.api.body_limit import BodyLimit
from hangar.api.errors import install_error_handlers
from hangar.api.routes import apps, auth, deploys, machines, scale, secrets, tokens
from hangar.control.deploy.engine import Deployer
from hangar.control.platform import Platform


def create_api(platform: Platform, deployer: Deployer | None = None) -> FastAPI:
    api = FastAPI(title="Hangar", version="0.1.0", summary="Run Dockerfile apps like fly.io")
    api.state.platform = platform
    api.state.deployer = deployer or Deployer(platform)
    install_error_handlers(api)
    api.add_middleware(BodyLimit)
    for module in (auth, tokens, apps, deploys, machines, secrets, scale):
        api.include_router(module.router)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api
