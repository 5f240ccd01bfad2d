"""The lifecycle state machine, pure: every (from, to) pair over the Stage enum."""

from __future__ import annotations

import itertools
import re

import pytest

from steward.domain.errors import IllegalTransition, InvalidInput
from steward.domain.lifecycle import (
    MAX_JUSTIFICATION,
    Outcome,
    Stage,
    TransitionRequest,
    ensure_allowed,
    evaluate,
    make_request,
    versions_to_displace,
)

# The table from the issue, written out independently of lifecycle.ALLOWED:
# development -> validation -> approved -> production -> deprecated -> retired,
# validation -> rejected, production -> under_review -> production | deprecated,
# and governance's send-backs after a rejection: validation -> development,
# approved -> validation.
EXPECTED: dict[str, set[str]] = {
    "development": {"validation"},
    "validation": {"approved", "rejected", "development"},
    "approved": {"production", "validation"},
    "production": {"deprecated", "under_review"},
    "under_review": {"production", "deprecated"},
    "deprecated": {"retired"},
    "retired": set(),
    "rejected": set(),
}
FINAL = {"retired", "rejected"}
ALL_PAIRS = list(itertools.product(list(Stage), repeat=2))


def request(current: Stage, target: Stage | str, justification: str = "ok") -> TransitionRequest:
    return make_request(
        model="credit",
        version=3,
        current=current,
        target=target,
        actor="alice",
        justification=justification,
    )


def test_the_enum_has_exactly_the_stages_of_the_table() -> None:
    assert {s.value for s in Stage} == set(EXPECTED)


@pytest.mark.parametrize(
    ("current", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS]
)
def test_evaluate_allows_exactly_the_pairs_of_the_table(current: Stage, target: Stage) -> None:
    decision = evaluate(request(current, target))
    allowed = target.value in EXPECTED[current.value]
    assert decision.allowed is allowed
    assert len(decision.outcomes) == 1
    outcome = decision.outcomes[0]
    assert outcome.requirement == "lifecycle.state_machine"
    if allowed:
        assert decision.unmet() == []
        ensure_allowed(decision)  # does not raise
        return
    assert decision.unmet() == [outcome]
    assert "Version 3 of 'credit'" in outcome.reason
    if current.value in FINAL:
        assert "a final stage" in outcome.reason
        assert "no further transitions are allowed" in outcome.reason
        assert "Allowed next stages" not in outcome.reason
    else:
        assert f"cannot move to {target.value}" in outcome.reason
        found = re.search(r"Allowed next stages: ([a-z_, ]+)\.$", outcome.reason)
        assert found is not None, outcome.reason
        assert set(found.group(1).split(", ")) == EXPECTED[current.value]
    with pytest.raises(IllegalTransition) as caught:
        ensure_allowed(decision)
    assert caught.value.detail == outcome.reason
    extra = caught.value.extra
    assert (extra["current"], extra["target"]) == (current.value, target.value)
    assert sorted(extra["allowed"]) == sorted(EXPECTED[current.value])
    assert set(extra) == {"current", "target", "allowed"}
    problem = caught.value.to_problem()
    assert problem["status"] == 409
    assert problem["code"] == "illegal-transition"
    assert set(problem["allowed"]) == EXPECTED[current.value]


def test_a_stage_cannot_transition_to_itself() -> None:
    for stage in Stage:
        assert not evaluate(request(stage, stage)).allowed


def test_every_stage_is_reachable_from_development() -> None:
    seen = {"development"}
    frontier = ["development"]
    while frontier:
        for target in EXPECTED[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(EXPECTED)


class Recorder:
    """A governance-style requirement that remembers whether it was consulted."""

    def __init__(self, met: bool) -> None:
        self.met = met
        self.seen: list[TransitionRequest] = []

    def __call__(self, request: TransitionRequest) -> Outcome:
        self.seen.append(request)
        return Outcome("governance.test", self.met, "needs a sign-off", ("ticket-1",))


def test_other_requirements_run_only_after_the_state_machine_passes() -> None:
    gate = Recorder(met=False)
    refused = evaluate(request(Stage.DEVELOPMENT, Stage.PRODUCTION), [gate])
    assert gate.seen == []
    assert [o.requirement for o in refused.outcomes] == ["lifecycle.state_machine"]

    blocked = evaluate(request(Stage.APPROVED, Stage.PRODUCTION), [gate])
    assert len(gate.seen) == 1
    assert not blocked.allowed
    assert [o.requirement for o in blocked.unmet()] == ["governance.test"]
    with pytest.raises(IllegalTransition, match="needs a sign-off"):
        ensure_allowed(blocked)

    assert evaluate(request(Stage.APPROVED, Stage.PRODUCTION), [Recorder(met=True)]).allowed


# -- make_request -----------------------------------------------------------------


@pytest.mark.parametrize("justification", ["", "   ", "\n\t ", None])
def test_a_justification_is_required(justification: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        request(Stage.DEVELOPMENT, "validation", justification)  # type: ignore[arg-type]
    assert caught.value.extra == {"field": "justification"}
    assert "justification is required" in caught.value.detail
    assert caught.value.to_problem()["status"] == 422


def test_a_justification_longer_than_the_limit_is_refused() -> None:
    assert MAX_JUSTIFICATION == 4000
    with pytest.raises(InvalidInput) as caught:
        request(Stage.DEVELOPMENT, "validation", "x" * (MAX_JUSTIFICATION + 1))
    assert caught.value.detail == "The justification is longer than 4000 characters."
    assert caught.value.extra == {"field": "justification"}


def test_a_justification_at_the_limit_is_kept_and_surrounding_space_trimmed() -> None:
    made = request(Stage.DEVELOPMENT, "validation", "  " + "y" * MAX_JUSTIFICATION + "\n")
    assert made.justification == "y" * MAX_JUSTIFICATION
    # Whitespace around the text does not count towards the limit.
    assert request(Stage.DEVELOPMENT, "validation", " Validated on Q1 data. ").justification == (
        "Validated on Q1 data."
    )


@pytest.mark.parametrize("name", ["prod", "Production", "PRODUCTION", "", "archived", " staging"])
def test_unknown_stage_names_are_refused_listing_the_stages(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        request(Stage.APPROVED, name)
    assert caught.value.extra == {"field": "to"}
    assert caught.value.detail == (
        f"Unknown stage {name!r}; stages are: development, validation, approved, production, "
        "under_review, deprecated, retired, rejected."
    )


def test_stage_names_and_enum_members_give_the_same_request() -> None:
    by_name = request(Stage.APPROVED, "production", "Signed off")
    by_member = request(Stage.APPROVED, Stage.PRODUCTION, "Signed off")
    assert by_name == by_member
    assert by_name == TransitionRequest(
        "credit", 3, Stage.APPROVED, Stage.PRODUCTION, "alice", "Signed off"
    )
    assert by_name.target is Stage.PRODUCTION


def test_the_justification_is_checked_before_the_stage_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        request(Stage.APPROVED, "nonsense", "")
    assert caught.value.extra == {"field": "justification"}


# -- versions_to_displace ------------------------------------------------------------


def test_promotion_displaces_every_other_production_version() -> None:
    assert versions_to_displace(Stage.PRODUCTION, 4, [1, 3], allow_multiple=False) == [1, 3]
    assert versions_to_displace(Stage.PRODUCTION, 4, [], allow_multiple=False) == []


def test_the_promoted_version_never_displaces_itself() -> None:
    assert versions_to_displace(Stage.PRODUCTION, 2, [2], allow_multiple=False) == []
    assert versions_to_displace(Stage.PRODUCTION, 2, [1, 2, 5], allow_multiple=False) == [1, 5]


def test_models_allowing_several_production_versions_displace_nothing() -> None:
    assert versions_to_displace(Stage.PRODUCTION, 4, [1, 3], allow_multiple=True) == []


@pytest.mark.parametrize("target", [s for s in Stage if s is not Stage.PRODUCTION])
def test_only_promotion_to_production_displaces(target: Stage) -> None:
    assert versions_to_displace(target, 4, [1, 3], allow_multiple=False) == []
