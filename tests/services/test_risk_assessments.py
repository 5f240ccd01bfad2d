"""Risk assessment through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from tests.risk_answers import CREDIT, FORECAST

from steward.domain import permissions, risk
from steward.domain.audit import Action, AuditFilter
from steward.domain.entities import RegulatoryCategory, RiskTier
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.permissions import Decision, Permission, Principal
from steward.services import audit, models
from steward.services import risk as risk_service
from steward.services.context import Context


def _events(ctx: Context, who: Principal, *actions: Action) -> list[tuple[str, dict[str, Any]]]:
    found = audit.list_events(ctx, who, AuditFilter(actions=tuple(a.value for a in actions)), 100)
    return [(e.action, json.loads(e.payload)) for e in found]


@pytest.fixture
def credit(ctx: Context, alice: Principal) -> str:
    models.create_model(
        ctx, alice, "credit", purpose="Approve loans", business_unit="Retail", team="risk"
    )
    return "credit"


def test_assess_stores_the_evidence_and_sets_the_model(
    ctx: Context, alice: Principal, credit: str
) -> None:
    made = risk_service.assess(ctx, alice, credit, CREDIT)
    assert made.id.startswith("ra_")
    assert (made.model, made.tier, made.category, made.score) == ("credit", "high", "high", 17)
    assert (made.questionnaire, made.questionnaire_version) == ("steward-risk", "2026.11")
    assert made.assessed_by == "alice"
    assert made.answers["annex_iii"] == ["credit_scoring"]
    assert made.model_fields == {
        "purpose": "Approve loans",
        "business_unit": "Retail",
        "team": "risk",
    }
    assert made.reasons == list(risk.score(risk.shipped(), CREDIT).reasons)

    model = models.get_model(ctx, alice, credit)
    assert (model.risk_tier, model.regulatory_category) == (RiskTier.HIGH, RegulatoryCategory.HIGH)

    status = risk_service.get_assessment(ctx, alice, credit)
    assert (status.assessment, status.problem) == (made, None)
    assert status.questionnaire == "steward-risk@2026.11"
    assert risk_service.history(ctx, alice, credit) == [made]
    assert risk_service.get_by_id(ctx, alice, made.id) == made

    # both events in one transaction: the assessment and the model's own field change
    events = audit.list_events(ctx, alice, AuditFilter(subject_prefix="credit"), 100)
    assessed, updated = events[-2:]
    assert (assessed.action, updated.action) == ("risk.assessed", "model.updated")
    assert assessed.seq + 1 == updated.seq and assessed.time == updated.time
    assert made.audit_seq == assessed.seq
    payload = json.loads(assessed.payload)
    assert payload["tier"] == "high" and payload["assessment"] == made.id
    assert payload["answers"] == made.answers
    assert payload["supersedes"] is None
    assert json.loads(updated.payload) == {
        "before": {"regulatory_category": "unassessed", "risk_tier": "unassessed"},
        "after": {"regulatory_category": "high", "risk_tier": "high"},
        "fields": ["regulatory_category", "risk_tier"],
        "assessment": made.id,
    }


def test_the_same_answers_again_change_nothing_other_answers_supersede(
    ctx: Context, alice: Principal, credit: str
) -> None:
    first = risk_service.assess(ctx, alice, credit, CREDIT)
    assert risk_service.assess(ctx, alice, credit, dict(CREDIT)) == first
    assert len(_events(ctx, alice, Action.RISK_ASSESSED)) == 1

    second = risk_service.assess(
        ctx, alice, credit, {**CREDIT, "autonomy": "fully_automated", "scale": "over_1m"}
    )
    assert (second.tier, second.category) == ("critical", "high")
    history = risk_service.history(ctx, alice, credit)
    assert [a.id for a in history] == [second.id, first.id]
    assert history[0].current and not history[1].current
    assert history[1].superseded_by == second.id
    assert models.get_model(ctx, alice, credit).risk_tier is RiskTier.CRITICAL
    events = _events(ctx, alice, Action.RISK_ASSESSED, Action.MODEL_UPDATED)
    assert events[-2][1]["supersedes"] == first.id
    # only the tier changed: the model event says just that
    assert events[-1][1]["fields"] == ["risk_tier"]

    # back to a low-risk use: tier and category follow
    third = risk_service.assess(ctx, alice, credit, FORECAST)
    model = models.get_model(ctx, alice, credit)
    assert (model.risk_tier, model.regulatory_category) == (
        RiskTier.LOW,
        RegulatoryCategory.MINIMAL,
    )
    assert risk_service.get_assessment(ctx, alice, credit).assessment == third


def test_bad_answers_and_unknown_models_change_nothing(
    ctx: Context, alice: Principal, credit: str
) -> None:
    with pytest.raises(InvalidInput, match="scale: 'huge' is not one of its answers"):
        risk_service.assess(ctx, alice, credit, {**CREDIT, "scale": "huge"})
    with pytest.raises(InvalidInput, match=r"unanswered question\(s\): third_party"):
        risk_service.assess(
            ctx, alice, credit, {k: v for k, v in CREDIT.items() if k != "third_party"}
        )
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        risk_service.assess(ctx, alice, "nope", CREDIT)
    with pytest.raises(NotFound, match="No risk assessment 'ra_x'"):
        risk_service.get_by_id(ctx, alice, "ra_x")
    status = risk_service.get_assessment(ctx, alice, credit)
    assert status.assessment is None
    assert status.problem == (
        "'credit' has no risk assessment; answer the questionnaire with "
        "`steward risk assess credit`."
    )
    assert risk_service.history(ctx, alice, credit) == []
    assert _events(ctx, alice, Action.RISK_ASSESSED) == []
    assert models.get_model(ctx, alice, credit).risk_tier is RiskTier.UNASSESSED


def test_status_goes_stale_when_purpose_team_or_questionnaire_change(
    ctx: Context, alice: Principal, credit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = risk_service.assess(ctx, alice, credit, CREDIT)
    models.update_model(ctx, alice, credit, title="Credit scoring")  # not an assessed field
    assert risk_service.get_assessment(ctx, alice, credit).problem is None

    models.update_model(ctx, alice, credit, team="retail-risk")
    with ctx.uow.read() as uow:
        mid = uow.models.id_of(credit)
        assert mid is not None
        assessment, problem = risk_service.assessment_status(uow, mid)
    assert assessment == made
    assert problem is not None and problem.startswith(
        f"The model's team changed after risk assessment {made.id}"
    )
    # re-assessing with the same answers makes it current again (a new assessment)
    again = risk_service.assess(ctx, alice, credit, CREDIT)
    assert again.id != made.id
    assert again.model_fields["team"] == "retail-risk"
    assert risk_service.get_assessment(ctx, alice, credit).problem is None

    newer = replace(risk.shipped(), version="2027.01")
    monkeypatch.setattr(risk_service, "current_questionnaire", lambda: newer)
    problem = risk_service.get_assessment(ctx, alice, credit).problem
    assert problem is not None
    assert "version 2026.11; the current version is 2027.01" in problem
    renewed = risk_service.assess(ctx, alice, credit, CREDIT)
    assert renewed.questionnaire_version == "2027.01"
    assert risk_service.get_assessment(ctx, alice, credit).problem is None


def test_setting_the_tier_by_hand_needs_a_reason_and_is_journalled(
    ctx: Context, alice: Principal, credit: str
) -> None:
    made = risk_service.assess(ctx, alice, credit, CREDIT)
    with pytest.raises(InvalidInput, match="overrides the risk assessment: give risk_override"):
        models.update_model(ctx, alice, credit, risk_tier="medium")
    with pytest.raises(InvalidInput, match="risk_override_reason is only for"):
        models.update_model(ctx, alice, credit, title="x", risk_override_reason="because")
    with pytest.raises(InvalidInput, match="overrides the risk assessment"):
        models.create_model(ctx, alice, "other", regulatory_category="limited")
    assert models.get_model(ctx, alice, credit).risk_tier is RiskTier.HIGH
    assert _events(ctx, alice, Action.RISK_OVERRIDDEN) == []

    models.update_model(
        ctx, alice, credit, risk_tier="medium", risk_override_reason="committee decision 2026-14"
    )
    ((_, payload),) = _events(ctx, alice, Action.RISK_OVERRIDDEN)
    assert payload == {
        "before": {"risk_tier": "high"},
        "after": {"risk_tier": "medium"},
        "reason": "committee decision 2026-14",
        "assessment": made.id,
    }
    created = models.create_model(
        ctx, alice, "vendor-kyc", risk_tier="high", risk_override_reason="vendor model, tiered"
    )
    assert created.risk_tier is RiskTier.HIGH
    events = _events(ctx, alice, Action.RISK_OVERRIDDEN)
    assert events[-1][1] == {
        "before": {"risk_tier": "unassessed"},
        "after": {"risk_tier": "high"},
        "reason": "vendor model, tiered",
        "assessment": None,
    }
    # "unassessed" on a new model is the default, not an override
    models.create_model(ctx, alice, "plain", risk_tier="unassessed")


def test_permissions_are_checked_before_anything_is_written(
    ctx: Context, alice: Principal, credit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_risk(principal: Principal, permission: Permission) -> Decision:
        if permission in (Permission.RISK_ASSESS, Permission.GOVERNANCE_READ):
            return Decision(False, f"{principal.name} lacks {permission.value}")
        return Decision(True, "allowed")

    monkeypatch.setattr(permissions, "authorize", no_risk)
    with pytest.raises(Forbidden, match="alice lacks risk:assess"):
        risk_service.assess(ctx, alice, credit, CREDIT)
    with pytest.raises(Forbidden, match="alice lacks risk:assess"):
        models.update_model(ctx, alice, credit, risk_tier="low", risk_override_reason="why")
    with pytest.raises(Forbidden, match="alice lacks governance:read"):
        risk_service.get_assessment(ctx, alice, credit)
    with pytest.raises(Forbidden):
        risk_service.history(ctx, alice, credit)
    with pytest.raises(Forbidden):
        risk_service.questionnaire(ctx, alice)
    # editing other fields still works without risk:assess
    models.update_model(ctx, alice, credit, title="Credit")
    monkeypatch.undo()
    assert risk_service.history(ctx, alice, credit) == []
    assert models.get_model(ctx, alice, credit).risk_tier is RiskTier.UNASSESSED
