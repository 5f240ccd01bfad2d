"""Checkpoints and proofs through the SDK, embedded and over HTTP (the REST routes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from tests.attacker import rebuild_tree

from steward.domain.audit import Tampering
from steward.domain.errors import InvalidInput, NotFound
from steward.sdk.client import Steward
from steward.services.context import Context


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_checkpoint_prove_consistency_and_verify(
    client: Steward, ctx: Context, tmp_path: Path
) -> None:
    client.create_model("credit", purpose="p")
    first = client.create_checkpoint()
    assert first.tree_size >= 1 and first.published_to and first.publish_error is None
    client.create_model("churn", purpose="p")
    second = client.create_checkpoint()
    assert [c.id for c in client.checkpoints()] == [second.id, first.id]
    for seq in range(1, second.tree_size + 1):
        proof = client.prove_inclusion(seq)
        assert proof.checkpoint_id == second.id and proof.verify()
    assert client.prove_inclusion(1, checkpoint=first.id).tree_size == first.tree_size
    with pytest.raises(InvalidInput, match="not covered"):
        client.prove_inclusion(second.tree_size + 1)
    with pytest.raises(NotFound):
        client.prove_consistency(first.id, 999)
    consistency = client.prove_consistency(first.id, second.id)
    assert consistency.verify()
    assert client.verify_audit().ok
    # A kept copy of the checkpoint catches a truncation the database no longer shows.
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(second.note)
    with ctx.uow.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
        conn.execute(text(f"DELETE FROM audit_events WHERE seq > {second.tree_size - 1}"))
        rebuild_tree(conn)
    for path in (ctx.settings.home / "checkpoints" / "checkpoints").iterdir():
        path.unlink()
    assert client.verify_audit().ok
    result = client.verify_audit(checkpoints=[kept])
    assert (result.ok, result.kind) == (False, Tampering.TRUNCATED)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_remote_caller_cannot_choose_where_the_server_publishes(remote: Steward) -> None:
    with pytest.raises(InvalidInput, match="configured"):
        remote.create_checkpoint(publish_to=["/etc"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreadable_checkpoint_file_is_a_clear_error(client: Steward, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Cannot read the checkpoint file"):
        client.verify_audit(checkpoints=[tmp_path / "missing"])
