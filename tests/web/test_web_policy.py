"""Policy pack pages on SQLite and PostgreSQL: anyone who reads governance records sees a
pack's requirements, cited controls and YAML; only policy managers activate a version or
switch gating off, with CSRF; the journal records each switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.audit import AuditFilter
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, policies
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
DEFAULT = Path(__file__).resolve().parents[2] / "src" / "steward" / "policies" / "default-pack.yaml"
HOUSE_RULES = """
pack: house-rules
version: "2"
description: Two validators before production.
review_cadence_months: {high: 6}
requirements:
  - id: approvals.two
    kind: approvals
    to: [production]
    tiers: [high, critical]
    roles: [validator]
    count: 2
    controls: ["sr-26-2:SR26-2.validation"]
"""


@pytest.fixture
def web(ctx: Context) -> Iterator[TestClient]:
    for name, role in (("val", "validator"), ("root", "admin"), ("olive", "owner")):
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _actions(ctx: Context) -> list[str]:
    with ctx.uow.read() as uow:
        return [e.action for e in uow.audit.stream(AuditFilter()) if e.action.startswith("policy.")]


def test_readers_see_requirements_controls_and_yaml_but_no_switches(
    web: TestClient, ctx: Context
) -> None:
    info = policies.load_pack(ctx, OP, DEFAULT.read_text(), activate=True)
    sign_in(web, "val")
    page = web.get(f"/policies/{info.name}/{info.version}")
    assert page.status_code == 200
    pack = policies.get_pack(ctx, OP, info.name, info.version)[0]
    assert f"Requirements ({pack.requirements})" in page.text
    assert "active: it gates every lifecycle move" in page.text
    assert "nist-ai-rmf:" in page.text  # cited controls are listed
    assert "Activate this version" not in page.text
    assert "Deactivate policy gating" not in page.text
    yaml = web.get(f"/policies/{info.name}/{info.version}?format=yaml")
    assert yaml.status_code == 200 and yaml.text == DEFAULT.read_text()
    assert "attachment" in yaml.headers["content-disposition"]
    # a validator's forged or direct POST changes nothing
    refused = web.post("/policies/deactivate", data={"csrf_token": _csrf(page.text)})
    assert refused.status_code == 403
    assert policies.get_pack(ctx, OP)[0].name == info.name
    assert web.get("/policies/nope/1").status_code == 404
    web.get("/lang/zh-TW?next=/")
    zh = web.get(f"/policies/{info.name}/{info.version}").text
    assert f"政策包 {info.name}@{info.version}" in zh and "引用的控制項" in zh


def test_policy_managers_activate_a_version_and_switch_gating_off(
    web: TestClient, ctx: Context
) -> None:
    first = policies.load_pack(ctx, OP, DEFAULT.read_text(), activate=True)
    second = policies.load_pack(ctx, OP, HOUSE_RULES)
    sign_in(web, "root")
    admin = web.get("/admin").text
    assert f'href="/policies/{second.name}/{second.version}"' in admin
    page = web.get(f"/policies/{second.name}/{second.version}")
    assert "loaded, not active" in page.text and "every 6 months" in page.text
    assert "approvals.two" in page.text and "sr-26-2:SR26-2.validation" in page.text
    token = _csrf(page.text)
    forged = web.post(f"/policies/{second.name}/{second.version}/activate", data={})
    assert forged.status_code == 403
    assert policies.get_pack(ctx, OP)[0].name == first.name

    moved = web.post(
        f"/policies/{second.name}/{second.version}/activate",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and "notice=policy_activated" in moved.headers["location"]
    assert policies.get_pack(ctx, OP)[0].name == second.name
    shown = web.get(moved.headers["location"]).text
    assert "is now active" in shown and "Deactivate policy gating" in shown

    off = web.post(
        "/policies/deactivate",
        data={"csrf_token": token, "back": f"/policies/{second.name}/{second.version}"},
        follow_redirects=False,
    )
    assert off.status_code == 303 and "notice=policy_deactivated" in off.headers["location"]
    assert [p for p in policies.list_packs(ctx, OP) if p.active] == []
    assert _actions(ctx)[-2:] == ["policy.activated", "policy.deactivated"]
    # an off-site "back" is not followed
    policies.activate_pack(ctx, OP, first.name, first.version)
    away = web.post(
        "/policies/deactivate",
        data={"csrf_token": token, "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"].startswith("/")
