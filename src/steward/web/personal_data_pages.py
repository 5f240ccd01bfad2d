"""A dataset version's personal data in the web UI: the form that confirms or overrides
a column's classification (the table is part of the dataset page). The service decides
who may (the dataset's owner, its steward team, a data steward) and refuses an override
without a reason; this page only carries the form."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain.errors import StewardError
from steward.services import personal_data
from steward.web import i18n
from steward.web.pages import NOTICES, Page, _page

router = APIRouter(include_in_schema=False)

NOTICES.update(
    {"column_classified": i18n.N_("The column's classification was recorded in the journal.")}
)


@router.post("/datasets/{name}/versions/{version}/personal-data")
async def classify_column(
    request: Request,
    name: str,
    version: int,
    column: str = Form(""),
    decision: str = Form("confirm"),
    categories: str = Form(""),
    reason: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    back = f"/datasets/{quote(name, safe='')}"

    def build(page: Page) -> Response:
        assert page.principal is not None
        chosen = None if decision == "confirm" else [categories or "none"]
        try:
            personal_data.classify(
                page.ctx, page.principal, f"{name}@{version}", column, chosen, reason
            )
        except StewardError as refused:
            return page.refusal(refused, back)
        return RedirectResponse(f"{back}?notice=column_classified#personal-data", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)
