"""AI impact assessments through the service layer, on SQLite and PostgreSQL: the form's
required fields, segregation of duties, staleness, the journal and the policy gate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import ensure_user
from tests.risk_answers import CREDIT, IMPACT

from steward.domain import gate, impact, policy
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from steward.domain.impact import ImpactStatus
from steward.domain.permissions import Principal
from steward.services import audit, modelcards, models
from steward.services import impact as impact_service
from steward.services import risk as risk_service
from steward.services.context import Context

OLIVE = Principal(name="olive", roles=frozenset({"owner"}))
RITA = Principal(name="rita", roles=frozenset({"risk_officer"}))
ANNA = Principal(name="anna", roles=frozenset({"approver"}))


@pytest.fixture
def credit(ctx: Context, alice: Principal) -> str:
    for who in (OLIVE, RITA, ANNA):
        ensure_user(ctx, who.name, *who.roles)
    models.create_model(ctx, alice, "credit", purpose="Approve loans", owner="olive")
    risk_service.assess(ctx, alice, "credit", CREDIT)  # EU AI Act high-risk: Art. 27 applies
    return "credit"


def _events(ctx: Context, who: Principal) -> list[tuple[str, dict[str, Any]]]:
    wanted = (Action.IMPACT_SUBMITTED.value, Action.IMPACT_DECIDED.value)
    found = audit.list_events(ctx, who, AuditFilter(actions=wanted), 100)
    return [(e.action, json.loads(e.payload)) for e in found]


def test_a_high_risk_model_must_answer_the_art_27_fields(ctx: Context, credit: str) -> None:
    without = {k: v for k, v in IMPACT.items() if k != "period_and_frequency"}
    with pytest.raises(InvalidInput, match=r"period_and_frequency unanswered.*Art\. 27"):
        impact_service.submit(ctx, OLIVE, credit, without)
    with pytest.raises(InvalidInput, match="Unknown impact assessment field"):
        impact_service.submit(ctx, OLIVE, credit, {**IMPACT, "mood": "good"})
    # A minimal-risk model need not answer the Art. 27 fields.
    form = impact.shipped()
    assert "period_and_frequency" not in {f.id for f in form.required_for("minimal")}
    assert impact.check_answers(form, without, "minimal") == without


def test_submit_decide_and_segregation_of_duties(
    ctx: Context, alice: Principal, credit: str
) -> None:
    first = impact_service.submit(ctx, OLIVE, credit, IMPACT)
    assert (first.revision, first.status, first.purpose) == (
        1,
        ImpactStatus.SUBMITTED,
        "Approve loans",
    )
    assert first.population["vulnerable_groups"] == CREDIT["vulnerable_groups"]
    assert impact_service.current(ctx, RITA, credit) is None
    # Neither the submitter nor the model's owner decides; a comment is required.
    by_alice = impact_service.submit(ctx, alice, credit, IMPACT)  # supersedes revision 1
    assert by_alice.revision == 2
    with pytest.raises(Forbidden, match="submitted impact assessment"):
        impact_service.decide(ctx, alice, credit, approve=True, comment="mine")
    with pytest.raises(Forbidden, match="owns model"):
        impact_service.decide(
            ctx,
            Principal(name="olive", roles=frozenset({"approver"})),
            credit,
            approve=True,
            comment="own model",
        )
    with pytest.raises(InvalidInput, match="comment"):
        impact_service.decide(ctx, ANNA, credit, approve=True, comment=" ")
    with pytest.raises(Conflict, match="not the one awaiting"):
        impact_service.decide(ctx, ANNA, credit, approve=True, comment="x", revision=1)
    approved = impact_service.decide(ctx, ANNA, credit, approve=True, comment="reviewed")
    assert (approved.status, approved.decided_by) == (ImpactStatus.APPROVED, "anna")
    with pytest.raises(Conflict, match="already approved"):
        impact_service.decide(ctx, RITA, credit, approve=False, comment="again")
    current = impact_service.current(ctx, RITA, credit)
    assert current is not None and current.revision == 2 and current.stale is None
    history = impact_service.history(ctx, RITA, credit)
    assert [(a.revision, a.status) for a in history] == [
        (2, ImpactStatus.APPROVED),
        (1, ImpactStatus.SUPERSEDED),
    ]
    events = _events(ctx, alice)
    assert [a for a, _ in events].count("impact.submitted") == 2
    decided = [p for a, p in events if a == "impact.decided"]
    assert decided == [
        {
            "model": credit,
            "assessment": approved.id,
            "revision": 2,
            "decision": "approved",
            "comment": "reviewed",
        }
    ]


def test_an_owner_cannot_submit_for_someone_elses_model(ctx: Context, credit: str) -> None:
    stranger = Principal(name="sam", roles=frozenset({"owner"}))
    ensure_user(ctx, "sam", "owner")
    with pytest.raises(Forbidden):
        impact_service.submit(ctx, stranger, credit, IMPACT)
    with pytest.raises(NotFound):
        impact_service.submit(ctx, OLIVE, "ghost", IMPACT)
    nobody = Principal(name="nobody", roles=frozenset())
    with pytest.raises(Forbidden):
        impact_service.current(ctx, nobody, credit)


def test_stale_when_purpose_or_population_changes_and_the_gate_says_so(
    ctx: Context, alice: Principal, credit: str
) -> None:
    impact_service.submit(ctx, OLIVE, credit, IMPACT)
    impact_service.decide(ctx, RITA, credit, approve=True, comment="fine")
    with ctx.uow.read() as uow:
        mid = uow.models.row(credit)["id"]
        found, why = impact_service.status_in_uow(uow, int(mid))
    assert found is not None and why is None
    # The affected population changes: the risk answers about who is affected.
    risk_service.assess(ctx, alice, credit, {**CREDIT, "scale": "under_1k"})
    stale = impact_service.current(ctx, RITA, credit)
    assert stale is not None and stale.stale is not None
    assert "affected population changed" in stale.stale and "scale" in stale.stale
    # The model card shows it, with why it no longer counts.
    risk_service.assess(ctx, alice, credit, CREDIT)
    assert impact_service.current(ctx, RITA, credit).stale is None  # type: ignore[union-attr]
    models.update_model(ctx, alice, credit, purpose="Approve and price loans")
    stale = impact_service.current(ctx, RITA, credit)
    assert stale is not None and "purpose changed" in (stale.stale or "")
    # The policy kind evaluates the same status.
    spec = policy.RequirementSpec(
        id="impact.assessed",
        kind=policy.Kind.IMPACT_ASSESSED,
        to=frozenset(),
        tiers=frozenset(),
        controls=("eu-ai-act:Art. 27",),
        description="",
    )
    facts: Any = type(
        "F", (), {"impact_id": stale.id, "impact_problem": stale.stale, "model": credit}
    )
    outcome = gate._EVALUATORS[policy.Kind.IMPACT_ASSESSED](spec, facts)
    assert not outcome.met and "purpose changed" in outcome.reason
    facts.impact_problem = None
    assert gate._EVALUATORS[policy.Kind.IMPACT_ASSESSED](spec, facts).met


def test_the_model_card_shows_the_impact_assessment(
    ctx: Context, alice: Principal, credit: str, tmp_path: Any
) -> None:
    from steward.domain.specs import VersionSpec
    from steward.services import versions

    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    versions.create_version(ctx, OLIVE, credit, VersionSpec(description="v1"), artifact)
    card = modelcards.model_card(ctx, RITA, credit, 1)
    blocks = card.section("risk").blocks
    assert any("no approved impact assessment" in str(b.get("text", "")) for b in blocks)
    impact_service.submit(ctx, OLIVE, credit, IMPACT)
    impact_service.decide(ctx, ANNA, credit, approve=True, comment="reviewed")
    card = modelcards.model_card(ctx, RITA, credit, 1)
    rows = [r for b in card.section("risk").blocks if b["kind"] == "table" for r in b["rows"]]
    assert ["harms", IMPACT["harms"]] in rows
