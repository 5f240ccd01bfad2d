"""Many writers at once: the journal stays one unbroken chain and the registry stays consistent.

Sixteen threads create models, log versions, move aliases and transition
versions at the same time, with barriers so that the interesting steps
(promoting different versions of one model, moving one version twice,
creating one name twice) really overlap.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from steward.domain.audit import AuditFilter
from steward.domain.errors import AlreadyExists, IllegalTransition
from steward.domain.lifecycle import Stage
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import audit, lifecycle, models, versions
from steward.services.context import Context

THREADS = 16
MakeFile = Callable[[bytes, str], Path]


@dataclass
class Outcome:
    """What one thread did: every successful mutation and the races it won."""

    events: int = 0
    won_contested: bool = False
    won_dup: bool = False
    race_version: int = 0
    displaced: list[int] = field(default_factory=list)


def test_concurrent_writers_keep_the_chain_and_the_registry_consistent(
    ctx: Context, make_file: MakeFile
) -> None:
    setup = Principal(name="setup", roles=frozenset({OPERATOR}))
    for name in ("shared", "race", "dup"):
        models.create_model(ctx, setup, name)
    versions.create_version(ctx, setup, "dup", VersionSpec(), make_file(b"dup", "m.bin"))
    setup_events = audit.verify(ctx, setup).checked
    assert setup_events == 4

    barrier = threading.Barrier(THREADS, timeout=30)

    def log(who: Principal, model: str, tag: str) -> int:
        path = make_file(f"{model}:{who.name}:{tag}".encode(), "m.bin")
        return versions.create_version(ctx, who, model, VersionSpec(), path).version

    def worker(i: int) -> Outcome:
        who = Principal(name=f"user-{i}", roles=frozenset({OPERATOR}))
        out = Outcome()
        barrier.wait()
        models.create_model(ctx, who, f"team-{i}", team=f"t{i}")
        out.events += 1
        try:
            models.create_model(ctx, who, "contested")
            out.events += 1
            out.won_contested = True
        except AlreadyExists:
            pass
        own = [log(who, f"team-{i}", "a"), log(who, f"team-{i}", "b")]
        out.events += 2
        mine = log(who, "shared", "s")
        out.events += 1
        versions.set_alias(ctx, who, "shared", f"pick-{i}", mine)
        versions.set_alias(ctx, who, "shared", "latest-pick", mine)
        out.events += 2
        lifecycle.transition(ctx, who, f"team-{i}", own[0], "validation", "tests pass")
        out.events += 1
        out.race_version = log(who, "race", "r")
        out.events += 1
        for stage in ("validation", "approved"):
            lifecycle.transition(ctx, who, "race", out.race_version, stage, "ok")
            out.events += 1

        barrier.wait()  # everyone promotes a different version of "race" at once
        result = lifecycle.transition(ctx, who, "race", out.race_version, "production", "mine")
        out.displaced = [d.version for d in result.displaced]
        out.events += 1 + len(result.displaced)

        barrier.wait()  # everyone moves the same version of "dup" at once
        try:
            lifecycle.transition(ctx, who, "dup", 1, "validation", f"{who.name} was first")
            out.events += 1
            out.won_dup = True
        except IllegalTransition:
            pass
        return out

    def run(i: int) -> Outcome:
        try:
            return worker(i)
        except BaseException:
            barrier.abort()  # release the others at once instead of waiting for the timeout
            raise

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(run, range(THREADS)))

    reader = Principal(name="auditor", roles=frozenset({OPERATOR}))
    expected_events = setup_events + sum(o.events for o in outcomes)

    # The chain: intact, contiguous, one event per successful mutation.
    result = audit.verify(ctx, reader)
    assert result.ok, result.detail
    assert result.checked == expected_events
    with ctx.uow.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_events ORDER BY seq"))]
        numbers = conn.execute(
            text(
                "SELECT m.name, v.version, v.stage FROM model_versions v "
                "JOIN models m ON m.id = v.model_id ORDER BY m.name, v.version"
            )
        ).all()
        latest: dict[str, int] = {
            name: int(n)
            for name, n in conn.execute(text("SELECT name, latest_version FROM models"))
        }
    assert seqs == list(range(1, expected_events + 1))
    events = audit.list_events(ctx, reader, AuditFilter(), 10_000)
    assert len(events) == expected_events
    times = [e.time for e in events]
    assert times == sorted(times)  # journal time never goes backwards

    # Version numbers: 1..k per model, no gaps, no duplicates.
    per_model: dict[str, list[int]] = {}
    for name, number, _stage in numbers:
        per_model.setdefault(name, []).append(number)
    assert per_model["shared"] == list(range(1, THREADS + 1))
    assert per_model["race"] == list(range(1, THREADS + 1))
    assert per_model["dup"] == [1]
    for i in range(THREADS):
        assert per_model[f"team-{i}"] == [1, 2]
    assert all(latest[name] == len(found) for name, found in per_model.items())

    # One winner where only one can win.
    assert sum(o.won_contested for o in outcomes) == 1
    assert sum(o.won_dup for o in outcomes) == 1
    dup_moves = lifecycle.transitions(ctx, reader, "dup", 1)
    assert [(t.from_stage, t.to_stage) for t in dup_moves] == [
        (Stage.DEVELOPMENT, Stage.VALIDATION)
    ]

    # Promotions raced, yet at most one version of any model is in production.
    production = Counter(name for name, _n, stage in numbers if stage == "production")
    assert production == {"race": 1}
    race_stages = Counter(stage for name, _n, stage in numbers if name == "race")
    assert race_stages == {"production": 1, "deprecated": THREADS - 1}
    displaced = [v for o in outcomes for v in o.displaced]
    assert sorted(displaced) == sorted(
        n for name, n, stage in numbers if name == "race" and stage == "deprecated"
    )
    live = next(n for name, n, stage in numbers if name == "race" and stage == "production")
    assert live not in displaced
    for number in displaced:
        last = lifecycle.transitions(ctx, reader, "race", number)[-1]
        assert (last.from_stage, last.to_stage) == (Stage.PRODUCTION, Stage.DEPRECATED)
        assert last.caused_by is not None and last.caused_by.startswith("race/")

    # The alias everyone moved: each journalled move starts where the previous one ended.
    moves = [e.payload_dict() for e in events if e.subject_id == "shared/latest-pick"]
    assert len(moves) == THREADS
    assert [m["before"] for m in moves] == [None] + [m["after"] for m in moves[:-1]]
    assert versions.list_aliases(ctx, reader, "shared")["latest-pick"] == moves[-1]["after"]
