"""The per-version lifecycle state machine.

A move is modelled as *request -> evaluate -> apply*: :func:`evaluate`
returns a :class:`Decision` made of per-requirement outcomes. Today the only
requirement is the state machine itself; the governance gates add their
own requirements to the same decision instead of rewriting this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from steward.domain.errors import IllegalTransition, InvalidInput


class Stage(StrEnum):
    DEVELOPMENT = "development"
    VALIDATION = "validation"
    APPROVED = "approved"
    PRODUCTION = "production"
    UNDER_REVIEW = "under_review"
    DEPRECATED = "deprecated"
    RETIRED = "retired"
    REJECTED = "rejected"


ALLOWED: dict[Stage, tuple[Stage, ...]] = {
    Stage.DEVELOPMENT: (Stage.VALIDATION,),
    Stage.VALIDATION: (Stage.APPROVED, Stage.REJECTED, Stage.DEVELOPMENT),
    Stage.APPROVED: (Stage.PRODUCTION, Stage.VALIDATION),
    Stage.PRODUCTION: (Stage.DEPRECATED, Stage.UNDER_REVIEW),
    Stage.UNDER_REVIEW: (Stage.PRODUCTION, Stage.DEPRECATED),
    Stage.DEPRECATED: (Stage.RETIRED,),
    Stage.RETIRED: (),
    Stage.REJECTED: (),
}

INITIAL = Stage.DEVELOPMENT
MAX_JUSTIFICATION = 4000


def parse_stage(value: str, field: str = "to") -> Stage:
    try:
        return Stage(value)
    except ValueError:
        known = ", ".join(s.value for s in Stage)
        raise InvalidInput(f"Unknown stage {value!r}; stages are: {known}.", field=field) from None


@dataclass(frozen=True)
class TransitionRequest:
    model: str
    version: int
    current: Stage
    target: Stage
    actor: str
    justification: str


@dataclass(frozen=True)
class Outcome:
    """One requirement's verdict, with the reason a person can act on."""

    requirement: str
    met: bool
    reason: str
    evidence: tuple[str, ...] = ()
    # The framework controls the requirement serves (policy packs cite them).
    controls: tuple[str, ...] = ()
    # Set when an unmet requirement counts as met because a waiver covers it.
    waiver: str | None = None
    kind: str = "lifecycle"

    @property
    def status(self) -> str:
        if self.waiver is not None:
            return "waived"
        return "met" if self.met else "unmet"


@dataclass(frozen=True)
class Decision:
    request: TransitionRequest
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return all(o.met for o in self.outcomes)

    def unmet(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.met]


class Requirement(Protocol):
    """A gate requirement: governance supplies more of these."""

    def __call__(self, request: TransitionRequest) -> Outcome: ...


def allowed_targets(current: Stage) -> tuple[Stage, ...]:
    return ALLOWED[current]


def state_machine(request: TransitionRequest) -> Outcome:
    targets = ALLOWED[request.current]
    if request.target in targets:
        return Outcome("lifecycle.state_machine", True, f"{request.current} -> {request.target}")
    if targets:
        options = ", ".join(t.value for t in targets)
        reason = (
            f"Version {request.version} of {request.model!r} is in {request.current.value}; "
            f"it cannot move to {request.target.value}. Allowed next stages: {options}."
        )
    else:
        reason = (
            f"Version {request.version} of {request.model!r} is {request.current.value}, a final "
            "stage; no further transitions are allowed. Log a new version instead."
        )
    return Outcome("lifecycle.state_machine", False, reason)


def make_request(
    *,
    model: str,
    version: int,
    current: Stage,
    target: str | Stage,
    actor: str,
    justification: str,
) -> TransitionRequest:
    justification = (justification or "").strip()
    if not justification:
        raise InvalidInput(
            "A justification is required for every transition: say why this version should move.",
            field="justification",
        )
    if len(justification) > MAX_JUSTIFICATION:
        raise InvalidInput(
            f"The justification is longer than {MAX_JUSTIFICATION} characters.",
            field="justification",
        )
    target_stage = target if isinstance(target, Stage) else parse_stage(target)
    return TransitionRequest(model, version, current, target_stage, actor, justification)


def evaluate(
    request: TransitionRequest,
    requirements: Iterable[Requirement] = (),
    gate: Sequence[Outcome] = (),
) -> Decision:
    """Evaluate the state machine first; the policy gate and others only if it passes."""
    first = state_machine(request)
    if not first.met:
        return Decision(request, (first,))
    return Decision(request, (first, *gate, *(req(request) for req in requirements)))


# Moves that send a version back for rework: never gated by a policy pack.
SEND_BACK: dict[Stage, Stage] = {
    Stage.VALIDATION: Stage.DEVELOPMENT,
    Stage.APPROVED: Stage.VALIDATION,
}


def ensure_allowed(decision: Decision) -> None:
    if decision.allowed:
        return
    reasons = " ".join(o.reason for o in decision.unmet())
    raise IllegalTransition(
        reasons,
        current=decision.request.current.value,
        target=decision.request.target.value,
        allowed=[s.value for s in ALLOWED[decision.request.current]],
    )


def displaced_stage(target: Stage) -> Stage | None:
    """Where the model's other production versions go when one is promoted."""
    return Stage.DEPRECATED if target is Stage.PRODUCTION else None


def versions_to_displace(
    target: Stage, promoted: int, in_production: Sequence[int], allow_multiple: bool
) -> list[int]:
    if target is not Stage.PRODUCTION or allow_multiple:
        return []
    return [v for v in in_production if v != promoted]
