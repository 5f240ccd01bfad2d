"""A model's AI impact assessment in the browser: its status (who submitted and who
decided which revision, and why an approved one went stale), the form to fill or revise
with each question's references, and the approve/reject form for those the service lets
decide. Everything is asked of :mod:`steward.services.impact`: a refusal (a missing
answer, segregation of duties) re-renders the page with the service's words beside what
the user typed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain import impact_texts
from steward.domain.errors import Forbidden, NotFound, StewardError
from steward.domain.impact import ImpactAssessment, ImpactStatus
from steward.services import impact as impact_service
from steward.services import models as model_service
from steward.web import i18n
from steward.web.pages import NOTICES, Page, _page

router = APIRouter(include_in_schema=False)
NOTICES.update(
    {
        "impact_submitted": i18n.N_(
            "The impact assessment was submitted. Someone who neither submitted it nor owns "
            "the model approves or rejects it."
        ),
        "impact_approved": i18n.N_("The impact assessment was approved."),
        "impact_rejected": i18n.N_("The impact assessment was rejected."),
    }
)


def impact_summary(page: Page, name: str) -> dict[str, Any]:
    """What the model page shows: the latest revision, the approved one that counts (and
    why it is stale), as the service reports them."""
    assert page.principal is not None
    revisions = impact_service.history(page.ctx, page.principal, name)
    latest = revisions[0] if revisions else None
    current = impact_service.current(page.ctx, page.principal, name)
    if latest is None:
        state = "none"
    elif latest.status is ImpactStatus.SUBMITTED:
        state = "submitted"
    elif current is not None and current.stale:
        state = "stale"
    else:
        state = latest.status.value
    return {"state": state, "latest": latest, "current": current, "revisions": revisions}


def _impact_page(
    page: Page,
    name: str,
    answers: dict[str, str] | None = None,
    *,
    error: StewardError | None = None,
    decide_error: StewardError | None = None,
    comment: str = "",
) -> Response:
    assert page.principal is not None
    model = model_service.get_model(page.ctx, page.principal, name)
    english = impact_service.form(page.ctx, page.principal)
    summary = impact_summary(page, name)
    latest: ImpactAssessment | None = summary["latest"]
    if answers is None:
        answers = dict(latest.answers) if latest is not None else {}
    failed = error or decide_error
    return page.render(
        "impact.html",
        status=failed.status if failed is not None else 200,
        model=model,
        # The form's words in the page's language (English where none ship).
        form=impact_texts.in_language(english, page.lang),
        required={f.id for f in english.required_for(model.regulatory_category.value)},
        answers=answers,
        error=error,
        field=error.extra.get("field") if error is not None else None,
        decide_error=decide_error,
        comment=comment,
        may_submit=page.can_on("risk:assess", name),
        may_decide=page.can_on("approval:decide", name),
        **summary,
    )


@router.get("/models/{name}/impact")
async def impact_page(request: Request, name: str) -> Response:
    return await _page(request, lambda page: _impact_page(page, name))


@router.post("/models/{name}/impact")
async def impact_submit(request: Request, name: str) -> Response:
    posted = await request.form()

    def build(page: Page) -> Response:
        assert page.principal is not None
        form = impact_service.form(page.ctx, page.principal)
        answers = {f.id: str(posted.get(f.id) or "") for f in form.fields}
        try:
            impact_service.submit(page.ctx, page.principal, name, answers)
        except StewardError as refused:
            if isinstance(refused, Forbidden | NotFound):
                raise
            return _impact_page(page, name, answers, error=refused)
        return RedirectResponse(
            f"/models/{quote(name)}/impact?notice=impact_submitted", status_code=303
        )

    return await _page(request, build, csrf_token=str(posted.get("csrf_token") or ""))


@router.post("/models/{name}/impact/decision")
async def impact_decide(request: Request, name: str) -> Response:
    posted = await request.form()
    approve = str(posted.get("decision") or "") == "approve"
    comment = str(posted.get("comment") or "")
    raw_revision = str(posted.get("revision") or "")

    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            impact_service.decide(
                page.ctx,
                page.principal,
                name,
                approve=approve,
                comment=comment,
                revision=int(raw_revision) if raw_revision.isdigit() else None,
            )
        except NotFound:
            raise
        except StewardError as refused:
            # Segregation of duties is a 403 the decider must read beside the form.
            return _impact_page(page, name, decide_error=refused, comment=comment)
        notice = "impact_approved" if approve else "impact_rejected"
        return RedirectResponse(f"/models/{quote(name)}/impact?notice={notice}", status_code=303)

    return await _page(request, build, csrf_token=str(posted.get("csrf_token") or ""))
