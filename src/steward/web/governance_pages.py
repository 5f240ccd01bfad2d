"""Web pages for findings, periodic reviews, compliance coverage, model cards, evidence
packs, monitoring history and administration. Server-rendered over the services, which
check every permission again; what a page offers follows ``authorize``."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from steward.api.headers import DOCUMENT_CSP
from steward.domain.errors import Forbidden, InvalidInput, NotFound, StewardError
from steward.domain.findings import MOVES, FindingStatus
from steward.domain.permissions import Role
from steward.domain.reviews import CHECKLIST, Outcome
from steward.domain.yamldoc import DocumentError
from steward.services import (
    compliance,
    evidence,
    findings,
    identity,
    modelcards,
    monitoring,
    sso,
    waivers,
)
from steward.services import policies as policy_service
from steward.services import reviews as review_service
from steward.web import charts, i18n, session
from steward.web.pages import Page, _monitor_performance, _page

router = APIRouter(include_in_schema=False)
DRIFT_METRICS = ("psi", "drift_score", "missing_rate", "out_of_range_share")
MAX_POLICY_BYTES = 256 * 1024


def _spec(spec: dict[str, Any]) -> Markup:
    return Markup(json.dumps(spec).replace("</", "<\\/"))


# -- findings -------------------------------------------------------------------------------


def _moves(page: Page, status: FindingStatus) -> list[str]:
    """The statuses this user may move a finding to from ``status``."""
    if not page.can("finding:write"):
        return []
    allowed = MOVES[status]
    return sorted(
        s.value for s in allowed if s is not FindingStatus.ACCEPTED or page.can("waiver:grant")
    )


def _findings_view(
    page: Page,
    status: str,
    model: str,
    cursor: str,
    *,
    dataset: str = "",
    refused: StewardError | None = None,
    finding_id: int | None = None,
    typed: dict[str, str] | None = None,
    back: str = "",
) -> Response:
    """The findings list; after a refused change, that finding's form shows the service's
    reason beside the field at fault and keeps what the user typed."""
    assert page.principal is not None
    error = None
    try:
        result = findings.list_findings(
            page.ctx,
            page.principal,
            model=model or None,
            status=status or None,
            dataset=dataset or None,
            limit=100,
            cursor=cursor or None,
        )
        # data findings (failed quality rules) have no model: listed unless one is chosen
        data_rows = (
            []
            if model
            else findings.list_data_findings(
                page.ctx, page.principal, dataset=dataset or None, status=status or None
            )
        )
    except StewardError as bad:
        if isinstance(bad, Forbidden):
            raise
        error = str(bad)
        result = findings.list_findings(page.ctx, page.principal, limit=100)
        data_rows = []
    filters = {"status": status, "model": model, "dataset": dataset}
    next_url = (
        "/findings?" + urlencode({**filters, "cursor": result.next_cursor})
        if result.next_cursor
        else None
    )
    rows = [
        {
            "f": f,
            "moves": _moves(page, f.status),
            "notes": findings.finding_comments(page.ctx, page.principal, f.id),
        }
        for f in result.items
    ]
    return page.render(
        "findings.html",
        rows=rows,
        data_rows=data_rows,
        filters=filters,
        statuses=["active", "open", "in_remediation", "resolved", "accepted", "all"],
        next_url=next_url,
        error=error,
        today=page.ctx.uow.clock().date(),
        refused=refused,
        refused_id=finding_id,
        typed=typed or {},
        back_here=back,
        status=refused.status if refused is not None else 200,
    )


@router.get("/findings")
async def findings_page(
    request: Request, status: str = "active", model: str = "", cursor: str = "", dataset: str = ""
) -> Response:

    return await _page(
        request, lambda page: _findings_view(page, status, model, cursor, dataset=dataset)
    )


@router.post("/findings/{finding_id}")
async def finding_update(
    request: Request,
    finding_id: int,
    status: str = Form(""),
    note: str = Form(""),
    due_date: str = Form(""),
    owner: str = Form(""),
    comment: str = Form(""),
    back: str = Form("/findings"),
    csrf_token: str = Form(""),
) -> Response:
    """Move, assign or reschedule a finding and/or add a remediation note to it."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        target = session.safe_next(back)
        try:
            due = None
            if due_date:
                try:
                    due = date.fromisoformat(due_date)
                except ValueError as bad:
                    raise InvalidInput(
                        f"Due date {due_date!r} is not a date; write it as YYYY-MM-DD.",
                        field="due_date",
                    ) from bad
            if status or due or owner or not comment.strip():
                findings.update_finding(
                    page.ctx,
                    page.principal,
                    finding_id,
                    status=status or None,
                    note=note or None,
                    due_date=due,
                    owner=owner.strip() or None,
                )
            if comment.strip():
                findings.comment_finding(page.ctx, page.principal, finding_id, comment)
        except StewardError as refused:
            if isinstance(refused, Forbidden | NotFound):
                return page.refusal(refused, target)
            path, _, query = target.partition("?")
            shown = dict(parse_qsl(query))
            typed = {
                "status": status,
                "note": note,
                "due_date": due_date,
                "owner": owner,
                "comment": comment,
            }
            return _findings_view(
                page,
                shown.get("status", "active"),
                shown.get("model", ""),
                "",
                refused=refused,
                finding_id=finding_id,
                typed=typed,
                back=target,
            )
        path, _, query = target.partition("?")
        kept = [(k, v) for k, v in parse_qsl(query) if k != "notice"]
        query = urlencode([*kept, ("notice", "finding_updated")])
        return RedirectResponse(f"{path}?{query}", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


# -- waivers --------------------------------------------------------------------------------


@router.post("/models/{name}/versions/{number}/waivers")
async def waiver_grant(
    request: Request,
    name: str,
    number: int,
    requirement: str = Form(""),
    reason: str = Form(""),
    expires: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    """A risk officer excuses one unmet requirement of this version until a date."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        back = f"/models/{quote(name)}?version={number}"
        try:
            if not expires.strip():
                raise InvalidInput(
                    "A waiver needs an expiry date: it excuses a requirement for a while, "
                    "never for good.",
                    field="expires",
                )
            waivers.grant_waiver(
                page.ctx,
                page.principal,
                name,
                number,
                requirement=requirement,
                reason=reason,
                expires=expires,
            )
        except StewardError as refused:
            return page.refusal(refused, back)
        return RedirectResponse(f"{back}&notice=waiver_granted#gate-h", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


# -- reviews --------------------------------------------------------------------------------


# The checklist items in the page's language (the domain words them in English, by id).
CHECKLIST_LABELS = {
    "performance": i18n.N_(
        "Performance since the last review is within the thresholds the model was approved with."
    ),
    "data": i18n.N_(
        "The input data and population are still those the model was built for (drift reviewed)."
    ),
    "use": i18n.N_("The model is used only for its stated purpose, by its intended users."),
    "findings": i18n.N_("Open findings, waivers and their remediation were reviewed."),
    "documentation": i18n.N_("The model card, risk assessment and documentation are current."),
    "monitoring": i18n.N_("Monitoring is active and its alerts were followed up."),
}


def _reviews_view(
    page: Page,
    within: int,
    *,
    refused: StewardError | None = None,
    model: str = "",
    typed: dict[str, Any] | None = None,
) -> Response:
    """Reviews due; after a refused completion, that model's form shows the service's
    reason and keeps the outcome, notes and ticks."""
    assert page.principal is not None
    error = None
    try:
        due = review_service.reviews_due(page.ctx, page.principal, within_days=within)
    except StewardError as bad:
        if isinstance(bad, Forbidden):
            raise
        error, due = str(bad), []
    return page.render(
        "reviews.html",
        status=refused.status if refused is not None else 200,
        due=due,
        may_complete=review_service.completions(page.principal, due),
        within=within,
        error=error,
        outcomes=[o.value for o in Outcome],
        checklist=[(item, CHECKLIST_LABELS.get(item, text)) for item, text in CHECKLIST.items()],
        refused=refused,
        refused_model=model,
        typed=typed or {},
    )


@router.get("/reviews")
async def reviews_page(request: Request, within: int = 90) -> Response:
    return await _page(request, lambda page: _reviews_view(page, within))


@router.post("/reviews/{model}/complete")
async def review_complete(
    request: Request,
    model: str,
    outcome: str = Form(""),
    notes: str = Form(""),
    checklist: list[str] = Form(default=[]),
    within: int = Form(90),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            review_service.complete_review(
                page.ctx,
                page.principal,
                model,
                outcome=outcome,
                notes=notes,
                checklist=checklist,
            )
        except StewardError as refused:
            if isinstance(refused, Forbidden | NotFound):
                return page.refusal(refused, "/reviews")
            typed = {"outcome": outcome, "notes": notes, "checklist": checklist}
            return _reviews_view(page, within, refused=refused, model=model, typed=typed)
        return RedirectResponse("/reviews?notice=review_completed", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


# -- compliance -----------------------------------------------------------------------------


@router.get("/compliance")
async def compliance_page(request: Request, framework: str = "") -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        p, ctx = page.principal, page.ctx
        board = compliance.organisation_dashboard(ctx, p)
        catalogs = compliance.list_catalogs(ctx, p)
        chosen = framework or (catalogs[0].id if catalogs else "")
        org = compliance.organisation_coverage(ctx, p, [chosen] if chosen else None)
        models = _model_names(page)
        return page.render(
            "compliance.html",
            board=board,
            catalogs=catalogs,
            chosen=chosen,
            org=org,
            models=models,
            statuses=["current", "stale", "missing", "not_applicable", "organisational"],
        )

    return await _page(request, build)


def _model_names(page: Page) -> list[str]:
    from steward.services import web_views

    assert page.principal is not None
    names: list[str] = []
    cursor = None
    while True:
        result = web_views.inventory(page.ctx, page.principal, limit=200, cursor=cursor)
        names.extend(row.name for row in result.rows)
        if not result.next_cursor or len(names) >= 1000:
            return names
        cursor = result.next_cursor


@router.get("/compliance/models/{name}")
async def model_compliance(request: Request, name: str, framework: str = "") -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        catalogs = compliance.list_catalogs(page.ctx, page.principal)
        chosen = framework or (catalogs[0].id if catalogs else "")
        cov = compliance.model_coverage(
            page.ctx, page.principal, name, [chosen] if chosen else None
        )
        return page.render(
            "compliance_model.html", cov=cov, catalogs=catalogs, chosen=chosen, name=name
        )

    return await _page(request, build)


# -- model card and evidence pack ------------------------------------------------------------


@router.get("/models/{name}/versions/{number}/card")
async def model_card(
    request: Request, name: str, number: int, format: str = "html", download: int = 0
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            card = modelcards.render(
                page.ctx,
                page.principal,
                name,
                number,
                format,
                translate=page.gettext,
                lang=page.lang,
            )
        except InvalidInput as bad:
            return page.refusal(bad, f"/models/{quote(name)}?version={number}")
        disposition = "attachment" if download or format == "pdf" else "inline"
        return Response(
            card.content,
            media_type=card.media_type,
            headers={
                "content-disposition": f'{disposition}; filename="{card.filename}"',
                # a self-contained document with its own <style>: styles yes, scripts never
                "content-security-policy": DOCUMENT_CSP,
            },
        )

    return await _page(request, build)


@router.post("/models/{name}/evidence")
async def evidence_pack(request: Request, name: str, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        out = io.BytesIO()
        try:
            summary = evidence.export_pack(page.ctx, page.principal, name, out)
        except StewardError as refused:
            return page.refusal(refused, f"/models/{quote(name)}")
        filename = f"{name}-evidence-{summary.chain_head_seq}.zip"
        return Response(
            out.getvalue(),
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )

    return await _page(request, build, csrf_token=csrf_token)


# -- monitoring history ---------------------------------------------------------------------


def monitor_sections(page: Page, name: str, metric: str = "psi") -> list[dict[str, Any]]:
    """Each monitor of the model with its chart of ``metric`` per feature over time."""
    assert page.principal is not None
    p, ctx = page.principal, page.ctx
    monitors = monitoring.list_monitors(ctx, p, model=name)
    shown = []
    for mon in monitors:
        points = monitoring.history(ctx, p, mon.id, metric=metric, limit=10000)
        alerts = monitoring.list_alerts(ctx, p, monitor=mon.id, status="all", limit=1000)
        runs = {r.id: r for r in monitoring.list_runs(ctx, p, mon.id, limit=1000)}
        rules = [r for r in mon.config.rules if r.metric == metric]
        built = charts.drift_history(
            points,
            alerts,
            runs,
            rules,
            title=page.gettext("%(metric)s per feature over time") % {"metric": metric},
            axis_time=page.gettext("Window start"),
            axis_value=metric,
            threshold_label=page.gettext("threshold"),
        )
        shown.append(
            {
                "monitor": mon,
                "spec": _spec(built["spec"]) if built else None,
                "table": built["table"] if built else [],
                "columns": built["columns"] if built else [],
                "thresholds": built["thresholds"] if built else [],
                "alerts": alerts,
            }
        )
    return shown


@router.get("/models/{name}/monitoring")
async def monitoring_page(request: Request, name: str, metric: str = "psi") -> Response:
    def build(page: Page) -> Response:
        if metric not in DRIFT_METRICS:
            bad = InvalidInput(
                f"Unknown chart metric {metric!r}; choose one of {', '.join(DRIFT_METRICS)}.",
                field="metric",
            )
            return page.refusal(bad, f"/models/{quote(name)}/monitoring")
        shown = monitor_sections(page, name, metric)
        return page.render(
            "monitoring.html",
            name=name,
            shown=shown,
            metric=metric,
            metrics=DRIFT_METRICS,
            performance={s["monitor"].id: _monitor_performance(page, s) for s in shown},
        )

    return await _page(request, build)


# -- admin ----------------------------------------------------------------------------------


def _admin_page(page: Page, status: int = 200, **values: Any) -> Response:
    assert page.principal is not None
    if not page.can("user:manage"):
        raise Forbidden(
            page.gettext("The administration pages are for administrators (user:manage)."),
            permission="user:manage",
        )
    users = identity.list_users(page.ctx, page.principal)
    teams = identity.list_teams(page.ctx, page.principal)
    packs = policy_service.list_packs(page.ctx, page.principal)
    return page.render(
        "admin.html",
        status=status,
        users=users,
        teams=teams,
        packs=packs,
        roles=[r.value for r in Role],
        sso=sso.overview(page.ctx, page.principal),
        **values,
    )


@router.get("/admin")
async def admin(request: Request) -> Response:
    return await _page(request, lambda page: _admin_page(page))


@router.post("/admin/users/{name}/roles")
async def change_role(
    request: Request,
    name: str,
    role: str = Form(""),
    change: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            if change == "grant":
                identity.grant_role(page.ctx, page.principal, name, role)
            elif change == "revoke":
                identity.revoke_role(page.ctx, page.principal, name, role)
            else:
                raise InvalidInput("Choose grant or revoke.", field="change")
        except StewardError as refused:
            return page.refusal(refused, "/admin")
        return RedirectResponse("/admin?notice=role_changed#users-h", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/admin/policies")
async def upload_policy(
    request: Request,
    text: str = Form(""),
    file: UploadFile | None = File(None),
    activate: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    upload = await file.read(MAX_POLICY_BYTES + 1) if file is not None and file.filename else b""
    filename = file.filename if file is not None and file.filename else None

    def build(page: Page) -> Response:
        assert page.principal is not None
        source = filename or page.gettext("uploaded policy pack")
        try:
            if len(upload) > MAX_POLICY_BYTES or len(text.encode()) > MAX_POLICY_BYTES:
                raise InvalidInput(
                    f"A policy pack is at most {MAX_POLICY_BYTES // 1024} KiB; this one is "
                    "larger. Split or shorten it.",
                    field="text",
                )
            try:
                yaml_text = upload.decode() if upload else text
            except UnicodeDecodeError as bad:
                raise InvalidInput(
                    "The uploaded file is not UTF-8 text; save the YAML as UTF-8.", field="file"
                ) from bad
            if not yaml_text.strip():
                raise InvalidInput(
                    "Paste the pack's YAML or choose a file to upload.", field="text"
                )
            info = policy_service.load_pack(
                page.ctx, page.principal, yaml_text, source=source, activate=bool(activate)
            )
        except DocumentError as bad:
            return _admin_page(
                page, status=422, problems=bad.problems, problem_source=source, text=yaml_text
            )
        except StewardError as refused:
            if isinstance(refused, Forbidden):
                raise
            return _admin_page(page, status=refused.status, upload_error=str(refused), text=text)
        ref = quote(f"{info.name}@{info.version}")
        return RedirectResponse(f"/admin?notice=policy_loaded&pack={ref}#policies", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


i18n.LABELS.update(
    {
        "in_remediation": i18n.N_("in remediation"),
        "all": i18n.N_("all"),
        "overdue": i18n.N_("overdue"),
        "due": i18n.N_("due"),
        "unscheduled": i18n.N_("unscheduled"),
        "satisfactory": i18n.N_("satisfactory"),
        "needs_improvement": i18n.N_("needs improvement"),
        "unsatisfactory": i18n.N_("unsatisfactory"),
        "current": i18n.N_("current"),
        "stale": i18n.N_("stale"),
        "missing": i18n.N_("missing"),
        "not_applicable": i18n.N_("not applicable"),
        "organisational": i18n.N_("organisational"),
    }
)
