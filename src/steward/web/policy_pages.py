"""Policy pack pages: read a loaded pack version — its requirements, where each applies,
what it checks and which framework controls it cites, and its YAML — download it, and
(with ``policy:manage``) activate that version or switch gating off. Anyone who may read
governance records (``governance:read``) may view; the service checks both permissions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain import policy
from steward.domain.entities import TIERS
from steward.domain.errors import StewardError
from steward.domain.lifecycle import Stage
from steward.services import policies
from steward.web import i18n, session
from steward.web.pages import NOTICES, Page, _page

router = APIRouter(include_in_schema=False)

NOTICES.update(
    {
        "policy_activated": i18n.N_("That policy pack version is now active: it gates every move."),
        "policy_deactivated": i18n.N_(
            "No policy pack is active now: only the lifecycle state machine guards moves."
        ),
    }
)
# Stages in lifecycle order, so "applies to" reads like the lifecycle diagram.
_STAGE_ORDER = {stage: i for i, stage in enumerate(Stage)}


def _requirements(pack: policy.PolicyPack) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "description": r.description,
            "to": sorted((s.value for s in r.to), key=lambda v: _STAGE_ORDER[Stage(v)]),
            "tiers": sorted(r.tiers, key=lambda tier: -TIERS.index(tier)),
            "params": {k: v for k, v in sorted(r.params.items())},
            "controls": list(r.controls),
            "line": r.line,
        }
        for r in pack.requirements
    ]


@router.get("/policies/{name}/{version}")
async def policy_page(request: Request, name: str, version: str, format: str = "") -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        info, pack, text = policies.describe_pack(page.ctx, page.principal, name, version)
        if format == "yaml":
            return Response(
                text,
                media_type="application/yaml; charset=utf-8",
                headers={"content-disposition": f'attachment; filename="{name}-{version}.yaml"'},
            )
        others = [p for p in policies.list_packs(page.ctx, page.principal) if p.name == name]
        return page.render(
            "policy.html",
            info=info,
            pack=pack,
            text=text,
            requirements=_requirements(pack),
            versions=others,
        )

    return await _page(request, build)


@router.post("/policies/{name}/{version}/activate")
async def activate(
    request: Request, name: str, version: str, csrf_token: str = Form("")
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        here = f"/policies/{quote(name)}/{quote(version)}"
        try:
            policies.activate_pack(page.ctx, page.principal, name, version)
        except StewardError as refused:
            return page.refusal(refused, here)
        return RedirectResponse(f"{here}?notice=policy_activated", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/policies/deactivate")
async def deactivate(
    request: Request, back: str = Form("/admin"), csrf_token: str = Form("")
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        target = session.safe_next(back)
        try:
            policies.deactivate(page.ctx, page.principal)
        except StewardError as refused:
            return page.refusal(refused, target)
        joiner = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{joiner}notice=policy_deactivated", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)
