"""AI impact assessments: submit a revision, decide it (segregation of duties), read status.

One transaction per use case, each journalled: ``impact.submitted`` (the answers, and the
purpose and affected population they describe) and ``impact.decided``. An approved
revision goes stale when the form's version, the model's purpose or its affected
population (the current risk assessment's answers about who is affected) changes
(:func:`steward.domain.impact.staleness`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from steward.domain import impact
from steward.domain.audit import Action
from steward.domain.errors import Conflict, InvalidInput, NotFound
from steward.domain.impact import ImpactAssessment, ImpactForm, ImpactStatus
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.access import check_first, ensure_model
from steward.services.context import Context, model_id
from steward.store.uow import UnitOfWork


def form(ctx: Context, principal: Principal) -> ImpactForm:
    """The shipped form: its fields, which are required, which are EU AI Act Art. 27."""
    ensure(principal, Permission.GOVERNANCE_READ)
    return impact.shipped()


def _population(uow: UnitOfWork, mid: int) -> dict[str, Any]:
    current = uow.risk.current(mid)
    return impact.population(current.answers if current is not None else None)


def submit(
    ctx: Context, principal: Principal, model: str, answers: Mapping[str, Any]
) -> ImpactAssessment:
    """Submit a new revision of the model's impact assessment (awaiting a decision)."""
    ensure(principal, Permission.RISK_ASSESS)
    check_first(ctx, principal, Permission.RISK_ASSESS, model)
    the_form = impact.shipped()
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.RISK_ASSESS, model)
        record = uow.models.get(model)
        assert record is not None
        checked = impact.check_answers(the_form, answers, record.regulatory_category.value)
        population = _population(uow, mid)
        aid = "ia_" + secrets.token_hex(8)
        revision = uow.impact.next_revision(mid)
        event = uow.record(
            principal.name,
            Action.IMPACT_SUBMITTED,
            "impact_assessment",
            f"{model}/{aid}",
            {
                "model": model,
                "assessment": aid,
                "revision": revision,
                "form": the_form.id,
                "form_version": the_form.version,
                "answers": checked,
                "purpose": record.purpose,
                "population": population,
            },
        )
        assessment = ImpactAssessment(
            id=aid,
            model=model,
            revision=revision,
            form=the_form.id,
            form_version=the_form.version,
            answers=checked,
            purpose=record.purpose,
            population=population,
            status=ImpactStatus.SUBMITTED,
            submitted_by=principal.name,
            submitted_at=uow.now,
            audit_seq=event.seq,
        )
        uow.impact.supersede_pending(mid)
        uow.impact.insert(mid, assessment)
        uow.commit()
    return assessment


def decide(
    ctx: Context,
    principal: Principal,
    model: str,
    *,
    approve: bool,
    comment: str,
    revision: int | None = None,
) -> ImpactAssessment:
    """Approve or reject the revision awaiting a decision (``revision`` pins which)."""
    ensure(principal, Permission.APPROVAL_DECIDE)
    if not comment.strip():
        raise InvalidInput(
            "Say why with a comment (-c TEXT): the decision is the record an auditor reads.",
            field="comment",
        )
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        uow.models.lock(mid)
        scope = ensure_model(uow, principal, Permission.APPROVAL_DECIDE, model)
        pending = uow.impact.latest(mid)
        if pending is None:
            raise NotFound(
                f"{model!r} has no impact assessment; its owner submits one with "
                f"`steward impact submit {model} --answers FILE`.",
                model=model,
            )
        if revision is not None and pending.revision != revision:
            raise Conflict(
                f"Revision {revision} of {model!r}'s impact assessment is not the one awaiting "
                f"a decision (the latest is revision {pending.revision}, {pending.status}).",
            )
        if pending.status is not ImpactStatus.SUBMITTED:
            raise Conflict(
                f"Revision {pending.revision} of {model!r}'s impact assessment is already "
                f"{pending.status}; a new submission (`steward impact submit {model}`) needs "
                "a new decision.",
            )
        impact.check_decider(pending, principal.name, scope.owner)
        status = ImpactStatus.APPROVED if approve else ImpactStatus.REJECTED
        uow.record(
            principal.name,
            Action.IMPACT_DECIDED,
            "impact_assessment",
            f"{model}/{pending.id}",
            {
                "model": model,
                "assessment": pending.id,
                "revision": pending.revision,
                "decision": status.value,
                "comment": comment.strip(),
            },
        )
        uow.impact.set_status(
            pending.id, status, by=principal.name, at=uow.now, comment=comment.strip()
        )
        uow.commit()
    return replace(
        pending, status=status, decided_by=principal.name, decided_at=uow.now, comment=comment
    )


def status_in_uow(uow: UnitOfWork, mid: int) -> tuple[ImpactAssessment | None, str | None]:
    """The approved revision that counts (with why it is stale, if it is), or (None, why)."""
    found = uow.impact.approved(mid)
    name = uow.risk.model_fields(mid)["name"]
    if found is None:
        latest = uow.impact.latest(mid)
        if latest is not None and latest.status is ImpactStatus.SUBMITTED:
            return None, (
                f"Impact assessment revision {latest.revision} of {name!r} awaits a decision "
                f"(`steward impact decide {name} --approve -c TEXT`)."
            )
        return None, (
            f"{name!r} has no approved impact assessment; its owner submits one with "
            f"`steward impact submit {name} --answers FILE`."
        )
    record = uow.models.get(name)
    assert record is not None
    why = impact.staleness(found, impact.shipped().version, record.purpose, _population(uow, mid))
    return replace(found, stale=why), why


def current(ctx: Context, principal: Principal, model: str) -> ImpactAssessment | None:
    """The approved revision that counts (``stale`` says why it no longer does), or None."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found, _why = status_in_uow(uow, model_id(uow, model))
    return found


def history(ctx: Context, principal: Principal, model: str) -> list[ImpactAssessment]:
    """Every revision, newest first."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return uow.impact.history(model_id(uow, model))
