""" "What was in production, and what held each alias, at time T" — replayed from the journal."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.conftest import Clock

from steward import bootstrap
from steward.domain.entities import HistoryEntry
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import lifecycle, models, versions
from steward.services.context import Context
from steward.settings import Settings

MakeFile = Callable[[bytes, str], Path]
START = datetime(2026, 1, 1, tzinfo=UTC)
D, V, A, P, U, X = (
    Stage.DEVELOPMENT,
    Stage.VALIDATION,
    Stage.APPROVED,
    Stage.PRODUCTION,
    Stage.UNDER_REVIEW,
    Stage.DEPRECATED,
)
_artifacts = itertools.count(1)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


@dataclass
class Registry:
    """Terse steps for the story below."""

    ctx: Context
    who: Principal
    make_file: MakeFile

    def model(self, name: str) -> None:
        models.create_model(self.ctx, self.who, name)

    def version(self, model: str) -> int:
        path = self.make_file(f"{model} #{next(_artifacts)}".encode(), "m.bin")
        return versions.create_version(self.ctx, self.who, model, VersionSpec(), path).version

    def move(self, model: str, version: int, *stages: str) -> datetime:
        at = START
        for stage in stages:
            at = lifecycle.transition(
                self.ctx, self.who, model, version, stage, f"to {stage}"
            ).transition.at
        return at

    def promote(self, model: str, version: int) -> datetime:
        return self.move(model, version, "validation", "approved", "production")

    def history(self, at: datetime, model: str | None = None) -> list[HistoryEntry]:
        return lifecycle.history(self.ctx, self.who, at=at, model=model)


@pytest.fixture
def reg(timed: Context, alice: Principal, make_file: MakeFile) -> Registry:
    return Registry(timed, alice, make_file)


def entry(
    model: str,
    at: datetime,
    production: list[int],
    aliases: dict[str, int],
    stages: dict[int, Stage],
) -> HistoryEntry:
    return HistoryEntry(model, at, production, aliases, stages)


def test_history_replays_promotions_and_alias_moves(reg: Registry, clock: Clock) -> None:
    before_anything = clock.now

    clock.advance(days=1)  # day 1: credit v1 goes live as champion
    reg.model("credit")
    reg.version("credit")
    reg.version("credit")
    reg.promote("credit", 1)
    versions.set_alias(reg.ctx, reg.who, "credit", "champion", 1)
    day1 = clock.now

    clock.advance(days=1)  # day 2: v2 replaces v1; the alias follows an hour later
    promoted_v2 = reg.promote("credit", 2)
    mid_day2 = clock.now
    clock.advance(hours=1)
    versions.set_alias(reg.ctx, reg.who, "credit", "champion", 2)
    versions.set_alias(reg.ctx, reg.who, "credit", "challenger", 1)
    reg.model("fraud")
    reg.version("fraud")
    reg.promote("fraud", 1)
    versions.set_alias(reg.ctx, reg.who, "fraud", "champion", 1)
    day2 = clock.now

    clock.advance(days=1)  # day 3: challenger removed; fraud v1 goes under review
    versions.delete_alias(reg.ctx, reg.who, "credit", "challenger")
    reg.move("fraud", 1, "under_review")
    day3 = clock.now
    clock.advance(days=30)
    later = clock.now

    assert reg.history(before_anything) == []
    assert reg.history(before_anything, "credit") == []
    assert reg.history(day1) == [entry("credit", day1, [1], {"champion": 1}, {1: P, 2: D})]
    # v2 is live but the alias still names v1: the alias answers what it held, not what is live.
    assert reg.history(mid_day2, "credit") == [
        entry("credit", mid_day2, [2], {"champion": 1}, {1: X, 2: P})
    ]
    assert reg.history(day2) == [
        entry("credit", day2, [2], {"challenger": 1, "champion": 2}, {1: X, 2: P}),
        entry("fraud", day2, [1], {"champion": 1}, {1: P}),
    ]
    assert reg.history(day3) == [
        entry("credit", day3, [2], {"champion": 2}, {1: X, 2: P}),
        entry("fraud", day3, [], {"champion": 1}, {1: U}),
    ]
    assert reg.history(later, "fraud") == [entry("fraud", later, [], {"champion": 1}, {1: U})]
    # The exact moment of the promotion includes it; a microsecond before does not.
    assert reg.history(promoted_v2, "credit")[0].production == [2]
    assert reg.history(promoted_v2 - timedelta(microseconds=1), "credit")[0].production == [1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_history_in_other_zones_means_the_same_instant(reg: Registry, clock: Clock) -> None:
    reg.model("credit")
    reg.version("credit")
    live = reg.promote("credit", 1)
    new_york = timezone(timedelta(hours=-5))
    just_before = (live - timedelta(microseconds=1)).astimezone(new_york)
    assert reg.history(just_before, "credit")[0].stages == {1: A}
    assert reg.history(live.astimezone(new_york), "credit")[0].production == [1]


def test_history_for_one_model_ignores_similarly_named_models(reg: Registry, clock: Clock) -> None:
    # 'credit_v2' would match 'creditxv2' as a LIKE pattern; 'credit' must not see 'credit-v2'.
    for name in ("credit", "credit-v2", "credit_v2", "creditxv2"):
        reg.model(name)
        reg.version(name)
    reg.promote("credit-v2", 1)
    reg.promote("creditxv2", 1)
    now = clock.advance(minutes=1)
    assert reg.history(now, "credit") == [entry("credit", now, [], {}, {1: D})]
    assert reg.history(now, "credit_v2") == [entry("credit_v2", now, [], {}, {1: D})]
    assert [(e.model, e.production) for e in reg.history(now)] == [
        ("credit", []),
        ("credit-v2", [1]),
        ("credit_v2", []),
        ("creditxv2", [1]),
    ]


def test_history_is_read_from_the_journal_not_from_current_tables(
    reg: Registry, clock: Clock
) -> None:
    reg.model("credit")
    reg.version("credit")
    reg.version("credit")
    reg.promote("credit", 1)
    versions.set_alias(reg.ctx, reg.who, "credit", "champion", 1)
    day1 = clock.advance(days=1)
    reg.promote("credit", 2)
    versions.set_alias(reg.ctx, reg.who, "credit", "champion", 2)
    reg.move("credit", 1, "retired")
    versions.delete_alias(reg.ctx, reg.who, "credit", "champion")
    # Today nothing points at v1 and it is retired; yesterday it was the live champion.
    assert versions.list_aliases(reg.ctx, reg.who, "credit") == {}
    assert reg.history(day1, "credit") == [
        entry("credit", day1, [1], {"champion": 1}, {1: P, 2: D})
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_time_without_zone_is_refused(reg: Registry) -> None:
    with pytest.raises(InvalidInput) as caught:
        reg.history(datetime(2026, 3, 1, 12, 0))
    assert caught.value.extra == {"field": "at"}
    assert "must include a zone" in caught.value.detail


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_history_of_an_unknown_model_is_not_found(reg: Registry, clock: Clock) -> None:
    with pytest.raises(NotFound, match="'ghost' does not exist"):
        reg.history(clock.now, "ghost")
