"""Signed checkpoints: created, published (folder and S3), proven against, scheduled."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import text

from steward import bootstrap
from steward.domain import checkpoint as cp
from steward.domain import merkle
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.permissions import Principal
from steward.services import audit, models, transparency
from steward.services.context import Context
from steward.settings import Settings
from steward.trust import log_key

AUDITOR = Principal("ada", roles=frozenset({"auditor"}))
OWNER = Principal("olive", roles=frozenset({"owner"}))


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return tmp_path / "published"


@pytest.fixture
def tctx(settings: Settings, published: Path) -> Iterator[Context]:
    ctx = bootstrap.build(
        replace(settings, checkpoint_publish=(str(published),), checkpoint_every_events=3),
        migrate=True,
    )
    yield ctx
    ctx.uow.engine.dispose()


def _events(ctx: Context, who: Principal, n: int, name: str = "m") -> None:
    for i in range(n):
        models.create_model(ctx, who, f"{name}{i}", purpose="p")


def test_checkpoint_is_a_c2sp_signed_note_over_the_journal(
    tctx: Context, alice: Principal, published: Path
) -> None:
    _events(tctx, alice, 5)
    made = transparency.create_checkpoint(tctx, AUDITOR)
    assert made.tree_size == 5 and made.published_to == (str(published),)
    assert made.publish_error is None
    lines = made.note.split("\n")
    assert lines[0] == "steward.local/audit" and lines[1] == "5" and lines[3] == ""
    assert base64.b64decode(lines[2]).hex() == made.root_hash
    # the signature line: em dash, key name, base64(key id || Ed25519 signature)
    assert lines[4].startswith("\u2014 steward.local/audit ")
    raw = base64.b64decode(lines[4].rsplit(" ", 1)[1])
    key = log_key.load_or_create(tctx.settings.log_key_path, "steward.local/audit")
    expected_id = hashlib.sha256(b"steward.local/audit\n\x01" + key.public_bytes).digest()[:4]
    assert raw[:4] == expected_id
    ed25519.Ed25519PublicKey.from_public_bytes(key.public_bytes).verify(
        raw[4:], "\n".join(lines[:3]).encode() + b"\n"
    )
    # the root is the RFC 9162 tree of the events' canonical messages
    events = audit.list_events(tctx, alice, AuditFilter(), 100)
    leaves = [merkle.leaf_hash(transparency._message(e)) for e in events[:5]]
    assert merkle.root(merkle.MemoryNodes(leaves), 5).hex() == made.root_hash
    # the checkpoint is journalled as the next event, which it does not cover
    assert events[5].action == Action.AUDIT_CHECKPOINTED.value
    assert events[5].payload_dict()["tree_size"] == 5
    # published: immutable per-size file, latest, and the verifier key
    assert (published / "checkpoints" / "5").read_text() == made.note
    assert (published / "checkpoint").read_text() == made.note
    vkey = (published / "log-key.vkey").read_text().strip()
    assert cp.parse_verifier_key(vkey) == ("steward.local/audit", key.public_bytes)
    assert transparency.verifier_key(tctx, AUDITOR) == vkey


def test_only_auditors_and_admins_checkpoint(tctx: Context, alice: Principal) -> None:
    _events(tctx, alice, 1)
    with pytest.raises(Forbidden):
        transparency.create_checkpoint(tctx, OWNER)
    transparency.list_checkpoints(tctx, AUDITOR)


def test_inclusion_proofs_for_every_event_and_consistency_between_checkpoints(
    tctx: Context, alice: Principal
) -> None:
    _events(tctx, alice, 4)
    first = transparency.create_checkpoint(tctx, AUDITOR)
    _events(tctx, alice, 6, "n")
    second = transparency.create_checkpoint(tctx, AUDITOR)
    assert second.tree_size == 11
    for seq in range(1, 12):
        proof = transparency.inclusion_proof(tctx, AUDITOR, seq)
        assert proof.checkpoint_id == second.id
        assert merkle.verify_inclusion(
            proof.leaf_index,
            proof.tree_size,
            bytes.fromhex(proof.leaf_hash),
            [bytes.fromhex(p) for p in proof.proof],
            bytes.fromhex(second.root_hash),
        )
    old = transparency.inclusion_proof(tctx, AUDITOR, 2, first.id)
    assert old.tree_size == 4
    with pytest.raises(InvalidInput, match="not covered by checkpoint"):
        transparency.inclusion_proof(tctx, AUDITOR, 5, first.id)
    with pytest.raises(NotFound):
        transparency.inclusion_proof(tctx, AUDITOR, 1, 999)
    consistency = transparency.consistency_proof(tctx, AUDITOR, first.id, second.id)
    assert merkle.verify_consistency(
        4,
        11,
        bytes.fromhex(first.root_hash),
        bytes.fromhex(second.root_hash),
        [bytes.fromhex(p) for p in consistency.proof],
    )
    with pytest.raises(InvalidInput, match="older checkpoint first"):
        transparency.consistency_proof(tctx, AUDITOR, second.id, first.id)
    assert [c.id for c in transparency.list_checkpoints(tctx, AUDITOR)] == [second.id, first.id]
    assert audit.verify(tctx, AUDITOR).ok


def test_failed_publication_is_recorded_and_retried(
    tctx: Context, alice: Principal, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    _events(tctx, alice, 2)
    made = transparency.create_checkpoint(tctx, AUDITOR, publish_to=[str(blocker / "x")])
    assert made.publish_error and "Cannot publish" in made.publish_error
    assert made.published_to == ()
    stored = transparency.get_checkpoint(tctx, AUDITOR, made.id)
    assert stored.publish_error == made.publish_error and stored.publish_attempts == 1
    # the retry publishes to the configured destinations and clears the error
    retried = transparency.retry_publication(tctx, AUDITOR)
    assert [r.id for r in retried] == [made.id] and retried[0].publish_error is None
    assert transparency.get_checkpoint(tctx, AUDITOR, made.id).publish_attempts == 2
    assert transparency.retry_publication(tctx, AUDITOR) == []


def test_due_after_n_events_or_t_minutes_and_never_for_its_own_event(
    tctx: Context, alice: Principal
) -> None:
    assert not transparency.checkpoint_due(tctx)  # empty journal
    _events(tctx, alice, 1)
    assert transparency.checkpoint_due(tctx)  # the first checkpoint
    assert transparency.tick(tctx, alice) is not None
    assert not transparency.checkpoint_due(tctx)  # only its own event since
    _events(tctx, alice, 2, "n")
    assert not transparency.checkpoint_due(tctx)  # 2 < every_events (3), and recent
    with tctx.uow.engine.begin() as conn:  # an hour passes
        conn.execute(text("UPDATE audit_checkpoints SET created_at = '2000-01-01 00:00:00'"))
    assert transparency.checkpoint_due(tctx)
    made = transparency.tick(tctx, alice)
    assert made is not None and made.tree_size == 4
    _events(tctx, alice, 3, "o")
    assert transparency.checkpoint_due(tctx)  # 3 new events


def test_publish_to_s3_through_the_moto_server(
    tctx: Context, alice: Principal, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("STEWARD_S3_ENDPOINT_URL", s3_server)
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    bucket = f"tlog-{uuid.uuid4().hex[:12]}"  # the moto server outlives one test
    s3.create_bucket(Bucket=bucket)
    _events(tctx, alice, 3)
    made = transparency.create_checkpoint(tctx, AUDITOR, publish_to=[f"s3://{bucket}/steward"])
    assert made.publish_error is None, made.publish_error
    body = s3.get_object(Bucket=bucket, Key="steward/checkpoints/3")["Body"].read().decode()
    assert body == made.note
    # a different tree head of the same size is refused, never overwritten
    from steward.trust import checkpoint_store

    with pytest.raises(checkpoint_store.PublishError, match="split view"):
        checkpoint_store.publish(f"s3://{bucket}/steward", 3, made.note + "x", "k")
    assert checkpoint_store.read_published(f"s3://{bucket}/steward") == [
        (f"{bucket}/steward/checkpoints/3", made.note)
    ]


MakeFile = Callable[[bytes, str], Path]
