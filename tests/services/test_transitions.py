"""Lifecycle transitions through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import Clock

from steward import bootstrap
from steward.domain.audit import Action, AuditEvent, AuditFilter, format_time
from steward.domain.entities import TransitionResult
from steward.domain.errors import IllegalTransition, InvalidInput, NotFound
from steward.domain.lifecycle import Stage
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import audit, lifecycle, models, versions
from steward.services.context import Context
from steward.settings import Settings

MakeFile = Callable[[bytes, str], Path]

EDGES = {
    ("development", "validation"),
    ("validation", "approved"),
    ("validation", "rejected"),
    ("validation", "development"),  # sent back for rework
    ("approved", "production"),
    ("approved", "validation"),  # sent back for rework
    ("production", "deprecated"),
    ("production", "under_review"),
    ("under_review", "production"),
    ("under_review", "deprecated"),
    ("deprecated", "retired"),
}
# The paths from development to each stage used to set versions up.
PATH_TO = {
    "development": [],
    "validation": ["validation"],
    "approved": ["validation", "approved"],
    "production": ["validation", "approved", "production"],
    "under_review": ["validation", "approved", "production", "under_review"],
    "deprecated": ["validation", "approved", "production", "deprecated"],
    "retired": ["validation", "approved", "production", "deprecated", "retired"],
    "rejected": ["validation", "rejected"],
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


_artifacts = itertools.count(1)


def new_version(ctx: Context, who: Principal, model: str, make_file: MakeFile) -> int:
    path = make_file(f"{model} weights #{next(_artifacts)}".encode(), "model.bin")
    return versions.create_version(ctx, who, model, VersionSpec(), path).version


def move(ctx: Context, who: Principal, model: str, version: int, *stages: str) -> TransitionResult:
    result: TransitionResult | None = None
    for stage in stages:
        result = lifecycle.transition(ctx, who, model, version, stage, f"to {stage}")
    assert result is not None
    return result


def stage_of(ctx: Context, who: Principal, model: str, version: int) -> Stage:
    return versions.get_version(ctx, who, model, version).stage


def journal(ctx: Context, who: Principal) -> list[AuditEvent]:
    return audit.list_events(ctx, who, AuditFilter(), 10_000)


def test_a_version_walks_every_allowed_transition(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "credit")
    walk = [
        "validation",
        "approved",
        "production",
        "under_review",
        "production",
        "under_review",
        "deprecated",
        "retired",
    ]
    v1 = new_version(ctx, alice, "credit", make_file)
    v2 = new_version(ctx, alice, "credit", make_file)
    v3 = new_version(ctx, alice, "credit", make_file)
    taken: set[tuple[str, str]] = set()
    v4 = new_version(ctx, alice, "credit", make_file)
    back = ["validation", "approved", "validation", "development"]
    for number, path in (
        (v1, walk),
        (v2, ["validation", "rejected"]),
        (v3, PATH_TO["deprecated"]),
        (v4, back),
    ):
        current = "development"
        for target in path:
            result = lifecycle.transition(
                ctx, alice, "credit", number, target, f"{number}: {target}"
            )
            assert result.transition.from_stage == current
            assert result.transition.to_stage == target
            assert result.version.stage == target
            assert result.version.version == number
            assert stage_of(ctx, alice, "credit", number) == target
            taken.add((current, target))
            current = target
        recorded = lifecycle.transitions(ctx, alice, "credit", number)
        assert [(t.from_stage.value, t.to_stage.value) for t in recorded] == list(
            zip(["development", *path[:-1]], path, strict=True)
        )
        assert [t.justification for t in recorded] == [f"{number}: {s}" for s in path]
    assert taken == EDGES
    assert audit.verify(ctx, alice).ok


def test_refused_transitions_change_nothing(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    """One version in every stage; every move outside the table is refused with the options."""
    models.create_model(ctx, alice, "credit")
    at: dict[str, int] = {}
    # Order matters: each promotion displaces the production version before it.
    for stage in (
        "retired",
        "deprecated",
        "rejected",
        "under_review",
        "production",
        "approved",
        "validation",
        "development",
    ):
        at[stage] = new_version(ctx, alice, "credit", make_file)
        for target in PATH_TO[stage]:
            lifecycle.transition(ctx, alice, "credit", at[stage], target, "setup")
    for stage, number in at.items():
        assert stage_of(ctx, alice, "credit", number) == stage
    before = journal(ctx, alice)
    history = {n: lifecycle.transitions(ctx, alice, "credit", n) for n in at.values()}

    refused = 0
    for stage, number in at.items():
        for target in Stage:
            if (stage, target.value) in EDGES:
                continue
            with pytest.raises(IllegalTransition) as caught:
                lifecycle.transition(ctx, alice, "credit", number, target.value, "try it")
            allowed = sorted(t for s, t in EDGES if s == stage)
            assert sorted(caught.value.extra["allowed"]) == allowed
            assert caught.value.extra["current"] == stage
            assert caught.value.extra["target"] == target.value
            if allowed:
                assert "Allowed next stages: " in caught.value.detail
            else:
                assert "final stage" in caught.value.detail
            refused += 1
    assert refused == 8 * 8 - len(EDGES)

    for stage, number in at.items():
        assert stage_of(ctx, alice, "credit", number) == stage
        assert lifecycle.transitions(ctx, alice, "credit", number) == history[number]
    assert journal(ctx, alice) == before
    assert audit.verify(ctx, alice).head_hash == before[-1].hash


def test_invalid_requests_are_refused_before_anything_is_written(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "credit")
    v1 = new_version(ctx, alice, "credit", make_file)
    before = journal(ctx, alice)
    with pytest.raises(InvalidInput) as no_reason:
        lifecycle.transition(ctx, alice, "credit", v1, "validation", "  ")
    assert no_reason.value.extra == {"field": "justification"}
    with pytest.raises(InvalidInput) as too_long:
        lifecycle.transition(ctx, alice, "credit", v1, "validation", "x" * 4001)
    assert too_long.value.extra == {"field": "justification"}
    with pytest.raises(InvalidInput, match="Unknown stage 'staging'"):
        lifecycle.transition(ctx, alice, "credit", v1, "staging", "why not")
    with pytest.raises(NotFound, match="has no version 9"):
        lifecycle.transition(ctx, alice, "credit", 9, "validation", "why not")
    with pytest.raises(NotFound, match="'nope' does not exist"):
        lifecycle.transition(ctx, alice, "nope", 1, "validation", "why not")
    assert journal(ctx, alice) == before
    assert stage_of(ctx, alice, "credit", v1) is Stage.DEVELOPMENT


def test_each_transition_records_actor_time_and_justification(
    timed: Context, clock: Clock, make_file: MakeFile
) -> None:
    # Their names, not their powers, are what this test is about: embedded operators.
    alice = Principal(name="alice", roles=frozenset({OPERATOR}))
    bob = Principal(name="bob", roles=frozenset({OPERATOR}))
    models.create_model(timed, alice, "credit")
    v1 = new_version(timed, alice, "credit", make_file)
    moments = []
    for who, stage, why in (
        (alice, "validation", "Backtest on 2025 data: AUC 0.81"),
        (bob, "approved", "Reviewed by model risk — ticket MRM-42 ✓"),
        (alice, "production", "Go-live approved by the credit committee"),
    ):
        clock.advance(hours=5)
        result = lifecycle.transition(timed, who, "credit", v1, stage, why)
        moments.append(result.transition.at)
        assert result.transition.actor == who.name
        assert result.transition.justification == why
        assert result.version.stage_changed_at == result.transition.at

    # Each move happened when the clock said: five hours (and a few ticks) apart.
    for earlier, later in itertools.pairwise(moments):
        assert timedelta(hours=5) < later - earlier < timedelta(hours=5, milliseconds=1)
    assert all(m.tzinfo is not None for m in moments)

    recorded = lifecycle.transitions(timed, alice, "credit", v1)
    assert [(t.actor, t.to_stage.value, t.justification) for t in recorded] == [
        ("alice", "validation", "Backtest on 2025 data: AUC 0.81"),
        ("bob", "approved", "Reviewed by model risk — ticket MRM-42 ✓"),
        ("alice", "production", "Go-live approved by the credit committee"),
    ]
    assert [t.at for t in recorded] == moments
    assert all(t.caused_by is None for t in recorded)

    events = {e.seq: e for e in journal(timed, alice)}
    for tr in recorded:
        event = events[tr.audit_seq]
        assert event.action == Action.VERSION_TRANSITIONED
        assert (event.subject_type, event.subject_id) == ("version", "credit/1")
        assert event.actor == tr.actor
        assert event.time == format_time(tr.at)
        assert event.payload_dict() == {
            "model": "credit",
            "version": 1,
            "from": tr.from_stage.value,
            "to": tr.to_stage.value,
            "justification": tr.justification,
            "caused_by": None,
        }


def test_promotion_deprecates_the_previous_production_version_in_one_transaction(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "credit")
    v1 = new_version(ctx, alice, "credit", make_file)
    v2 = new_version(ctx, alice, "credit", make_file)
    move(ctx, alice, "credit", v1, *PATH_TO["production"])
    move(ctx, alice, "credit", v2, "validation", "approved")
    head = journal(ctx, alice)[-1].seq

    result = lifecycle.transition(ctx, alice, "credit", v2, "production", "Better AUC")
    assert result.version.stage is Stage.PRODUCTION
    assert len(result.displaced) == 1
    displaced = result.displaced[0]
    assert (displaced.version, displaced.from_stage, displaced.to_stage) == (
        1,
        Stage.PRODUCTION,
        Stage.DEPRECATED,
    )
    assert displaced.caused_by == "credit/2"
    assert displaced.justification == "Replaced in production by version 2: Better AUC"
    assert displaced.actor == "alice"
    assert stage_of(ctx, alice, "credit", v1) is Stage.DEPRECATED
    assert lifecycle.transitions(ctx, alice, "credit", v1)[-1] == displaced
    assert lifecycle.transitions(ctx, alice, "credit", v2)[-1] == result.transition

    # Both moves are journalled back to back by the same write: nothing in between.
    new = [e for e in journal(ctx, alice) if e.seq > head]
    assert [e.seq for e in new] == [head + 1, head + 2]
    assert [(e.subject_id, e.payload_dict()["to"], e.payload_dict()["caused_by"]) for e in new] == [
        ("credit/1", "deprecated", "credit/2"),
        ("credit/2", "production", None),
    ]
    assert (displaced.audit_seq, result.transition.audit_seq) == (head + 1, head + 2)
    # One transaction, one moment: no instant exists where v1 is out and v2 not yet in.
    assert new[0].time == new[1].time == format_time(result.transition.at)
    assert displaced.at == result.transition.at
    assert lifecycle.history(ctx, alice, at=result.transition.at, model="credit")[0].production == [
        2
    ]


def test_a_failed_promotion_leaves_the_previous_version_in_production(
    ctx: Context, alice: Principal, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failure injection after the displacement was written: all of it is rolled back."""
    models.create_model(ctx, alice, "credit")
    v1 = new_version(ctx, alice, "credit", make_file)
    v2 = new_version(ctx, alice, "credit", make_file)
    move(ctx, alice, "credit", v1, *PATH_TO["production"])
    move(ctx, alice, "credit", v2, "validation", "approved")
    before = journal(ctx, alice)
    real_apply = lifecycle._apply

    def apply_then_fail(*args: object, **kwargs: object) -> object:
        done = real_apply(*args, **kwargs)  # type: ignore[arg-type]
        if done.to_stage is Stage.PRODUCTION:
            raise RuntimeError("crash after the displacement was written")
        return done

    monkeypatch.setattr(lifecycle, "_apply", apply_then_fail)
    with pytest.raises(RuntimeError, match="crash after"):
        lifecycle.transition(ctx, alice, "credit", v2, "production", "go")
    monkeypatch.undo()

    assert stage_of(ctx, alice, "credit", v1) is Stage.PRODUCTION
    assert stage_of(ctx, alice, "credit", v2) is Stage.APPROVED
    assert [t.to_stage for t in lifecycle.transitions(ctx, alice, "credit", v1)] == [
        Stage.VALIDATION,
        Stage.APPROVED,
        Stage.PRODUCTION,
    ]
    assert journal(ctx, alice) == before
    assert audit.verify(ctx, alice).ok
    # And the same promotion succeeds afterwards, continuing the chain.
    result = lifecycle.transition(ctx, alice, "credit", v2, "production", "go")
    assert [d.version for d in result.displaced] == [1]
    assert result.displaced[0].audit_seq == before[-1].seq + 1


def test_models_allowing_several_production_versions_keep_them(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "ranker", allow_multiple_production=True)
    v1 = new_version(ctx, alice, "ranker", make_file)
    v2 = new_version(ctx, alice, "ranker", make_file)
    v3 = new_version(ctx, alice, "ranker", make_file)
    move(ctx, alice, "ranker", v1, *PATH_TO["production"])
    result = move(ctx, alice, "ranker", v2, *PATH_TO["production"])
    assert result.displaced == []
    assert stage_of(ctx, alice, "ranker", v1) is Stage.PRODUCTION
    page = versions.list_versions(ctx, alice, "ranker", stage="production")
    assert sorted(v.version for v in page.items) == [1, 2]

    # Switching the option off: the next promotion displaces every other one.
    models.update_model(ctx, alice, "ranker", allow_multiple_production=False)
    result = move(ctx, alice, "ranker", v3, *PATH_TO["production"])
    assert [(d.version, d.to_stage, d.caused_by) for d in result.displaced] == [
        (1, Stage.DEPRECATED, "ranker/3"),
        (2, Stage.DEPRECATED, "ranker/3"),
    ]
    page = versions.list_versions(ctx, alice, "ranker", stage="production")
    assert [v.version for v in page.items] == [3]


def test_returning_from_review_displaces_the_version_promoted_meanwhile(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "credit")
    v1 = new_version(ctx, alice, "credit", make_file)
    v2 = new_version(ctx, alice, "credit", make_file)
    move(ctx, alice, "credit", v1, *PATH_TO["under_review"])
    # A version under review is not in production: promoting another displaces nothing.
    promoted = move(ctx, alice, "credit", v2, *PATH_TO["production"])
    assert promoted.displaced == []
    assert stage_of(ctx, alice, "credit", v1) is Stage.UNDER_REVIEW

    back = lifecycle.transition(ctx, alice, "credit", v1, "production", "Review closed: fine")
    assert back.transition.from_stage is Stage.UNDER_REVIEW
    assert [(d.version, d.from_stage, d.to_stage, d.caused_by) for d in back.displaced] == [
        (2, Stage.PRODUCTION, Stage.DEPRECATED, "credit/1")
    ]
    assert stage_of(ctx, alice, "credit", v2) is Stage.DEPRECATED
    assert stage_of(ctx, alice, "credit", v1) is Stage.PRODUCTION


def test_promotion_never_touches_other_models(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "credit")
    models.create_model(ctx, alice, "credit-v2")
    a = new_version(ctx, alice, "credit", make_file)
    b = new_version(ctx, alice, "credit-v2", make_file)
    move(ctx, alice, "credit", a, *PATH_TO["production"])
    result = move(ctx, alice, "credit-v2", b, *PATH_TO["production"])
    assert result.displaced == []
    assert stage_of(ctx, alice, "credit", a) is Stage.PRODUCTION
