"""Register a model with a guided form, then answer its risk questionnaire on a page that
explains each question and previews the tier, EU AI Act category and reasons before
saving. Both ask the services (``models.create_model``, ``risk.preview``, ``risk.assess``);
a refusal re-renders the form with the service's reason beside the field and what the
user typed kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain import risk_texts
from steward.domain.entities import PositiveMeans
from steward.domain.errors import Forbidden, NotFound, StewardError
from steward.services import models as model_service
from steward.services import risk as risk_service
from steward.web import i18n
from steward.web.pages import NOTICES, Page, _page

router = APIRouter(include_in_schema=False)
MODEL_FORM = ("name", "title", "purpose", "business_unit", "owner", "team", "description")
NOTICES.update(
    {
        "model_created": i18n.N_(
            "The model was registered. Answer its risk questionnaire next: the tier decides "
            "what its gates ask for."
        ),
        "risk_assessed": i18n.N_("The risk assessment was saved."),
    }
)


def _register_form(page: Page, form: dict[str, Any], error: StewardError | None = None) -> Response:
    assert page.principal is not None
    if not page.can("model:write"):
        raise Forbidden(
            page.gettext("Registering a model needs the permission model:write."),
            permission="model:write",
        )
    return page.render(
        "register.html",
        status=error.status if error is not None else 200,
        form=form,
        error=error,
        field=error.extra.get("field") if error is not None else None,
        directions=[p.value for p in PositiveMeans],
        my_teams=sorted(page.principal.teams),
    )


@router.get("/models/new")
async def register_form(request: Request) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        return _register_form(page, {"owner": page.principal.name, "positive_means": ""})

    return await _page(request, build)


@router.post("/models/new")
async def register_model(request: Request) -> Response:
    posted = await request.form()
    form = {key: str(posted.get(key) or "") for key in (*MODEL_FORM, "positive_means")}

    def build(page: Page) -> Response:
        assert page.principal is not None
        fields: dict[str, Any] = {k: v for k, v in form.items() if k != "name" and v.strip()}
        try:
            model_service.create_model(page.ctx, page.principal, form["name"].strip(), **fields)
        except StewardError as refused:
            if isinstance(refused, Forbidden | NotFound):
                raise
            return _register_form(page, form, refused)
        target = f"/models/{quote(form['name'].strip())}/risk?notice=model_created"
        return RedirectResponse(target, status_code=303)

    return await _page(request, build, csrf_token=str(posted.get("csrf_token") or ""))


def _risk_page(
    page: Page,
    name: str,
    answers: dict[str, Any],
    *,
    result: Any = None,
    error: StewardError | None = None,
) -> Response:
    assert page.principal is not None
    model = model_service.get_model(page.ctx, page.principal, name)
    if not page.can_on("risk:assess", name):
        raise Forbidden(
            page.gettext("Answering the risk questionnaire needs risk:assess on this model."),
            permission="risk:assess",
        )
    return page.render(
        "risk_form.html",
        status=error.status if error is not None else 200,
        model=model,
        # The questionnaire's words in the page's language (English where none ship).
        form=risk_texts.in_language(
            risk_service.questionnaire(page.ctx, page.principal), page.lang
        ),
        answers=answers,
        result=result,
        error=error,
        field=error.extra.get("field") if error is not None else None,
    )


@router.get("/models/{name}/risk")
async def risk_form(request: Request, name: str) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        current = risk_service.get_assessment(page.ctx, page.principal, name).assessment
        return _risk_page(page, name, dict(current.answers) if current else {})

    return await _page(request, build)


@router.post("/models/{name}/risk")
async def risk_submit(request: Request, name: str) -> Response:
    posted = await request.form()
    step = str(posted.get("step") or "preview")

    def build(page: Page) -> Response:
        assert page.principal is not None
        form = risk_service.questionnaire(page.ctx, page.principal)
        answers: dict[str, Any] = {}
        for q in form.questions:
            chosen = [str(v) for v in posted.getlist(q.id) if str(v)]
            if chosen:
                answers[q.id] = chosen if q.type == "multi" else chosen[0]
        try:
            if step == "save":
                risk_service.assess(page.ctx, page.principal, name, answers)
                return RedirectResponse(
                    f"/models/{quote(name)}?notice=risk_assessed", status_code=303
                )
            result = risk_service.preview(page.ctx, page.principal, name, answers)
        except StewardError as refused:
            if isinstance(refused, Forbidden | NotFound):
                raise
            return _risk_page(page, name, answers, error=refused)
        return _risk_page(page, name, answers, result=result)

    return await _page(request, build, csrf_token=str(posted.get("csrf_token") or ""))
