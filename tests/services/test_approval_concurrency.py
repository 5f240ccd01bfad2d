"""Two validators approving the same request at the same moment: exactly one transition."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.conftest import ensure_user

from steward.domain.errors import Conflict
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import approvals, identity, lifecycle, models, policies, versions
from steward.services.context import Context

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
PACK = """\
pack: race
version: "{count}"
requirements:
  - id: approvals.entry
    kind: approvals
    roles: [validator]
    count: {count}
    to: [validation]
    controls: ["sr-26-2:SR26-2.independence"]
"""


def setup(ctx: Context, count: int, tmp_path: Any) -> None:
    policies.load_pack(ctx, ADMIN, PACK.format(count=count), activate=True)
    identity.create_team(ctx, ADMIN, "a")
    identity.create_team(ctx, ADMIN, "b")
    ensure_user(ctx, "dev", "owner")
    ensure_user(ctx, "val1", "validator", teams=("a",))
    ensure_user(ctx, "val2", "validator", teams=("b",))
    models.create_model(ctx, ADMIN, "m", owner="dev")


def race(ctx: Context, request_id: str) -> list[object]:
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def approve(slot: int, who: str) -> None:
        principal = identity.principal_for(ctx, who)
        barrier.wait()
        try:
            outcomes[slot] = approvals.approve(ctx, principal, request_id, "go")
        except Exception as exc:
            outcomes[slot] = exc

    threads = [threading.Thread(target=approve, args=(i, f"val{i + 1}")) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("database_url", ["postgres", "sqlite"], indirect=True)
@pytest.mark.parametrize("count", [1, 2])
def test_simultaneous_approvals_apply_the_move_exactly_once(
    ctx: Context, count: int, tmp_path: Any
) -> None:
    setup(ctx, count, tmp_path)
    dev = identity.principal_for(ctx, "dev")
    for round_ in range(5):
        path = tmp_path / f"w{round_}.bin"
        path.write_bytes(f"weights {round_}".encode())
        v = versions.create_version(ctx, dev, "m", VersionSpec(), path).version
        rid = approvals.request_transition(ctx, dev, "m", v, "validation", "race").request.id
        outcomes = race(ctx, rid)
        moves = lifecycle.transitions(ctx, dev, "m", v)
        assert [(t.from_stage.value, t.to_stage.value) for t in moves] == [
            ("development", "validation")
        ], outcomes
        applied = [o for o in outcomes if getattr(o, "applied", False)]
        assert len(applied) == 1, outcomes
        if count == 1:
            # the slower approver finds the request already applied
            assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
        else:
            assert all(not isinstance(o, Exception) for o in outcomes), outcomes
        final = approvals.get_request(ctx, dev, rid).request
        assert final.status.value == "applied"
