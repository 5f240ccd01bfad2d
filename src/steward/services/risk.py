"""Risk assessment use cases: answer the questionnaire, read the result, keep it current.

Assessing stores the answers with the questionnaire id and version, the tier,
the EU AI Act category and every reason, and sets the model's ``risk_tier``
and ``regulatory_category`` — all in one transaction that journals
``risk.assessed`` and the model's own ``model.updated``. Setting the tier or
category by hand (``update_model``) is an *override*: it needs
``risk:assess`` and a reason, journalled as ``risk.overridden``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from enum import Enum
from typing import Any

from steward.domain import risk
from steward.domain.audit import Action
from steward.domain.entities import PositiveMeans
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.risk import AssessmentStatus, Questionnaire, RiskAssessment
from steward.services.access import check_first, ensure_model
from steward.services.context import Context, model_id
from steward.store.risk_repo import reason_json
from steward.store.uow import UnitOfWork

RISK_FIELDS = ("risk_tier", "regulatory_category")
MAX_REASON = 2000


def current_questionnaire() -> Questionnaire:
    """The questionnaire assessments are answered against (Steward's shipped one)."""
    return risk.shipped()


def questionnaire(ctx: Context, principal: Principal) -> Questionnaire:
    ensure(principal, Permission.GOVERNANCE_READ)
    return current_questionnaire()


def preview(
    ctx: Context, principal: Principal, model: str, answers: Mapping[str, Any]
) -> risk.Scoring:
    """What ``assess`` would record for ``answers`` — tier, EU AI Act category and every
    reason — without recording it: the questionnaire page shows it before saving."""
    ensure(principal, Permission.RISK_ASSESS)
    check_first(ctx, principal, Permission.RISK_ASSESS, model)
    form = current_questionnaire()
    return risk.score(form, risk.check_answers(form, answers))


def assess(
    ctx: Context, principal: Principal, model: str, answers: Mapping[str, Any]
) -> RiskAssessment:
    """Score ``answers`` and make the result the model's current assessment.

    Answering again with different answers (or after the questionnaire or the
    model's purpose, business unit or team changed) supersedes the previous
    assessment; the same answers on a current assessment change nothing.
    """
    ensure(principal, Permission.RISK_ASSESS)
    check_first(ctx, principal, Permission.RISK_ASSESS, model)
    form = current_questionnaire()
    checked = risk.check_answers(form, answers)
    result = risk.score(form, checked)
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.RISK_ASSESS, model)
        record = uow.models.get(model)
        assert record is not None
        assessed = {f: str(getattr(record, f) or "") for f in risk.ASSESSED_FIELDS}
        previous = uow.risk.current(mid)
        if (
            previous is not None
            and previous.answers == checked
            and risk.staleness(
                previous, form.version, risk.changed_fields(previous, assessed), form.id
            )
            is None
            and (record.risk_tier.value, record.regulatory_category.value)
            == (previous.tier, previous.category)
        ):
            return previous
        aid = "ra_" + secrets.token_hex(8)
        event = uow.record(
            principal.name,
            Action.RISK_ASSESSED,
            "risk_assessment",
            f"{model}/{aid}",
            {
                "model": model,
                "assessment": aid,
                "questionnaire": form.id,
                "questionnaire_version": form.version,
                "answers": checked,
                "tier": result.tier,
                "category": result.category,
                "score": result.score,
                "reasons": [reason_json(r) for r in result.reasons],
                "supersedes": previous.id if previous else None,
            },
        )
        assessment = RiskAssessment(
            id=aid,
            model=model,
            questionnaire=form.id,
            questionnaire_version=form.version,
            answers=checked,
            tier=result.tier,
            category=result.category,
            score=result.score,
            reasons=list(result.reasons),
            assessed_by=principal.name,
            assessed_at=uow.now,
            model_fields=assessed,
            audit_seq=event.seq,
        )
        if previous is not None:
            uow.risk.supersede(previous.id, aid, uow.now)
        uow.risk.insert(mid, assessment)
        before = {
            "risk_tier": record.risk_tier.value,
            "regulatory_category": record.regulatory_category.value,
            "positive_means": record.positive_means.value,
        }
        after = {
            "risk_tier": result.tier,
            "regulatory_category": result.category,
            # The fairness direction the owner states here is kept on the model.
            "positive_means": _direction(checked.get(DIRECTION_QUESTION), record.positive_means),
        }
        changed = sorted(k for k in after if after[k] != before[k])
        if changed:
            uow.models.update(mid, {**{k: after[k] for k in changed}, "updated_at": uow.now})
            uow.record(
                principal.name,
                Action.MODEL_UPDATED,
                "model",
                model,
                {
                    "before": {k: before[k] for k in changed},
                    "after": {k: after[k] for k in changed},
                    "fields": changed,
                    "assessment": aid,
                },
            )
        uow.commit()
    return assessment


DIRECTION_QUESTION = "positive_prediction"


def _direction(answer: Any, current: PositiveMeans) -> str:
    if answer in (PositiveMeans.FAVOURABLE.value, PositiveMeans.ADVERSE.value):
        return str(answer)
    return current.value


def assessment_status(uow: UnitOfWork, model_id: int) -> tuple[RiskAssessment | None, str | None]:
    """The model's current assessment and why it is missing or stale (None when it counts).

    For the gate engine: call it inside your own unit of work.
    """
    fields = uow.risk.model_fields(model_id)
    assessment = uow.risk.current(model_id)
    if assessment is None:
        return None, risk.missing(fields.get("name", str(model_id)))
    form = current_questionnaire()
    return assessment, risk.staleness(
        assessment, form.version, risk.changed_fields(assessment, fields), form.id
    )


def get_assessment(ctx: Context, principal: Principal, model: str) -> AssessmentStatus:
    """The model's current assessment with its currency (``problem`` says why it is stale)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        mid = model_id(uow, model)
        assessment, problem = assessment_status(uow, mid)
    return AssessmentStatus(
        model=model,
        assessment=assessment,
        problem=problem,
        questionnaire=current_questionnaire().ref,
    )


def history(ctx: Context, principal: Principal, model: str) -> list[RiskAssessment]:
    """Every assessment of ``model``, newest first (superseded ones included)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return uow.risk.history(model_id(uow, model))


def get_by_id(ctx: Context, principal: Principal, assessment_id: str) -> RiskAssessment:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found = uow.risk.get(assessment_id)
    if found is None:
        raise NotFound(
            f"No risk assessment {assessment_id!r}. List a model's assessments with "
            "`steward risk history MODEL`.",
            assessment=assessment_id,
        )
    return found


# -- overrides through update_model / create_model ---------------------------------------


def _value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def check_override(
    principal: Principal, values: Mapping[str, Any], reason: str | None, *, creating: bool = False
) -> str | None:
    """Refuse a hand-set tier or category without ``risk:assess`` and a reason.

    Returns the cleaned reason when ``values`` sets a risk field, else None.
    Setting ``unassessed`` on a new model is no override (it is the default).
    """
    touched = [
        k
        for k in RISK_FIELDS
        if k in values and not (creating and _value(values[k]) == "unassessed")
    ]
    if not touched:
        if reason:
            raise InvalidInput(
                "risk_override_reason is only for setting risk_tier or regulatory_category "
                "by hand; leave it out.",
                field="risk_override_reason",
            )
        return None
    ensure(principal, Permission.RISK_ASSESS)
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InvalidInput(
            f"Setting {' and '.join(touched)} by hand overrides the risk assessment: give "
            "risk_override_reason (CLI: --override-reason) saying why, or answer the "
            "questionnaire with `steward risk assess MODEL` to compute them.",
            field="risk_override_reason",
        )
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(
            f"risk_override_reason is longer than {MAX_REASON} characters.",
            field="risk_override_reason",
        )
    return cleaned


def record_override(
    uow: UnitOfWork,
    actor: str,
    model: str,
    mid: int,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reason: str,
) -> None:
    """Journal ``risk.overridden`` in the caller's transaction (for the changed risk fields)."""
    changed = [k for k in RISK_FIELDS if k in after]
    if not changed:
        return
    current = uow.risk.current(mid)
    uow.record(
        actor,
        Action.RISK_OVERRIDDEN,
        "model",
        model,
        {
            "before": {k: _value(before.get(k, "unassessed")) for k in changed},
            "after": {k: _value(after[k]) for k in changed},
            "reason": reason,
            "assessment": current.id if current else None,
        },
    )
