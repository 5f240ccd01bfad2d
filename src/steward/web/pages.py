"""The web UI's pages: server-rendered Jinja2 over the service layer, htmx for partial
updates. Every handler resolves the session's principal, calls services (which check
permissions themselves) and renders; what a page offers follows ``authorize``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from steward.domain.audit import AuditFilter
from steward.domain.entities import ASSESSED_TIERS, serving_version
from steward.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    StewardError,
    TooManyRequests,
    Unauthenticated,
)
from steward.domain.lifecycle import ALLOWED, Stage
from steward.domain.monitoring import DATASET
from steward.domain.permissions import Permission, Principal, authorize
from steward.services import (
    access,
    approvals,
    audit,
    checks,
    findings,
    gates,
    identity,
    lifecycle,
    monitoring,
    notifications,
    sso,
    tokens,
    transparency,
    versions,
    waivers,
    web_views,
    witnesses,
    work,
)
from steward.services import models as model_service
from steward.services import risk as risk_service
from steward.services.context import Context
from steward.web import charts, i18n, session

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
AUDIT_PAGE = 200
NOTICES = {
    "notifications_read": i18n.N_("Marked read."),
    "preferences_saved": i18n.N_("Your notification preferences were saved."),
    "approved": i18n.N_("Your approval was recorded."),
    "rejected": i18n.N_("Your rejection was recorded; the request is closed."),
    "applied": i18n.N_("The gate passed and the version moved."),
    "checkpointed": i18n.N_("A new checkpoint was signed and published."),
    "witness_added": i18n.N_("The witness was registered."),
    "witness_removed": i18n.N_("The witness was removed; its cosignatures stay."),
    "requested": i18n.N_("The request was opened; it waits for approvals."),
    "withdrawn": i18n.N_("The request was withdrawn."),
    "waiver_granted": i18n.N_("The waiver was granted; the gate counts it until it expires."),
    "signed_out": i18n.N_("You are signed out."),
    "finding_updated": i18n.N_("The finding was updated."),
    "review_completed": i18n.N_("The review was recorded and the next one scheduled."),
    "policy_loaded": i18n.N_("The policy pack was loaded."),
    "role_changed": i18n.N_("The role was changed."),
    "job_queued": i18n.N_("The job was queued; a Steward worker runs it. This page follows it."),
}
# The move the gate checklist shows for a version in each stage.
NEXT_STAGE: dict[Stage, Stage] = {
    Stage.DEVELOPMENT: Stage.VALIDATION,
    Stage.VALIDATION: Stage.APPROVED,
    Stage.APPROVED: Stage.PRODUCTION,
    Stage.PRODUCTION: Stage.DEPRECATED,
    Stage.UNDER_REVIEW: Stage.PRODUCTION,
    Stage.DEPRECATED: Stage.RETIRED,
}


def _environment(code: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(code), newstyle=True)  # type: ignore[attr-defined]
    return env


_ENVS = {code: _environment(code) for code in i18n.LOCALES}


class Page:
    """Per-request rendering state: locale, formatter, principal, session secret."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.ctx: Context = request.app.state.ctx
        self.lang = i18n.negotiate(
            request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
        )
        self.fmt = i18n.Formatter(self.lang, self.ctx.settings.zone)
        self.secret = request.cookies.get(session.SESSION_COOKIE)
        self.principal: Principal | None = None
        self.gettext = i18n.translations(self.lang).gettext
        self.work_total: int | None = None
        self.unread_total: int | None = None

    def unread_count(self) -> int:
        """The person's unread notifications (the navigation's bell), asked once per page."""
        if self.unread_total is None:
            self.unread_total = (
                notifications.unread_count(self.ctx, self.principal)
                if self.principal is not None and not self.principal.anonymous
                else 0
            )
        return self.unread_total

    def work_count(self) -> int:
        """How much waits for this person (the navigation's count), asked once per page."""
        if self.work_total is None:
            self.work_total = (
                work.count(self.ctx, self.principal)
                if self.principal is not None and self.can("governance:read")
                else 0
            )
        return self.work_total

    def authenticate(self) -> Principal | None:
        if not self.secret:
            return None
        try:
            self.principal = tokens.authenticate(self.ctx, self.secret)
        except Unauthenticated:
            return None
        self.request.scope.setdefault("state", {})["steward_principal"] = self.principal
        return self.principal

    def can(self, permission: str) -> bool:
        return (
            self.principal is not None and authorize(self.principal, Permission(permission)).allowed
        )

    def can_on(self, permission: str, model: str) -> bool:
        """``can`` for one model: the service's object-level rule (an owner's own models)."""
        return self.principal is not None and access.may(
            self.ctx, self.principal, Permission(permission), model
        )

    def label(self, value: object) -> str:
        key = str(getattr(value, "value", value))
        return self.gettext(i18n.LABELS[key]) if key in i18n.LABELS else key

    def refusal(self, refused: StewardError, back: str = "", **values: Any) -> HTMLResponse:
        """The error page with the service's reason (and, on zh-TW pages, its translation)."""
        return self.render(
            "error.html",
            status=refused.status,
            message=str(refused),
            error=refused,
            back=back,
            **values,
        )

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        env = _ENVS[self.lang]
        here = self.request.url.path + (
            "?" + self.request.url.query if self.request.url.query else ""
        )
        html = env.get_template(template).render(
            lang=self.lang,
            locales=i18n.LOCALES,
            fmt=self.fmt,
            label=self.label,
            can=self.can,
            can_on=self.can_on,
            work_count=self.work_count,
            unread_count=self.unread_count,
            me=self.principal,
            csrf=session.csrf_for(self.secret) if self.secret and self.principal else "",
            csrf_field=session.CSRF_FIELD,
            here=here,
            here_quoted=quote(here, safe=""),
            notice=self._notice(),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def _notice(self) -> str | None:
        code = self.request.query_params.get("notice")
        return self.gettext(NOTICES[code]) if code in NOTICES else None


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + ("?" + request.url.query if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


async def _page(
    request: Request, build: Callable[[Page], Response], *, csrf_token: str | None = None
) -> Response:
    """Authenticate and build the response in one worker-thread hop.

    A form POST passes its ``csrf_token``: a forged or expired form is refused before
    ``build`` reads any of its input.
    """

    def job() -> Response:
        page = Page(request)
        if page.authenticate() is None:
            return _login_redirect(request)
        if csrf_token is not None and not session.csrf_valid(page.secret, csrf_token):
            return _csrf_refusal(page)
        try:
            return build(page)
        except (NotFound, Forbidden) as refused:
            return page.refusal(refused)

    return await run_in_threadpool(job)


def _csrf_refusal(page: Page) -> HTMLResponse:
    return page.render(
        "error.html",
        status=403,
        message=page.gettext(
            "This form has expired or did not come from Steward (CSRF check failed). "
            "Reload the page and try again."
        ),
    )


router = APIRouter(include_in_schema=False)


# -- sign-in --------------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    def job() -> Response:
        page = Page(request)
        token = session.new_login_csrf()
        response = page.render(
            "login.html", next=session.safe_next(next), login_csrf=token, **_sign_in_choices(page)
        )
        session.set_login_csrf(response, request, token)
        return response

    return await run_in_threadpool(job)


def _sign_in_choices(page: Page) -> dict[str, Any]:
    """What the sign-in page offers: the provider's button, the password form, or both."""
    settings = page.ctx.settings
    return {
        "sso_name": settings.oidc_name if settings.sso_enabled else "",
        "local_passwords": settings.local_passwords,
    }


@router.post("/login")
async def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form(""),
) -> Response:
    def job() -> Response:
        page = Page(request)
        if not session.login_csrf_valid(request, csrf_token):
            return _csrf_refusal(page)
        try:
            client = request.client.host if request.client else "unknown"
            issued = identity.login(page.ctx, username, password, client)
        except (Unauthenticated, StewardError) as refused:
            token = session.new_login_csrf()
            throttled = isinstance(refused, TooManyRequests)
            response = page.render(
                "login.html",
                status=429 if throttled else 401,
                next=session.safe_next(next),
                login_csrf=token,
                username=username,
                # the throttle's own reason (how long to wait), as refusals show elsewhere;
                # a server without passwords says so
                error=str(refused)
                if throttled or isinstance(refused, Forbidden)
                else page.gettext("Wrong user name or password."),
                **_sign_in_choices(page),
            )
            if isinstance(refused, Forbidden):
                response.status_code = 403
            if throttled:
                response.headers["Retry-After"] = str(refused.extra.get("retry_after", 60))
            session.set_login_csrf(response, request, token)
            return response
        moved = RedirectResponse(session.safe_next(next), status_code=303)
        session.set_session(moved, request, issued.token, identity.SESSION_HOURS * 3600)
        moved.delete_cookie(session.LOGIN_CSRF_COOKIE, path="/login")
        return moved

    return await run_in_threadpool(job)


@router.post("/logout")
async def logout(request: Request, csrf_token: str = Form("")) -> Response:
    def job() -> Response:
        page = Page(request)
        if page.authenticate() is None:
            return _login_redirect(request)
        if not session.csrf_valid(page.secret, csrf_token):
            return _csrf_refusal(page)
        assert page.secret is not None
        web_views.end_session(page.ctx, page.secret)
        provider_url = None
        if request.cookies.get(session.SSO_COOKIE):
            back = f"{request.url_for('login_form')}?notice=signed_out"
            provider_url = sso.logout_url(page.ctx, back)
        response: Response
        if provider_url is None:
            response = RedirectResponse("/login?notice=signed_out", status_code=303)
        else:
            # A page that moves on by itself, not a redirect: the browser holds a form's
            # redirects to the page's CSP form-action ('self'), which the provider is not.
            page.principal, page.secret = None, None
            response = page.render(
                "sso_signing_out.html",
                provider_url=provider_url,
                sso_name=page.ctx.settings.oidc_name,
            )
        session.clear_session(response)
        return response

    return await run_in_threadpool(job)


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(session.safe_next(next), status_code=303)
    if code in i18n.LOCALES:
        response.set_cookie(
            i18n.COOKIE, code, max_age=365 * 86400, samesite="lax", path="/", httponly=True
        )
    return response


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links; answer with the page's icon."""
    from steward.web import STATIC

    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


@router.head("/")
async def inventory_head() -> Response:
    """Uptime probes and link checkers ask with HEAD: the UI is up. The page itself needs a
    session, so this says nothing about what it holds."""
    return Response(status_code=200, media_type="text/html")


# -- inventory ------------------------------------------------------------------------------


@router.get("/")
async def inventory(
    request: Request,
    q: str = "",
    risk_tier: str = "",
    stage: str = "",
    owner: str = "",
    sort: str = "name",
    cursor: str = "",
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        error = None
        try:
            result = web_views.inventory(
                page.ctx,
                page.principal,
                q=q,
                risk_tier=risk_tier or None,
                stage=stage or None,
                owner=owner or None,
                sort=sort,
                cursor=cursor or None,
                limit=PAGE_SIZE,
            )
        except StewardError as bad:
            error = str(bad)
            result = web_views.inventory(page.ctx, page.principal, limit=PAGE_SIZE)
        today = page.ctx.uow.clock().date()
        filters = {"q": q, "risk_tier": risk_tier, "stage": stage, "owner": owner, "sort": sort}
        next_url = (
            "/?"
            + urlencode({**{k: v for k, v in filters.items() if v}, "cursor": result.next_cursor})
            if result.next_cursor
            else None
        )
        template = (
            "_inventory_table.html" if request.headers.get("hx-request") else "inventory.html"
        )
        return page.render(
            template,
            page_=result,
            today=today,
            filters=filters,
            next_url=next_url,
            error=error,
            tiers=[*reversed(ASSESSED_TIERS), "unassessed"],
            stages=[s.value for s in Stage],
            sorts=[
                ("name", i18n.N_("Name")),
                ("risk", i18n.N_("Risk tier")),
                ("review", i18n.N_("Next review")),
            ],
            first_page=not cursor,
        )

    return await _page(request, build)


# -- my work --------------------------------------------------------------------------------

WORK_KINDS = {
    "approval": i18n.N_("Approval to decide"),
    "finding": i18n.N_("Finding assigned to you"),
    "review": i18n.N_("Periodic review due"),
    "questionnaire": i18n.N_("Risk questionnaire to answer"),
    "alert": i18n.N_("Monitoring alert"),
}


@router.get("/work")
async def my_work_page(request: Request) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        shown = request.query_params.get("section", "")
        number = request.query_params.get("page", "1")
        found = work.my_work(page.ctx, page.principal)
        page.work_total = found.total
        try:
            if shown:
                work.section(found, shown, 1)  # an unknown section is named, with the choices
            if shown and not number.isdigit():
                raise InvalidInput(
                    f"The page number must be a whole number, not {number!r}.", field="page"
                )
            sections = [
                work.section(found, kind, int(number) if kind == shown else 1)
                for kind in work.KINDS
            ]
        except InvalidInput as refused:
            return page.refusal(refused, back="/work")
        return page.render(
            "work.html",
            work=found,
            sections=[s for s in sections if s.total],
            kinds=WORK_KINDS,
            size=work.SECTION_SIZE,
        )

    return await _page(request, build)


# -- model page -----------------------------------------------------------------------------


def _gate_for(page: Page, name: str, number: int, stage: Stage) -> tuple[Any, Any]:
    """The gate report for the version's next move, counting an open request's approvals."""
    assert page.principal is not None
    p = page.principal
    if not page.can("governance:read"):
        return None, None
    open_requests = [
        r
        for r in approvals.list_requests(page.ctx, p, status="open", model=name)
        if r.version == number
    ]
    if open_requests:
        result = approvals.get_request(page.ctx, p, open_requests[0].id)
        return result.gate, result.request
    target = NEXT_STAGE.get(stage)
    if target is None:
        return None, None
    return gates.check_gate(page.ctx, p, name, number, target.value), None


def _embed(spec: dict[str, Any]) -> Markup:
    """A Vega-Lite spec as JSON safe inside <script type="application/json">."""
    return Markup(json.dumps(spec).replace("</", "<\\/"))


def _monitor_performance(page: Page, section: dict[str, Any]) -> dict[str, Any] | None:
    """The monitor's labelled performance over its windows, rules and alerts marked."""
    assert page.principal is not None
    mon = section["monitor"]
    points = monitoring.history(page.ctx, page.principal, mon.id, column=DATASET, limit=10000)
    if not any(pt.metric in charts.MONITOR_PERFORMANCE for pt in points):
        return None
    runs = {r.id: r for r in monitoring.list_runs(page.ctx, page.principal, mon.id, limit=1000)}
    built = charts.performance_history(
        points, section["alerts"], runs, list(mon.config.rules), page.gettext
    )
    if built is not None:
        built["spec"] = _embed(built["spec"])
    return built


@router.get("/models/{name}")
async def model_page(request: Request, name: str, version: int | None = None) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        p, ctx = page.principal, page.ctx
        model = model_service.get_model(ctx, p, name)
        all_versions = versions.list_versions(ctx, p, name, limit=200).items
        governance = page.can("governance:read")
        chosen = None
        if all_versions:
            # Without ?version the page opens on what serves, not on the newest experiment.
            serving = serving_version(all_versions)
            wanted = version if version is not None else serving.version if serving else 0
            chosen = next((v for v in all_versions if v.version == wanted), None)
            if chosen is None:
                raise NotFound(
                    page.gettext("Model %(model)s has no version %(version)s.")
                    % {"model": name, "version": wanted}
                )
        assessment = risk_service.get_assessment(ctx, p, name) if governance else None
        gate = request_open = None
        history: list[dict[str, Any]] = []
        run = None
        chart = None
        validation: dict[str, dict[str, Any]] = {}
        if chosen is not None:
            gate, request_open = _gate_for(page, name, chosen.version, chosen.stage)
            # Without governance:read (no role) the page shows the inventory and versions
            # only: the services refuse stage history, check runs and findings to them.
            moves = lifecycle.transitions(ctx, p, name, chosen.version) if governance else []
            for tr in moves:
                history.append(
                    {
                        "at": tr.at,
                        "kind": "transition",
                        "actor": tr.actor,
                        "text": f"{page.label(tr.from_stage)} → {page.label(tr.to_stage)}",
                        "why": tr.justification,
                    }
                )
            if governance:
                for req in approvals.list_requests(ctx, p, model=name, limit=200):
                    if req.version != chosen.version:
                        continue
                    history.append(
                        {
                            "at": req.requested_at,
                            "kind": "request",
                            "actor": req.requested_by,
                            "text": page.gettext("requested %(stage)s")
                            % {"stage": page.label(req.to_stage)}
                            + f" ({page.label(req.status)})",
                            "why": req.justification,
                        }
                    )
                    for a in req.approvals:
                        history.append(
                            {
                                "at": a.at,
                                "kind": a.decision.value,
                                "actor": a.approver,
                                "text": page.label(a.decision) + f" → {page.label(req.to_stage)}",
                                "why": a.comment,
                            }
                        )
                for w in waivers.list_waivers(ctx, p, model=name, version=chosen.version).items:
                    history.append(
                        {
                            "at": w.granted_at,
                            "kind": "waiver",
                            "actor": w.granted_by,
                            "text": page.gettext("waived %(requirement)s")
                            % {"requirement": w.requirement},
                            "why": w.reason,
                        }
                    )
            history.sort(key=lambda h: h["at"])
            runs = checks.list_runs(ctx, p, name, chosen.version, limit=1) if governance else []
            run = runs[0] if runs else None
            if run is not None:
                built = charts.fairness_impact(
                    run,
                    page.gettext("Selection rate relative to the most selected group"),
                    page.gettext("Group"),
                    page.gettext("Impact ratio"),
                )
                if built is not None:
                    spec, values, limit = built
                    chart = {"spec": _embed(spec), "values": values, "limit": limit}
                validation = charts.validation_charts(run, page.gettext)
                for drawn in validation.values():
                    drawn["spec"] = _embed(drawn["spec"])
        found = (
            findings.list_findings(ctx, p, model=name, status="active", limit=100).items
            if governance
            else []
        )
        targets = [s.value for s in ALLOWED[chosen.stage]] if chosen is not None else []
        from steward.services import datasets as dataset_service
        from steward.web.governance_pages import monitor_sections

        data = (
            dataset_service.lineage(ctx, p, name, chosen.version)
            if governance and chosen is not None
            else None
        )
        data_graph = None
        if data is not None and chosen is not None and (data.training or data.evaluation):
            from steward.services import data_lineage
            from steward.web.dataset_pages import lineage_figure

            data_graph = lineage_figure(
                page, data_lineage.from_model_version(ctx, p, name, chosen.version)
            )

        monitors = monitor_sections(page, name) if governance else []
        from steward.web.impact_pages import impact_summary

        return page.render(
            "model.html",
            governance=governance,
            impact=impact_summary(page, name) if governance else None,
            monitors=monitors,
            performance={s["monitor"].id: _monitor_performance(page, s) for s in monitors},
            metric="psi",
            name=name,
            model=model,
            versions=all_versions,
            chosen=chosen,
            assessment=assessment,
            gate=gate,
            request_open=request_open,
            history=history,
            run=run,
            chart=chart,
            validation=validation,
            findings=found,
            data=data,
            data_graph=data_graph,
            targets=targets,
            next_stage=NEXT_STAGE.get(chosen.stage).value  # type: ignore[union-attr]
            if chosen is not None and chosen.stage in NEXT_STAGE
            else None,
        )

    return await _page(request, build)


@router.post("/models/{name}/versions/{number}/request")
async def request_move(
    request: Request,
    name: str,
    number: int,
    to: str = Form(""),
    justification: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        back = f"/models/{quote(name)}?version={number}"
        try:
            result = approvals.request_transition(
                page.ctx, page.principal, name, number, to, justification
            )
        except StewardError as refused:
            return page.refusal(refused, back)
        notice = "applied" if result.applied else "requested"
        return RedirectResponse(f"{back}&notice={notice}", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


# -- approvals ------------------------------------------------------------------------------


@router.get("/approvals")
async def inbox(request: Request) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        waiting = approvals.inbox(page.ctx, page.principal)
        opened = approvals.list_requests(page.ctx, page.principal, status="open", limit=100)
        return page.render("approvals.html", waiting=waiting, opened=opened)

    return await _page(request, build)


@router.post("/approvals/{request_id}/decide")
async def decide(
    request: Request,
    request_id: str,
    verdict: str = Form(""),
    comment: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            if verdict == "approve":
                result = approvals.approve(page.ctx, page.principal, request_id, comment)
            elif verdict == "reject":
                result = approvals.reject(page.ctx, page.principal, request_id, comment)
            else:
                return page.render(
                    "error.html",
                    status=422,
                    message=page.gettext("Choose approve or reject."),
                    back="/approvals",
                )
        except StewardError as refused:
            return page.render(
                "error.html",
                status=refused.status,
                message=str(refused),
                error=refused,
                back="/approvals",
                refused=True,
            )
        req = result.request
        notice = (
            "applied" if result.applied else ("approved" if verdict == "approve" else "rejected")
        )
        return RedirectResponse(
            f"/models/{quote(req.model)}?version={req.version}&notice={notice}", status_code=303
        )

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/approvals/{request_id}/apply")
async def apply_request(request: Request, request_id: str, csrf_token: str = Form("")) -> Response:
    """Complete a request whose gate has become satisfied (checks landed, a waiver granted)."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            result = approvals.apply_request(page.ctx, page.principal, request_id)
        except StewardError as refused:
            return page.refusal(refused, "/approvals")
        req = result.request
        return RedirectResponse(
            f"/models/{quote(req.model)}?version={req.version}&notice=applied", status_code=303
        )

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/approvals/{request_id}/withdraw")
async def withdraw_request(
    request: Request, request_id: str, reason: str = Form(""), csrf_token: str = Form("")
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            req = approvals.withdraw(page.ctx, page.principal, request_id, reason)
        except StewardError as refused:
            return page.refusal(refused, "/approvals")
        return RedirectResponse(
            f"/models/{quote(req.model)}?version={req.version}&notice=withdrawn", status_code=303
        )

    return await _page(request, build, csrf_token=csrf_token)


# -- audit journal --------------------------------------------------------------------------


@router.get("/audit")
async def journal(
    request: Request,
    model: str = "",
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    after: int = 0,
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        flt = AuditFilter(
            after_seq=after or None,
            subject_prefix=f"{model}" if model else None,
            actor=actor or None,
            action=action or None,
            since=since or None,
            until=until or None,
        )
        error = None
        try:
            events = audit.list_events(page.ctx, page.principal, flt, limit=AUDIT_PAGE)
        except StewardError as bad:
            if isinstance(bad, Forbidden):
                raise
            error, events = str(bad), []
        rows = [
            {"event": e, "at": datetime.fromisoformat(e.time.replace("Z", "+00:00"))}
            for e in events
        ]
        filters = {"model": model, "actor": actor, "action": action, "since": since, "until": until}
        next_url = (
            "/audit?"
            + urlencode({**{k: v for k, v in filters.items() if v}, "after": events[-1].seq})
            if len(events) == AUDIT_PAGE
            else None
        )
        checkpoints = transparency.list_checkpoints(page.ctx, page.principal, limit=1)
        return page.render(
            "audit.html",
            rows=rows,
            filters=filters,
            next_url=next_url,
            error=error,
            checkpoint=checkpoints[0] if checkpoints else None,
        )

    return await _page(request, build)


@router.get("/audit/events/{seq}/check")
async def journal_event_check(request: Request, seq: int) -> Response:
    """The "verify this event" answer: an inclusion proof against the latest checkpoint."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            found = transparency.check_event(page.ctx, page.principal, seq)
        except StewardError as refused:
            if isinstance(refused, Forbidden):
                raise
            return page.render("_event_check.html", check=None, seq=seq, error=refused.detail)
        return page.render("_event_check.html", check=found, seq=seq, error=None)

    return await _page(request, build)


@router.post("/audit/checkpoints")
async def journal_checkpoint(request: Request, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            transparency.create_checkpoint(page.ctx, page.principal)
        except StewardError as refused:
            if isinstance(refused, Forbidden):
                raise
            return page.refusal(refused, "/audit")
        return RedirectResponse("/audit?notice=checkpointed", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


def _witnesses_page(
    page: Page,
    status: int = 200,
    error: StewardError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    assert page.principal is not None
    return page.render(
        "witnesses.html",
        status=status,
        found=witnesses.witness_statuses(page.ctx, page.principal),
        error=error,
        field=error.extra.get("field") if error is not None else None,
        form=form or {"name": "", "public_key": ""},
    )


@router.get("/audit/witnesses")
async def witnesses_page(request: Request) -> Response:
    """Registered witnesses, their keys' fingerprints and what each last cosigned."""
    return await _page(request, _witnesses_page)


@router.post("/audit/witnesses")
async def witness_add(
    request: Request,
    name: str = Form(""),
    public_key: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            witnesses.add_witness(page.ctx, page.principal, name.strip(), public_key.strip())
        except StewardError as refused:
            if isinstance(refused, Forbidden):
                raise
            form = {"name": name, "public_key": public_key}
            return _witnesses_page(page, refused.status, refused, form)
        return RedirectResponse("/audit/witnesses?notice=witness_added", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/audit/witnesses/{name}/remove")
async def witness_remove(request: Request, name: str, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            witnesses.remove_witness(page.ctx, page.principal, name)
        except StewardError as refused:
            if isinstance(refused, Forbidden):
                raise
            return page.refusal(refused, "/audit/witnesses")
        return RedirectResponse("/audit/witnesses?notice=witness_removed", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.get("/audit/verify")
async def journal_verify(request: Request) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        result = audit.verify(page.ctx, page.principal)
        return page.render("_verify.html", result=result, checked_at=datetime.now(UTC))

    return await _page(request, build)
