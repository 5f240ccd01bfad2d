"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from steward import __version__
from steward.api import problems
from steward.api.deps import principal
from steward.api.routes import audit, models, tokens, versions
from steward.domain.permissions import Principal
from steward.services.context import Context
from steward.store.database import SCHEMA_HEAD


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(
        title="Steward",
        version=__version__,
        description="Model lifecycle management: inventory, versioned registry, governed "
        "lifecycle and a tamper-evident audit journal. Authenticate with "
        "`Authorization: Bearer <token>`.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    problems.install(app)

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "schema": SCHEMA_HEAD}

    @app.get("/api/v1/me", tags=["system"])
    def me(who: Principal = Depends(principal)) -> dict[str, object]:
        return {"user": who.name, "anonymous": who.anonymous}

    for router in (models.router, versions.router, audit.router, tokens.router):
        app.include_router(router)
    return app
