"""The compliance programme page (/compliance/programme): readiness per framework week by
week, replayed from the journal, and the next actions ranked by how many unmet controls
each would satisfy, with the plan as CSV and Markdown. Everything is computed and stored by
``services.compliance`` (``programme_view``: the programme as last computed, recomputed by
the worker or, in a small organisation, by the visit); this module only draws it."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from steward.domain.errors import StewardError
from steward.services import compliance
from steward.web import charts
from steward.web.pages import Page, _page

router = APIRouter(include_in_schema=False)
SHOWN_ACTIONS = 25
EXPORTS = {"csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8"}


@router.get("/compliance/programme")
async def programme_page(request: Request, weeks: int = 12, framework: str = "") -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        catalogs = compliance.list_catalogs(page.ctx, page.principal)
        error = None
        try:
            view = compliance.programme_view(
                page.ctx, page.principal, weeks, [framework] if framework else None
            )
        except StewardError as refused:
            if refused.status in (401, 403):
                raise
            error = refused
            view = compliance.programme_view(page.ctx, page.principal)
        found = view.programme
        weeks_shown = list(found.weeks) if found is not None else []
        spec = charts.readiness_over_time(weeks_shown, page.gettext) if weeks_shown else None
        frameworks = sorted({f.framework for p in weeks_shown for f in p.frameworks})
        return page.render(
            "programme.html",
            status=error.status if error is not None else 200,
            error=error,
            programme=found,
            view=view,
            refresh_minutes=int(compliance.REFRESH_AFTER.total_seconds() // 60),
            live_models=compliance.LIVE_MODELS,
            spec=Markup(json.dumps(spec).replace("</", "<\\/")) if spec else None,
            frameworks=frameworks,
            rows=[(p, {f.framework: f.percent_current for f in p.frameworks}) for p in weeks_shown],
            catalogs=catalogs,
            chosen=framework,
            weeks=weeks,
            actions=found.actions[:SHOWN_ACTIONS] if found is not None else (),
        )

    return await _page(request, build)


@router.get("/compliance/programme/plan.{kind}")
async def programme_export(request: Request, kind: str, weeks: int = 12) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        if kind not in EXPORTS:
            return page.render(
                "error.html",
                status=404,
                message=page.gettext("The plan is exported as plan.csv or plan.md."),
            )
        found = compliance.programme_plan(page.ctx, page.principal, kind, weeks)
        if found is None:
            return page.render(
                "error.html",
                status=503,
                message=page.gettext(
                    "The plan is being computed by the worker; try again in a few minutes."
                ),
            )
        media = EXPORTS[kind]
        return Response(
            found[0],
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="compliance-plan.{kind}"',
                "Cache-Control": "no-store",
            },
        )

    return await _page(request, build)
