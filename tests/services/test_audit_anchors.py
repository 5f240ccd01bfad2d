"""A head recorded outside the database catches what the chain alone cannot:
deleting the newest events, or rewriting the tail with recomputed hashes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.attacker import rebuild_tree
from tests.conftest import LiveServer
from typer.testing import CliRunner

from steward.cli.main import app
from steward.domain import audit as chain
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Principal
from steward.sdk.client import Steward
from steward.services import audit, models
from steward.services.context import Context
from steward.trust import auditkey


def _journal(ctx: Context, alice: Principal, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        models.create_model(ctx, alice, f"model-{n}")


def _anchor(ctx: Context, alice: Principal) -> str:
    head = audit.verify(ctx, alice)
    assert head.ok
    return f"{head.head_seq}:{head.head_hash}"


def test_matching_anchors_keep_the_chain_intact(ctx: Context, alice: Principal) -> None:
    _journal(ctx, alice, 3)
    first = _anchor(ctx, alice)
    _journal(ctx, alice, 2, start=3)
    result = audit.verify(ctx, alice, anchors=[first, _anchor(ctx, alice)])
    assert result.ok and result.head_seq == 5


def test_deleting_the_newest_events_is_caught_by_an_anchor(ctx: Context, alice: Principal) -> None:
    _journal(ctx, alice, 5)
    recorded = _anchor(ctx, alice)
    with ctx.uow.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq > 3"))
        rebuild_tree(conn)  # an attacker who knows about the Merkle tree trims it too
    assert audit.verify(ctx, alice).ok  # what is left is a valid chain...
    result = audit.verify(ctx, alice, anchors=[recorded])
    assert not result.ok  # ...but not the one that was recorded
    assert (result.kind, result.broken_seq) == (chain.Tampering.REMOVED, 4)
    assert "the newest events were removed" in result.detail


def test_a_rewritten_tail_is_caught_by_an_anchor(ctx: Context, alice: Principal) -> None:
    _journal(ctx, alice, 4)
    recorded = _anchor(ctx, alice)
    # Rewrite event 4 with a new actor and a recomputed, valid hash.
    with ctx.uow.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM audit_events WHERE seq = 4")).mappings().one()
        forged = chain.seal(
            seq=4,
            time=row["time"],
            actor="mallory",
            action=row["action"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            payload={"after": {}},
            prev_hash=row["prev_hash"],
        )
        conn.execute(
            text("UPDATE audit_events SET actor = :a, payload = :p, hash = :h WHERE seq = 4"),
            {"a": forged.actor, "p": forged.payload, "h": forged.hash},
        )
        rebuild_tree(conn)
    # Without the key file the rewrite is caught on its own: its MAC no longer matches.
    alone = audit.verify(ctx, alice)
    assert (alone.ok, alone.kind, alone.broken_seq) == (False, chain.Tampering.FORGED, 4)
    # Someone who also stole the key re-authenticates the event: only the anchor still tells.
    ring = auditkey.load(ctx.settings.audit_key_path)
    assert ring is not None
    with ctx.uow.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET mac = :m WHERE seq = 4"), {"m": ring.mac(forged.hash)}
        )
    assert audit.verify(ctx, alice).ok
    result = audit.verify(ctx, alice, anchors=[recorded])
    assert (result.ok, result.kind, result.broken_seq) == (False, chain.Tampering.ALTERED, 4)


@pytest.mark.parametrize("bad", ["12", "x:abc", "3:" + "g" * 64, "3:" + "a" * 63])
def test_malformed_anchors_are_refused(ctx: Context, alice: Principal, bad: str) -> None:
    with pytest.raises(InvalidInput, match="use SEQ:HASH"):
        audit.verify(ctx, alice, anchors=[bad])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_anchors_over_sdk_api_and_cli(
    ctx: Context,
    alice: Principal,
    client: Steward,
    live_server: LiveServer,
    token: str,
    tmp_path: Path,
    make_file: Callable[[bytes, str], Path],
) -> None:
    client.create_model("credit")
    head = client.verify_audit()
    good = f"{head.head_seq}:{head.head_hash}"
    wrong = f"{head.head_seq}:{'0' * 64}"
    assert client.verify_audit(anchors=[good]).ok
    assert client.verify_audit(anchors=[wrong]).broken_seq == head.head_seq

    response = httpx.get(
        f"{live_server.url}/api/v1/audit/verify",
        params={"anchor": [good, wrong]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,  # verify under a loaded CI machine can take longer than httpx's 5 s
    )
    assert response.status_code == 200
    assert response.json()["ok"] is False

    home = Path(ctx.settings.home)
    runner = CliRunner()
    ok = runner.invoke(app, ["--home", str(home), "audit", "verify", "--anchor", good])
    assert ok.exit_code == 0, ok.output
    broken = runner.invoke(app, ["--home", str(home), "audit", "verify", "--anchor", wrong])
    assert broken.exit_code == 1
    assert f"broken at event {head.head_seq}" in " ".join(broken.stderr.split())
