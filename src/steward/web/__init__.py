"""The web UI: server-rendered pages (FastAPI + Jinja2 + htmx, Vega-Lite charts) over the
service layer, in English and Traditional Chinese. ``mount(app)`` adds it at ``/``;
the REST API stays under ``/api/v1``. See docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    from steward.web.admin_pages import router as admin_router
    from steward.web.connection_pages import router as connection_router
    from steward.web.dataset_pages import router as dataset_router
    from steward.web.governance_pages import router as governance_router
    from steward.web.impact_pages import router as impact_router
    from steward.web.job_pages import router as job_router
    from steward.web.monitor_pages import router as monitor_router
    from steward.web.notification_pages import router as notification_router
    from steward.web.pages import router
    from steward.web.personal_data_pages import router as personal_data_router
    from steward.web.policy_pages import router as policy_router
    from steward.web.programme_pages import router as programme_router
    from steward.web.register_pages import router as register_router
    from steward.web.sso_pages import router as sso_router
    from steward.web.version_pages import router as version_router

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(register_router)  # before /models/{name}: /models/new is a page
    app.include_router(version_router)  # before /models/{name}: a fixed path below it
    app.include_router(monitor_router)
    app.include_router(impact_router)
    app.include_router(router)
    app.include_router(programme_router)
    app.include_router(governance_router)
    app.include_router(admin_router)
    app.include_router(connection_router)
    app.include_router(dataset_router)
    app.include_router(personal_data_router)
    app.include_router(policy_router)
    app.include_router(sso_router)
    app.include_router(notification_router)
    app.include_router(job_router)
