"""Periodic reviews: complete one (an independent validator's audited act), list what is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from steward.domain import finding_messages
from steward.domain import reviews as rules
from steward.domain.audit import Action
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.findings import text_field
from steward.domain.permissions import Decision, Permission, Principal, ensure
from steward.domain.reviews import DueStatus, Outcome, Review, ReviewDue
from steward.services import findings, policies
from steward.services.context import Context, model_id
from steward.store.uow import UnitOfWork

MAX_WINDOW_DAYS = 3660
MAX_DUE = 5000
# What an adverse outcome opens, so the gates' "no open findings" rule sees it.
_ADVERSE = {Outcome.NEEDS_IMPROVEMENT: "medium", Outcome.UNSATISFACTORY: "high"}


def _cadence_overrides(uow: UnitOfWork) -> dict[str, int]:
    pack = policies.active_pack(uow)
    return {} if pack is None else dict(pack.review_cadence_months)


def complete_review(
    ctx: Context,
    principal: Principal,
    model: str,
    *,
    outcome: str,
    notes: str,
    checklist: Sequence[str] | None = None,
) -> Review:
    """Record a completed periodic review and schedule the next one from the tier cadence.

    The review must be independent: the model's owner cannot complete it. An outcome
    other than satisfactory opens a finding (medium for needs_improvement, high for
    unsatisfactory) that the gates count until it is resolved.
    """
    ensure(principal, Permission.REVIEW_COMPLETE)
    result = rules.parse_outcome(outcome)
    text = text_field(notes, "notes", required=True)
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        uow.models.lock(mid)
        current = uow.models.get(model)
        assert current is not None
        decision = rules.may_complete(principal, model, current.owner)
        if not decision.allowed:
            raise Forbidden(decision.reason, permission=Permission.REVIEW_COMPLETE.value)
        # The checklist (the web form's) is optional for callers that record a review
        # without one; when given, it must support the outcome.
        if checklist is not None and (problem := rules.checklist_problem(result, checklist)):
            raise problem
        tier = current.risk_tier.value
        months = rules.cadence_months(tier, _cadence_overrides(uow))
        today = uow.now.date()
        next_date = rules.add_months(today, months)
        review_id = uow.reviews.insert(
            {
                "model_id": mid,
                "outcome": result.value,
                "notes": text,
                "reviewer": principal.name,
                "completed_at": uow.now,
                "risk_tier": tier,
                "cadence_months": months,
                "previous_due": current.next_review_date,
                "next_review_date": next_date,
            }
        )
        finding_id = None
        if result in _ADVERSE:
            opened = findings.open_in_uow(
                uow,
                principal.name,
                model_id=mid,
                model=model,
                version=None,
                title=f"Periodic review {result.value.replace('_', ' ')}",
                description=text,
                severity=_ADVERSE[result],
                source="review",
                source_ref=f"reviews/{review_id}",
                evidence={"review": review_id, "outcome": result.value},
                message_key=finding_messages.REVIEW_ADVERSE,
                message_params={"outcome": result.value},
            )
            finding_id = opened.id
            uow.reviews.set_finding(review_id, finding_id)
        uow.models.update(mid, {"next_review_date": next_date, "updated_at": uow.now})
        uow.record(
            principal.name,
            Action.REVIEW_COMPLETED,
            "review",
            f"{model}/reviews/{review_id}",
            {
                "id": review_id,
                "model": model,
                "outcome": result.value,
                "notes": text,
                "checklist": None if checklist is None else sorted(set(checklist)),
                "risk_tier": tier,
                "cadence_months": months,
                "before": {
                    "next_review_date": current.next_review_date.isoformat()
                    if current.next_review_date
                    else None
                },
                "after": {"next_review_date": next_date.isoformat()},
                "finding": finding_id,
            },
        )
        review = uow.reviews.get(review_id)
        uow.commit()
    assert review is not None
    return review


def list_reviews(ctx: Context, principal: Principal, model: str) -> list[Review]:
    """A model's completed reviews, newest first."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return uow.reviews.for_model(model_id(uow, model))


def get_review(ctx: Context, principal: Principal, review_id: int) -> Review:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found = uow.reviews.get(review_id)
    if found is None:
        raise NotFound(
            f"No review with id {review_id}. List a model's reviews with "
            "`steward review list MODEL`.",
            review=review_id,
        )
    return found


def reviews_due(
    ctx: Context, principal: Principal, *, within_days: int = 30, limit: int = 1000
) -> list[ReviewDue]:
    """Overdue reviews, those due within ``within_days``, and tiered models never scheduled.

    A pure read: asking (a page, the navigation's count, `steward review due`) journals
    nothing. The worker's ``reviews`` job (:func:`report_overdue`) journals each overdue
    review once, deciding what is overdue with this same function.
    """
    ensure(principal, Permission.GOVERNANCE_READ)
    if not 0 <= within_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(
            f"--within must be between 0 and {MAX_WINDOW_DAYS} days.", field="within_days"
        )
    if not 1 <= limit <= MAX_DUE:
        raise InvalidInput(f"limit must be between 1 and {MAX_DUE}.", field="limit")
    with ctx.uow.read() as uow:
        today = uow.now.date()
        rows = uow.reviews.due(today + timedelta(days=within_days), limit)
    due: list[ReviewDue] = []
    for row in rows:
        status = rules.due_status(row["next_review_date"], today, within_days)
        if status is None:
            continue
        due.append(
            ReviewDue(
                model=row["name"],
                risk_tier=row["risk_tier"],
                owner=row["owner"],
                next_review_date=row["next_review_date"],
                status=status,
                days=(row["next_review_date"] - today).days if row["next_review_date"] else None,
            )
        )
    return due


def report_overdue(ctx: Context, principal: Principal) -> list[ReviewDue]:
    """Journal ``review.overdue`` for each overdue review not reported yet (per model and
    missed due date, so subscribers hear of it exactly once); return those reported.

    What is overdue is :func:`reviews_due`'s answer — the pages' rule — and this is the
    only place that writes the notice: the worker's scheduled ``reviews`` job calls it.
    """
    overdue = [
        entry
        for entry in reviews_due(ctx, principal, within_days=0, limit=MAX_DUE)
        if entry.status is DueStatus.OVERDUE
    ]
    if not overdue:
        return []
    reported: list[ReviewDue] = []
    with ctx.uow.write() as uow:
        for entry in overdue:
            assert entry.next_review_date is not None
            mid = uow.models.id_of(entry.model)
            if mid is None or uow.reviews.notice_exists(mid, entry.next_review_date):
                continue  # deleted since, or reported before
            if not uow.reviews.claim_notice(mid, entry.next_review_date, uow.now):
                continue  # reported meanwhile by another worker
            event = uow.record(
                principal.name,
                Action.REVIEW_OVERDUE,
                "model",
                entry.model,
                {
                    "model": entry.model,
                    "risk_tier": entry.risk_tier,
                    "owner": entry.owner,
                    "due_date": entry.next_review_date.isoformat(),
                    "days_overdue": -(entry.days or 0),
                },
            )
            uow.reviews.set_notice_seq(mid, entry.next_review_date, event.seq)
            reported.append(entry)
        uow.commit()
    return reported


def completions(principal: Principal, due: list[ReviewDue]) -> dict[str, Decision]:
    """Per model in ``due``: may ``principal`` complete its review, and why (for the faces)."""
    return {entry.model: rules.may_complete(principal, entry.model, entry.owner) for entry in due}
