"""The FastAPI application factory."""

from __future__ import annotations

import dataclasses
import hmac
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from steward import __version__
from steward.api import headers, observability, problems
from steward.api.bodyguard import BodyGuard
from steward.api.deps import BEARER_SCHEME, principal
from steward.api.routes import approvals as approval_routes
from steward.api.routes import (
    audit,
    findings,
    mlflow_compat,
    mlflow_webhooks,
    models,
    reviews,
    tokens,
    versions,
    waivers,
)
from steward.api.routes import checks as check_routes
from steward.api.routes import compliance as compliance_routes
from steward.api.routes import connections as connection_routes
from steward.api.routes import datasets as dataset_routes
from steward.api.routes import deployments as deployment_routes
from steward.api.routes import identity as identity_routes
from steward.api.routes import impact as impact_routes
from steward.api.routes import jobs as job_routes
from steward.api.routes import monitoring as monitoring_routes
from steward.api.routes import notifications as notification_routes
from steward.api.routes import personal_data as personal_data_routes
from steward.api.routes import policies as policy_routes
from steward.api.routes import reports as report_routes
from steward.api.routes import risk as risk_routes
from steward.api.routes import signing as signing_routes
from steward.api.routes import sso as sso_routes
from steward.api.routes import system as system_routes
from steward.api.routes import validation as validation_routes
from steward.api.routes import webhooks as webhook_routes
from steward.artifacts import spool
from steward.domain.permissions import Principal
from steward.services import health as readiness_service
from steward.services import schema
from steward.services.context import Context
from steward.webhooks import deliver

# Answer without a token; every other /api/v1 operation needs one.
PUBLIC_PATHS = (
    "/api/v1/health",
    "/api/v1/auth/login",
    "/api/v1/auth/sso/device",
    "/api/v1/auth/sso/device/token",
    "/api/v1/auth/sso/backchannel-logout",  # the provider's signed logout token authenticates
    mlflow_webhooks.PATH,  # MLflow signs its deliveries (HMAC), it holds no Steward token
)


def create_app(ctx: Context) -> FastAPI:
    # Everything served here acts for remote callers (a copy: an embedded client sharing
    # the caller's context keeps its local behaviour).
    # (Tests that only read the OpenAPI schema pass no context at all.)
    if dataclasses.is_dataclass(ctx):
        ctx = dataclasses.replace(ctx, remote=True)
    app = FastAPI(
        title="Steward",
        version=__version__,
        description="Model lifecycle management: inventory, versioned registry, governed "
        "lifecycle and a tamper-evident audit journal. Authenticate with "
        "`Authorization: Bearer <token>`.",
        docs_url=None,  # served below, with a CSP that admits Swagger UI's CDN and script
        redoc_url=None,
        # The webhook delivery loop, unless a `steward worker` process drains the outbox.
        lifespan=None if _external_worker(ctx) else deliver.lifespan(ctx),
    )
    app.state.ctx = ctx
    # Spool files of processes that died mid-upload (kill -9) go at start-up; the live
    # uploads of other workers are kept (each file names its process).
    if isinstance(ctx, Context):  # tests/test_docs.py builds the app without a store
        spool.clean(ctx.settings.spool_dir)
    problems.install(app)
    _document_contract(app)
    app.add_middleware(BodyGuard)  # auth and size before any body is read
    app.add_middleware(headers.SecurityHeaders)  # on every response
    app.add_middleware(observability.Observe)  # outermost: ids, metrics, access log

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Steward API")
        body = bytes(page.body).decode()
        page.headers["content-security-policy"] = headers.docs_csp(body)
        return page

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers (restart it when this fails)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    async def readyz() -> JSONResponse:
        """Readiness: the database answers at this code's schema and the artifact store
        can be listed (send traffic elsewhere while this is 503)."""
        ready = await run_in_threadpool(readiness_service.readiness, ctx)
        return JSONResponse(
            ready.to_dict(),
            status_code=200 if ready.ok else 503,
            headers={} if ready.ok else {"retry-after": "5"},
        )

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics; needs ``Authorization: Bearer $STEWARD_METRICS_TOKEN`` when
        that is set."""
        expected = ctx.settings.metrics_token
        if expected:
            given = request.headers.get("authorization", "").partition(" ")[2].strip()
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return PlainTextResponse(
                    "Send 'Authorization: Bearer <STEWARD_METRICS_TOKEN>'.\n",
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )
        body, content_type = await run_in_threadpool(observability.exposition, ctx)
        return Response(body, media_type=content_type)

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "schema": schema.head()}

    @app.get("/api/v1/me", tags=["system"])
    def me(who: Principal = Depends(principal)) -> dict[str, object]:
        return {
            "user": who.name,
            "anonymous": who.anonymous,
            "roles": sorted(who.roles),
            "teams": sorted(who.teams),
        }

    for router in (models.router, versions.router, audit.router, tokens.router):
        app.include_router(router)
    # findings, waivers, periodic reviews
    for router in (findings.router, waivers.router, reviews.router):
        app.include_router(router)
    # policy packs, gates, transition requests and approvals, check runs
    for router in (policy_routes.router, approval_routes.router, check_routes.router):
        app.include_router(router)
    # risk assessment
    app.include_router(risk_routes.router)
    app.include_router(impact_routes.router)
    # users, teams, roles, login
    app.include_router(identity_routes.router)
    app.include_router(sso_routes.router)
    # the caller's own notifications and preferences
    app.include_router(notification_routes.router)
    # signing, deploy records, webhooks
    for router in (signing_routes.router, deployment_routes.router, webhook_routes.router):
        app.include_router(router)
    # data connections the server reads through (admin-registered)
    app.include_router(connection_routes.router)
    app.include_router(dataset_routes.router)
    app.include_router(personal_data_routes.router)
    # validation engine: server-side runs
    app.include_router(validation_routes.router)
    # background jobs run by `steward worker`
    app.include_router(job_routes.router)
    # production monitoring: monitors, runs, labels, alerts
    app.include_router(monitoring_routes.router)
    # model cards and evidence packs
    app.include_router(report_routes.router)
    # compliance: control catalogs, coverage, organisation dashboard
    app.include_router(compliance_routes.router)
    # crash leftovers (steward doctor)
    app.include_router(system_routes.router)
    # the MLflow Model Registry API for the `mlflow` client (docs/mlflow.md)
    app.include_router(mlflow_compat.router)
    app.include_router(mlflow_webhooks.router)  # MLflow's registry webhooks ask for a sync
    # web UI at / (sign-in, inventory, model pages, approvals, audit journal)
    from steward.web import mount as mount_web

    mount_web(app)
    return app


def _external_worker(ctx: Context) -> bool:
    return isinstance(ctx, Context) and ctx.settings.worker == "external"


def _document_contract(app: FastAPI) -> None:
    """Every /api/v1 operation takes a bearer token (health and login work without), and
    documents the problem+json responses it can give, so clients and conformance tools
    see every status code the server really returns."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})["HTTPBearer"] = BEARER_SCHEME
            components.setdefault("schemas", {})["Problem"] = problems.PROBLEM_SCHEMA
            for path, operations in schema.get("paths", {}).items():
                public = path in PUBLIC_PATHS
                for method, operation in operations.items():
                    if not public:
                        operation.setdefault("security", [{"HTTPBearer": []}])
                    if path.startswith("/api/") or path == mlflow_webhooks.PATH:
                        problems.document(operation, method, path, public=public)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
