"""An attacker with write access to the database, against signed checkpoints.

Each attack is complete: the attacker also recomputes the hash chain and the Merkle
tree (tests/attacker.py), so the journal is self-consistent and only a signed tree head
kept outside their reach (a published checkpoint, the log key) can tell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import text
from tests.attacker import rebuild_tree, rechain

from steward import bootstrap
from steward.domain import checkpoint as cp
from steward.domain.audit import Tampering
from steward.domain.permissions import Principal
from steward.services import audit, models, transparency
from steward.services.context import Context
from steward.settings import Settings
from steward.trust.log_key import LogKey

AUDITOR = Principal("ada", roles=frozenset({"auditor"}))


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return tmp_path / "published"


@pytest.fixture
def tctx(settings: Settings, published: Path) -> Iterator[Context]:
    ctx = bootstrap.build(replace(settings, checkpoint_publish=(str(published),)), migrate=True)
    yield ctx
    ctx.uow.engine.dispose()


def _journal(ctx: Context, who: Principal, n: int, prefix: str = "m") -> None:
    for i in range(n):
        models.create_model(ctx, who, f"{prefix}{i}", purpose="p")


def _attack(ctx: Context, *statements: str) -> None:
    with ctx.uow.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        rechain(conn)
        rebuild_tree(conn)


def _checked(ctx: Context, kind: Tampering, broken: int | None = None) -> str:
    result = audit.verify(ctx, AUDITOR)
    assert not result.ok and result.kind == kind, result
    if broken is not None:
        assert result.broken_seq == broken
    return result.detail


@pytest.mark.parametrize("removed", [1, 10])
def test_truncating_the_newest_events_after_a_checkpoint(
    tctx: Context, alice: Principal, removed: int
) -> None:
    _journal(tctx, alice, 12)
    made = transparency.create_checkpoint(tctx, AUDITOR)  # covers 12, its event is 13
    assert audit.verify(tctx, AUDITOR).ok
    _attack(tctx, f"DELETE FROM audit_events WHERE seq > {13 - removed}")
    if removed == 1:
        # Only the checkpoint's own event is gone: the checkpoint still matches.
        assert audit.verify(tctx, AUDITOR).ok
        return
    detail = _checked(tctx, Tampering.TRUNCATED, 13 - removed + 1)
    assert f"covers {made.tree_size} events" in detail


def test_truncating_one_covered_event(tctx: Context, alice: Principal) -> None:
    _journal(tctx, alice, 5)
    transparency.create_checkpoint(tctx, AUDITOR)  # covers 1-5
    _attack(tctx, "DELETE FROM audit_events WHERE seq > 4")
    _checked(tctx, Tampering.TRUNCATED, 5)


def test_rewriting_the_whole_chain_after_an_edit(tctx: Context, alice: Principal) -> None:
    _journal(tctx, alice, 6)
    transparency.create_checkpoint(tctx, AUDITOR)
    _journal(tctx, alice, 3, "n")
    transparency.create_checkpoint(tctx, AUDITOR)
    _attack(tctx, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 8")
    detail = _checked(tctx, Tampering.REWRITTEN, 7)  # after the first checkpoint (1-6)
    assert "rewritten" in detail


def test_replacing_the_checkpoint_table_is_caught_by_the_published_copy(
    tctx: Context, alice: Principal
) -> None:
    _journal(tctx, alice, 6)
    transparency.create_checkpoint(tctx, AUDITOR)
    _attack(
        tctx,
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_checkpoints",
    )
    detail = _checked(tctx, Tampering.REWRITTEN, 1)
    assert "checkpoints/6" in detail


def test_a_checkpoint_file_given_by_the_auditor(
    tctx: Context, alice: Principal, published: Path, tmp_path: Path
) -> None:
    _journal(tctx, alice, 6)
    transparency.create_checkpoint(tctx, AUDITOR)
    kept = (published / "checkpoint").read_text()
    # The attacker also wipes the publication folder: the auditor's own copy remains.
    _attack(tctx, "DELETE FROM audit_events WHERE seq > 3", "DELETE FROM audit_checkpoints")
    for path in (published / "checkpoints").iterdir():
        path.unlink()
    assert audit.verify(tctx, AUDITOR).ok
    result = audit.verify(tctx, AUDITOR, checkpoints=[("auditor.checkpoint", kept)])
    assert (result.ok, result.kind, result.broken_seq) == (False, Tampering.TRUNCATED, 4)
    assert "auditor.checkpoint" in result.detail


def test_a_checkpoint_signed_with_another_key_is_forged(tctx: Context, alice: Principal) -> None:
    _journal(tctx, alice, 4)
    made = transparency.create_checkpoint(tctx, AUDITOR)
    # The attacker truncates the journal and signs a matching head with their own key.
    _attack(tctx, "DELETE FROM audit_events WHERE seq > 2")
    with tctx.uow.read() as uow:
        root = uow.audit_tree.root(2)
    mallory = LogKey("steward.local/audit", ed25519.Ed25519PrivateKey.generate())
    note = mallory.sign(cp.Checkpoint("steward.local/audit", 2, root))
    with tctx.uow.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_checkpoints SET tree_size = 2, root_hash = :r, note = :n "
                "WHERE id = :i"
            ),
            {"r": root.hex(), "n": note, "i": made.id},
        )
    detail = _checked(tctx, Tampering.FORGED)
    assert f"checkpoint {made.id} was forged" in detail
    # The same note given as a file is forged too.
    with tctx.uow.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_checkpoints"))
    result = audit.verify(tctx, AUDITOR, checkpoints=[("mallory.txt", note)])
    assert result.kind == Tampering.FORGED and "mallory.txt" in result.detail


def test_two_roots_at_one_size_is_a_split_view(
    tctx: Context, alice: Principal, published: Path
) -> None:
    _journal(tctx, alice, 4)
    made = transparency.create_checkpoint(tctx, AUDITOR)
    # A second history of the same size, signed with the real key (e.g. shown to another
    # verifier by someone who holds it): the two tree heads cannot both be true.
    from steward.trust import log_key

    key = log_key.load_or_create(tctx.settings.log_key_path, "steward.local/audit")
    other = key.sign(cp.Checkpoint("steward.local/audit", 4, b"\x07" * 32))
    result = audit.verify(tctx, AUDITOR, checkpoints=[("verifier-b.txt", other)])
    assert (result.ok, result.kind) == (False, Tampering.SPLIT_VIEW)
    assert f"checkpoint {made.id}" in result.detail and "verifier-b.txt" in result.detail
    # ...and publishing the second head is refused instead of overwriting the first.
    from steward.trust import checkpoint_store

    with pytest.raises(checkpoint_store.PublishError, match="split view"):
        checkpoint_store.publish(str(published), 4, other, key.verifier_key)


def test_an_edit_without_recomputing_the_tree_is_caught_without_any_checkpoint(
    tctx: Context, alice: Principal
) -> None:
    _journal(tctx, alice, 5)
    with tctx.uow.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
        rechain(conn)
    _checked(tctx, Tampering.REWRITTEN, 3)
