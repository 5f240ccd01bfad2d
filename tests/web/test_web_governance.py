"""The governance pages in-process on SQLite and PostgreSQL: findings status flow,
reviews, compliance coverage, model card and evidence downloads, monitoring history,
administration with policy upload errors; roles and CSRF on every POST."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.audit import AuditFilter
from steward.domain.findings import FindingStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import findings, identity, versions
from steward.services import models as model_service
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
PEOPLE = {
    "olive": "owner",
    "val": "validator",
    "risa": "risk_officer",
    "aud": "auditor",
    "root": "admin",
}


@pytest.fixture
def web(ctx: Context, tmp_path: Path) -> Iterator[TestClient]:
    for name, role in PEOPLE.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", title="Churn", purpose="retention offers")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"not a real model, but real bytes")
    versions.create_version(ctx, olive, "churn", VersionSpec(description="first"), artifact)
    findings.open_finding(ctx, OP, "churn", title="Calibration drifts", severity="high")
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _finding(ctx: Context) -> int:
    return findings.list_findings(ctx, OP, model="churn", status="all").items[0].id


def test_finding_moves_through_its_flow_with_notes_and_audit(web: TestClient, ctx: Context) -> None:
    fid = _finding(ctx)
    sign_in(web, "olive")
    page = web.get("/findings")
    assert page.status_code == 200 and "Calibration drifts" in page.text
    assert f'action="/findings/{fid}"' in page.text
    # an owner (finding:write without waiver:grant) is not offered "accepted"
    assert '<option value="accepted">' not in page.text
    token = _csrf(page.text)
    moved = web.post(
        f"/findings/{fid}",
        data={"status": "in_remediation", "csrf_token": token},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and "notice=finding_updated" in moved.headers["location"]
    assert findings.get_finding(ctx, OP, fid).status is FindingStatus.IN_REMEDIATION
    # resolving needs a note: the service's reason is shown and nothing changes
    refused = web.post(f"/findings/{fid}", data={"status": "resolved", "csrf_token": token})
    assert refused.status_code == 422 and "needs a note" in refused.text
    assert findings.get_finding(ctx, OP, fid).status is FindingStatus.IN_REMEDIATION
    # a due date in the past is refused; a forged POST changes nothing
    past = (ctx.uow.clock().date() - timedelta(days=3)).isoformat()
    late = web.post(f"/findings/{fid}", data={"due_date": past, "csrf_token": token})
    assert late.status_code == 422 and "in the past" in late.text
    forged = web.post(f"/findings/{fid}", data={"status": "resolved", "note": "x"})
    assert forged.status_code == 403
    done = web.post(
        f"/findings/{fid}",
        data={"status": "resolved", "note": "recalibrated in v2", "csrf_token": token},
    )
    assert done.status_code == 200 and "The finding was updated." in done.text
    assert findings.get_finding(ctx, OP, fid).status is FindingStatus.RESOLVED
    with ctx.uow.read() as uow:
        events = uow.audit.search(AuditFilter(action="finding.updated"), 10)
    assert [e.payload_dict()["after"]["status"] for e in events] == ["in_remediation", "resolved"]


def test_only_a_risk_officer_is_offered_accept_and_readers_get_no_form(
    web: TestClient, ctx: Context
) -> None:
    fid = _finding(ctx)
    sign_in(web, "risa")
    page = web.get("/findings")
    assert '<option value="accepted">' in page.text
    accepted = web.post(
        f"/findings/{fid}",
        data={"status": "accepted", "note": "committee accepted", "csrf_token": _csrf(page.text)},
    )
    assert accepted.status_code == 200
    assert findings.get_finding(ctx, OP, fid).status is FindingStatus.ACCEPTED
    web.cookies.clear()
    sign_in(web, "aud")
    page = web.get("/findings?status=all")
    assert "committee accepted" in page.text and 'class="finding-move"' not in page.text
    forged = web.post(f"/findings/{fid}", data={"status": "open", "csrf_token": _csrf(page.text)})
    assert forged.status_code == 403
    assert findings.get_finding(ctx, OP, fid).status is FindingStatus.ACCEPTED


def test_reviews_due_and_completion_by_an_independent_validator(
    web: TestClient, ctx: Context
) -> None:
    model_service.update_model(ctx, OP, "churn", risk_tier="high", risk_override_reason="test")
    sign_in(web, "val")
    page = web.get("/reviews?within=3660")
    assert page.status_code == 200 and 'id="review-churn"' in page.text
    done = web.post(
        "/reviews/churn/complete",
        data={
            "outcome": "needs_improvement",
            "notes": "drift checks",
            "csrf_token": _csrf(page.text),
        },
    )
    assert done.status_code == 200 and "next one scheduled" in done.text
    assert model_service.get_model(ctx, OP, "churn").next_review_date is not None
    web.cookies.clear()
    sign_in(web, "olive")
    page = web.get("/reviews?within=3660")
    # The page renders the service's decision: no form, and the reason it gives.
    row = page.text.split('id="review-churn"', 1)[1].split("</tr>", 1)[0]
    assert 'class="review-form"' not in row and "review:complete" in row
    refused = web.post(
        "/reviews/churn/complete",
        data={"outcome": "satisfactory", "notes": "mine", "csrf_token": _csrf(page.text)},
    )
    assert refused.status_code == 403 and "review:complete" in refused.text


def test_compliance_pages_show_the_matrix_and_drill_down(web: TestClient) -> None:
    sign_in(web, "aud")
    page = web.get("/compliance")
    assert page.status_code == 200
    assert 'id="framework-summary"' in page.text and "nist-ai-rmf" in page.text
    assert "/compliance/models/churn" in page.text
    iso = web.get("/compliance?framework=iso-42001")
    assert iso.status_code == 200 and "A." in iso.text
    model = web.get("/compliance/models/churn?framework=nist-ai-rmf")
    assert model.status_code == 200
    assert 'id="ev-inventory' in model.text or 'id="ev-' in model.text
    assert "GOVERN" in model.text or "GV" in model.text
    bad = web.get("/compliance/models/churn?framework=nope")
    assert bad.status_code == 404


def test_compliance_pages_name_controls_and_count_findings_by_severity(
    web: TestClient, ctx: Context
) -> None:
    """The Title column shows the catalog's title, not the id again; the findings evidence
    counts open findings per severity instead of reading as if all were critical."""
    findings.open_finding(ctx, OP, "churn", title="Leaks applicant names", severity="critical")
    sign_in(web, "aud")
    nist = web.get("/compliance/models/churn?framework=nist-ai-rmf").text
    row = nist.split('id="c-GOVERN 1.2"', 1)[1].split("</tr>", 1)[0]
    assert "The characteristics of trustworthy AI are integrated" in row
    assert "Findings: 1 critical, 1 high open; critical: id " in nist
    organisation = web.get("/compliance?framework=nist-ai-rmf").text
    assert "Mechanisms are in place to inventory AI systems" in organisation
    # Taiwan FSC principles: English titles in English, the official Chinese in zh-TW.
    english = web.get("/compliance/models/churn?framework=tw-fsc").text
    assert "Establish governance and accountability" in english
    assert "建立治理及問責機制" not in english
    web.cookies.set("steward_lang", "zh-TW")
    chinese = web.get("/compliance/models/churn?framework=tw-fsc").text
    assert "建立治理及問責機制" in chinese
    # Taiwan's AI Basic Act: its Art. 4 principles are on the coverage page, in Chinese too.
    basic_act = web.get("/compliance/models/churn?framework=tw-ai-basic-act").text
    assert "Art. 4 P6" in basic_act and "公平與不歧視" in basic_act
    # The FSC guideline items and the Bankers Association articles in Chinese, and the
    # obligations with their dates (in Chinese headings) on the same page.
    assert "緊急關閉" in chinese and "TW-FSC-AIG-Ch1.3" in chinese
    assert "適用義務及其生效日期" in chinese and "2026-01-14" in chinese
    bankers = web.get("/compliance/models/churn?framework=tw-ba-ai").text
    assert "第三條" in bankers


def test_model_card_downloads_and_evidence_pack_for_auditors(web: TestClient, ctx: Context) -> None:
    sign_in(web, "aud")
    page = web.get("/models/churn")
    assert "/models/churn/versions/1/card?format=pdf" in page.text
    assert 'action="/models/churn/evidence"' in page.text
    card = web.get("/models/churn/versions/1/card?format=html&download=1")
    assert card.status_code == 200 and card.headers["content-type"].startswith("text/html")
    assert "attachment" in card.headers["content-disposition"] and "churn" in card.text
    pdf = web.get("/models/churn/versions/1/card?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert web.get("/models/churn/evidence").status_code == 405  # never a GET
    assert web.post("/models/churn/evidence").status_code == 403  # no CSRF token
    pack = web.post("/models/churn/evidence", data={"csrf_token": _csrf(page.text)})
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    assert "manifest.json" in names
    web.cookies.clear()
    sign_in(web, "olive")
    page = web.get("/models/churn")
    assert 'action="/models/churn/evidence"' not in page.text
    refused = web.post("/models/churn/evidence", data={"csrf_token": _csrf(page.text)})
    assert refused.status_code == 403
    mon = web.get("/models/churn/monitoring")
    assert mon.status_code == 200 and "No monitor watches this model." in mon.text
    assert web.get("/models/churn/monitoring?metric=bogus").status_code == 422


BAD_PACK = """name: house-rules
version: "2"
description: broken on purpose
requirements:
  - id: checks.fresh
    kind: no_such_kind
"""


def test_admin_lists_users_and_shows_policy_problems_inline(web: TestClient, ctx: Context) -> None:
    sign_in(web, "val")
    assert web.get("/admin").status_code == 403
    assert 'href="/admin"' not in web.get("/").text
    web.cookies.clear()
    sign_in(web, "root")
    page = web.get("/admin")
    assert page.status_code == 200 and "risk_officer" in page.text and 'href="/admin"' in page.text
    token = _csrf(page.text)
    bad = web.post("/admin/policies", data={"text": BAD_PACK, "csrf_token": token})
    assert bad.status_code == 422
    assert 'id="policy-problems"' in bad.text and "line " in bad.text
    assert "no_such_kind" in bad.text and "broken on purpose" in bad.text  # the text is kept
    empty = web.post("/admin/policies", data={"text": "  ", "csrf_token": token})
    assert empty.status_code == 422 and "Paste the pack" in empty.text
    assert web.post("/admin/policies", data={"text": BAD_PACK}).status_code == 403
    from steward.domain.policy import default_pack_text

    good = web.post(
        "/admin/policies",
        files={"file": ("default.yaml", default_pack_text().encode(), "text/yaml")},
        data={"csrf_token": token, "activate": "1"},
    )
    assert good.status_code == 200 and "The policy pack was loaded." in good.text
    assert "steward-default@" in good.text


def test_admin_grants_and_revokes_roles_with_csrf(web: TestClient, ctx: Context) -> None:
    sign_in(web, "root")
    token = _csrf(web.get("/admin").text)
    assert (
        web.post(
            "/admin/users/olive/roles", data={"role": "auditor", "change": "grant"}
        ).status_code
        == 403
    )
    granted = web.post(
        "/admin/users/olive/roles", data={"role": "auditor", "change": "grant", "csrf_token": token}
    )
    assert granted.status_code == 200 and "The role was changed." in granted.text
    assert identity.get_user(ctx, OP, "olive").roles == {"owner", "auditor"}
    bad = web.post(
        "/admin/users/olive/roles", data={"role": "wizard", "change": "grant", "csrf_token": token}
    )
    assert bad.status_code == 422 and "wizard" in bad.text
    web.post(
        "/admin/users/olive/roles",
        data={"role": "auditor", "change": "revoke", "csrf_token": token},
    )
    assert identity.get_user(ctx, OP, "olive").roles == {"owner"}
    web.cookies.clear()
    sign_in(web, "risa")  # a risk officer manages policies, not users
    refused = web.post(
        "/admin/users/olive/roles",
        data={"role": "admin", "change": "grant", "csrf_token": _csrf(web.get("/").text)},
    )
    assert refused.status_code == 403
    assert identity.get_user(ctx, OP, "olive").roles == {"owner"}


def test_governance_pages_in_traditional_chinese(web: TestClient) -> None:
    sign_in(web, "root")
    web.cookies.set("steward_lang", "zh-TW")
    for url, word in (
        ("/findings", "發現事項"),
        ("/reviews", "定期審查"),
        ("/compliance", "組織儀表板"),
        ("/admin", "政策包"),
    ):
        page = web.get(url)
        assert page.status_code == 200 and word in page.text, url


def test_generative_model_page_lists_the_nist_actions_per_gai_risk(
    web: TestClient, ctx: Context
) -> None:
    from tests.risk_answers import CREDIT

    from steward.services import risk

    risk.assess(ctx, OP, "churn", {**CREDIT, "generative": "yes"})
    sign_in(web, "aud")
    page = web.get("/compliance/models/churn?framework=nist-ai-600-1").text
    row = page.split('id="c-GAI-5"', 1)[1].split("</tr>", 1)[0]
    assert "NIST suggested actions that address this risk: 4" in row
    assert "MS-2.12-004" in row and "carbon capture" in row
    web.cookies.set("steward_lang", "zh-TW")
    chinese = web.get("/compliance/models/churn?framework=nist-ai-600-1").text
    assert "因應此風險的 NIST 建議行動：18 項" in chinese  # GAI-2  # noqa: RUF001
