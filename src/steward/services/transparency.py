"""The journal as a transparency log: signed checkpoints, proofs, checks against them.

A checkpoint is a signed tree head (C2SP tlog-checkpoint) over the journal's first N
events; it is stored, journalled (``audit.checkpointed``, which is itself the next
event) and published outside the database (``STEWARD_CHECKPOINT_PUBLISH``). Once one is
published, deleting or rewriting any event it covers is detected by `steward audit
verify`, even if the attacker recomputes every hash in the database: they cannot sign
a new tree head without the log key, which lives outside the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from steward.domain import audit, merkle
from steward.domain import checkpoint as cp
from steward.domain.audit import Action, Tampering, Verification
from steward.domain.checkpoint import ConsistencyProof, InclusionProof, StoredCheckpoint
from steward.domain.errors import IntegrityError, InvalidInput, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context
from steward.store.uow import UnitOfWork
from steward.trust import checkpoint_store, log_key
from steward.trust.log_key import LogKey


def _key(ctx: Context) -> LogKey:
    return log_key.load_or_create(ctx.settings.log_key_path, ctx.settings.checkpoint_origin)


def verifier_key(ctx: Context, principal: Principal) -> str:
    """The signed-note verifier key auditors use to check published checkpoints."""
    ensure(principal, Permission.AUDIT_READ)
    return _key(ctx).verifier_key


# --- creating and publishing ---


def create_checkpoint(
    ctx: Context,
    principal: Principal,
    *,
    publish_to: Sequence[str] | None = None,
) -> StoredCheckpoint:
    """Sign the tree head over every event so far, store it, then publish it.

    The ``audit.checkpointed`` event is written in the same transaction, after the tree
    head is taken: a checkpoint covers the events before its own event.
    """
    ensure(principal, Permission.AUDIT_CHECKPOINT)
    key = _key(ctx)
    with ctx.uow.write() as uow:
        size = uow.audit_tree.size()
        root = uow.audit_tree.root(size)
        note = key.sign(cp.Checkpoint(key.name, size, root))
        stored = uow.audit_tree.add_checkpoint(
            tree_size=size, root_hash=root.hex(), note=note, at=uow.now, by=principal.name
        )
        uow.record(
            principal.name,
            Action.AUDIT_CHECKPOINTED,
            "checkpoint",
            str(stored.id),
            {
                "tree_size": size,
                "root_hash": root.hex(),
                "origin": key.name,
                # The signed note itself, so webhook subscribers to checkpoint.signed
                # receive (and can keep) exactly what the folder and s3:// copies hold.
                "checkpoint": note,
                "verifier_key": key.verifier_key,
            },
        )
        uow.commit()
    destinations = ctx.settings.checkpoint_destinations if publish_to is None else publish_to
    return _publish(ctx, stored, tuple(destinations), key.verifier_key)


def _publish(
    ctx: Context, stored: StoredCheckpoint, destinations: tuple[str, ...], vkey: str
) -> StoredCheckpoint:
    """Publish outside any transaction (network I/O); record where it went or why not."""
    done = list(stored.published_to)
    errors = []
    for destination in destinations:
        if destination in done:
            continue
        try:
            checkpoint_store.publish(destination, stored.tree_size, stored.note, vkey)
            done.append(destination)
        except checkpoint_store.PublishError as exc:
            errors.append(exc.detail)
    error = "; ".join(errors) or None
    with ctx.uow.write() as uow:
        uow.audit_tree.mark_published(stored.id, done, error)
        uow.commit()
    return replace(
        stored,
        published_to=tuple(done),
        publish_error=error,
        publish_attempts=stored.publish_attempts + 1,
    )


def retry_publication(ctx: Context, principal: Principal) -> list[StoredCheckpoint]:
    """Publish again every checkpoint whose last publication failed (the scheduler does)."""
    ensure(principal, Permission.AUDIT_CHECKPOINT)
    with ctx.uow.read() as uow:
        pending = uow.audit_tree.unpublished()
    vkey = _key(ctx).verifier_key
    return [_publish(ctx, c, ctx.settings.checkpoint_destinations, vkey) for c in pending]


def checkpoint_due(ctx: Context) -> bool:
    """After ``checkpoint_every_events`` new events, or ``checkpoint_every_minutes`` with any.

    The previous checkpoint's own ``audit.checkpointed`` event does not count as new,
    so an idle journal is not checkpointed again and again.
    """
    with ctx.uow.read() as uow:
        size = uow.audit_tree.size()
        last = uow.audit_tree.latest_checkpoint()
    if last is None:
        return size > 0
    new_events = size - last.tree_size - 1
    if new_events <= 0:
        return False
    if new_events >= ctx.settings.checkpoint_every_events:
        return True
    age = ctx.uow.clock() - last.created_at
    return age >= timedelta(minutes=ctx.settings.checkpoint_every_minutes)


def tick(ctx: Context, principal: Principal) -> StoredCheckpoint | None:
    """One scheduler step: retry failed publications, then checkpoint if due."""
    retry_publication(ctx, principal)
    if checkpoint_due(ctx):
        return create_checkpoint(ctx, principal)
    return None


def list_checkpoints(
    ctx: Context, principal: Principal, limit: int = 100
) -> list[StoredCheckpoint]:
    ensure(principal, Permission.AUDIT_READ)
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000.", field="limit")
    with ctx.uow.read() as uow:
        return uow.audit_tree.checkpoints(limit)


def get_checkpoint(
    ctx: Context, principal: Principal, checkpoint_id: int | None = None
) -> StoredCheckpoint:
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        return _checkpoint(uow, checkpoint_id)


def _checkpoint(uow: UnitOfWork, checkpoint_id: int | None) -> StoredCheckpoint:
    found = (
        uow.audit_tree.latest_checkpoint()
        if checkpoint_id is None
        else uow.audit_tree.checkpoint(checkpoint_id)
    )
    if found is None:
        if checkpoint_id is None:
            raise NotFound(
                "There is no checkpoint yet; create one with `steward audit checkpoint`."
            )
        raise NotFound(
            f"There is no checkpoint {checkpoint_id}; list them with "
            "`steward audit checkpoint --list`."
        )
    return found


# --- proofs ---


def inclusion_proof(
    ctx: Context, principal: Principal, seq: int, checkpoint_id: int | None = None
) -> InclusionProof:
    """Proof that event ``seq`` is in the tree a signed checkpoint commits to."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        found = _checkpoint(uow, checkpoint_id)
        if not 1 <= seq <= found.tree_size:
            raise InvalidInput(
                f"Event {seq} is not covered by checkpoint {found.id}, which covers events "
                f"1-{found.tree_size}: create a newer one with `steward audit checkpoint`.",
                field="seq",
            )
        events = uow.audit.search(audit.AuditFilter(after_seq=seq - 1), 1)
        if not events or events[0].seq != seq:
            raise NotFound(f"There is no event {seq} in the journal.")
        event = events[0]
        path = uow.audit_tree.inclusion_proof(seq - 1, found.tree_size)
    leaf = cp.journal_leaf(event.hash)
    return InclusionProof(
        seq=seq,
        leaf_index=cp.leaf_index(seq),
        leaf_hash=leaf.hex(),
        tree_size=found.tree_size,
        root_hash=found.root_hash,
        proof=tuple(p.hex() for p in path),
        checkpoint_id=found.id,
        checkpoint=found.note,
        event=event.to_export(),
    )


@dataclass(frozen=True)
class EventCheck:
    """Is one event provably in the log a signed checkpoint commits to (the web's answer)?"""

    seq: int
    included: bool | None  # None: no checkpoint covers the event yet
    checkpoint_id: int | None
    tree_size: int | None
    reason: str


def check_event(ctx: Context, principal: Principal, seq: int) -> EventCheck:
    """Prove event ``seq`` against the latest checkpoint and check both the proof's hashes
    and the checkpoint's signature by the log key."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        latest = uow.audit_tree.latest_checkpoint()
    if latest is None or seq > latest.tree_size:
        covered = (
            "no checkpoint yet" if latest is None else f"the latest covers 1-{latest.tree_size}"
        )
        return EventCheck(
            seq,
            None,
            None if latest is None else latest.id,
            None if latest is None else latest.tree_size,
            f"Event {seq} is not covered by a signed checkpoint yet ({covered}); it is "
            "covered once the next checkpoint is signed.",
        )
    proof = inclusion_proof(ctx, principal, seq, latest.id)
    key = _key(ctx)
    if not log_key.signature_valid(proof.checkpoint, key.name, key.public_bytes):
        return EventCheck(
            seq,
            False,
            latest.id,
            latest.tree_size,
            f"Checkpoint {latest.id} is not signed by this server's log key.",
        )
    if not proof.verify():
        return EventCheck(
            seq,
            False,
            latest.id,
            latest.tree_size,
            f"Event {seq} as stored is not the event checkpoint {latest.id} signed: it was "
            "changed after the checkpoint; run `steward audit verify` for the details.",
        )
    return EventCheck(
        seq,
        True,
        latest.id,
        latest.tree_size,
        f"Event {seq} is in the log signed by checkpoint {latest.id} "
        f"({latest.tree_size} events): {len(proof.proof)} hashes prove it.",
    )


def consistency_proof(
    ctx: Context, principal: Principal, old_id: int, new_id: int
) -> ConsistencyProof:
    """Proof that checkpoint ``new_id``'s tree extends checkpoint ``old_id``'s."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        old = _checkpoint(uow, old_id)
        new = _checkpoint(uow, new_id)
        if old.tree_size > new.tree_size:
            raise InvalidInput(
                f"Checkpoint {old_id} covers {old.tree_size} events, more than checkpoint "
                f"{new_id} ({new.tree_size}): give the older checkpoint first.",
                field="old",
            )
        path = uow.audit_tree.consistency_proof(old.tree_size, new.tree_size)
    return ConsistencyProof(old, new, tuple(p.hex() for p in path))


# --- verification against checkpoints ---


@dataclass(frozen=True)
class _Head:
    where: str  # "checkpoint 3" or a file / published location
    text: str
    tree_size: int
    root: bytes


def _heads(
    key: LogKey, stored: Iterable[StoredCheckpoint], files: Iterable[tuple[str, str]]
) -> tuple[list[_Head], Verification | None]:
    """Parse and authenticate every checkpoint; the first forgery is the answer."""
    heads: list[_Head] = []
    sources: list[tuple[str, str, StoredCheckpoint | None]]
    sources = [(f"checkpoint {c.id}", c.note, c) for c in stored]
    sources += [(where, text, None) for where, text in files]
    for where, text, row in sources:
        try:
            parsed, _ = cp.parse(text)
        except cp.CheckpointFormatError as exc:
            return heads, _forged(where, f"it is not a signed checkpoint ({exc})")
        if parsed.origin != key.name or not log_key.signature_valid(
            text, key.name, key.public_bytes
        ):
            return heads, _forged(where, "its signature is not the log key's")
        if row is not None and (
            row.tree_size != parsed.tree_size or row.root_hash != parsed.root_hash.hex()
        ):
            return heads, _forged(where, "its stored size or root differ from its signed note")
        heads.append(_Head(where, text, parsed.tree_size, parsed.root_hash))
    return heads, None


def _forged(where: str, why: str) -> Verification:
    return Verification(False, 0, 0, "", None, Tampering.FORGED, f"{where} was forged: {why}")


@dataclass(frozen=True)
class CheckPlan:
    """The signed tree heads a journal of a given length must match, already authenticated."""

    heads: dict[int, _Head]  # tree size -> the first head signed for it
    tree_size: int  # leaves in the stored Merkle tree

    @property
    def sizes(self) -> list[int]:
        return sorted(self.heads)


def plan_checks(
    ctx: Context,
    result: Verification,
    files: Sequence[tuple[str, str]] = (),
    *,
    include_published: bool = True,
) -> CheckPlan | Verification:
    """Gather every stored, published and given checkpoint for a journal ending at
    ``result.head_seq``; a forged checkpoint, a split view or a checkpoint beyond the
    journal's end is the answer (a failed Verification) before any event is read."""
    with ctx.uow.read() as uow:
        stored = list(uow.audit_tree.all_checkpoints())
        tree_size = uow.audit_tree.size()
    published: list[tuple[str, str]] = []
    if include_published:
        for destination in ctx.settings.checkpoint_destinations:
            try:
                published += checkpoint_store.read_published(destination)
            except checkpoint_store.PublishError:
                continue  # an unreachable destination proves nothing either way
    heads: list[_Head] = []
    if stored or files or published:
        heads, forged = _heads(_key(ctx), stored, [*files, *published])
        if forged is not None:
            return replace(
                forged,
                checked=result.checked,
                head_seq=result.head_seq,
                head_hash=result.head_hash,
            )
    by_size: dict[int, _Head] = {}
    for head in heads:
        other = by_size.setdefault(head.tree_size, head)
        if other.root != head.root:
            return _fail(
                result,
                head.tree_size,
                Tampering.SPLIT_VIEW,
                f"{other.where} and {head.where} are both signed for {head.tree_size} events "
                "with different roots: the log showed two histories (a split view)",
            )
    sizes = sorted(by_size)
    if sizes and sizes[-1] > result.head_seq:
        last_ok = max((s for s in sizes if s <= result.head_seq), default=0)
        biggest = by_size[sizes[-1]]
        return _fail(
            result,
            result.head_seq + 1,
            Tampering.TRUNCATED,
            f"{biggest.where} covers {biggest.tree_size} events but the journal ends at "
            f"{result.head_seq}: the newest {biggest.tree_size - result.head_seq} events "
            "were removed" + (f" (checkpoints up to {last_ok} events match)" if last_ok else ""),
        )
    return CheckPlan(by_size, tree_size)


def check_checkpoints(
    ctx: Context,
    result: Verification,
    hashes: Iterator[str],
    files: Sequence[tuple[str, str]] = (),
    *,
    include_published: bool = True,
) -> Verification:
    """Check an intact chain against every stored, published and given checkpoint.

    ``hashes`` are the events' chain hashes in seq order (the leaf data; the chain walk
    has just checked each against its event); tree heads are recomputed from them in
    O(log n) memory. Runs only on a chain that verified: a chain break is the
    more precise answer.
    """
    if not result.ok:
        return result
    plan = plan_checks(ctx, result, files, include_published=include_published)
    if isinstance(plan, Verification):
        return plan
    # One pass over the journal: the recomputed root at each checkpoint size.
    compact = merkle.CompactRange()
    pending = iter(plan.sizes)
    want = next(pending, None)
    roots: dict[int, bytes] = {}
    add, sha, fromhex = compact.add, hashlib.sha256, bytes.fromhex
    for digest in hashes:
        add(sha(b"\x00" + fromhex(digest)).digest())  # cp.journal_leaf, inlined
        while want is not None and compact.size == want:
            roots[want] = compact.root()
            want = next(pending, None)
    return check_roots(ctx, result, plan, roots, compact.size, compact.root())


def check_roots(
    ctx: Context,
    result: Verification,
    plan: CheckPlan,
    roots: dict[int, bytes],
    size: int,
    root: bytes,
) -> Verification:
    """Compare the journal's recomputed tree (``roots`` at each checkpoint size, and its
    whole ``size``/``root``) with the signed heads and with the stored Merkle tree."""
    matched = 0
    for want in plan.sizes:
        head = plan.heads[want]
        got = merkle.EMPTY_ROOT if want == 0 else roots.get(want)
        if want > size or got != head.root:
            return _fail(
                result,
                matched + 1,
                Tampering.REWRITTEN,
                f"the journal no longer matches {head.where} ({want} events): events "
                f"{matched + 1}-{want} were rewritten and the chain recomputed",
            )
        matched = want
    # Proofs are served from the stored tree: it must be the journal's tree. It is also
    # a second record of the journal inside the database, which catches an attacker
    # who edits or deletes events without knowing about it.
    tree_size = plan.tree_size
    with ctx.uow.read() as uow:
        if tree_size == size and _stored_root_is(uow, tree_size, root):
            return result
        if tree_size > size:
            return _fail(
                result,
                size + 1,
                Tampering.TRUNCATED,
                f"the journal's Merkle tree records {tree_size} events but the journal ends at "
                f"{size}: the newest {tree_size - size} events were removed",
            )
        first = _first_different_leaf(uow, ctx)
    if first is not None and first < tree_size:
        return _fail(
            result,
            first + 1,
            Tampering.REWRITTEN,
            f"event {first + 1} no longer matches the journal's Merkle tree: it was changed "
            "and the chain recomputed from it on",
        )
    return _fail(
        result,
        min(tree_size, size) + 1,
        Tampering.TREE_MISMATCH,
        f"the stored Merkle tree ({tree_size} leaves) is not the tree of the journal "
        f"({size} events): proofs served from it would be wrong",
    )


def _stored_root_is(uow: UnitOfWork, size: int, root: bytes) -> bool:
    if size == 0:
        return True
    try:
        return uow.audit_tree.root(size) == root
    except IntegrityError:  # nodes missing: not the journal's tree
        return False


def _first_different_leaf(uow: UnitOfWork, ctx: Context) -> int | None:
    """The first leaf index whose stored hash differs from the event's (failures only)."""
    with ctx.uow.read() as rows_uow:
        leaves = uow.audit_tree.leaves()
        for index, digest in enumerate(rows_uow.audit_tree.journal_hashes()):
            stored = next(leaves, None)
            if stored is None:
                return None
            if stored != cp.journal_leaf(digest):
                return index
    return None


def _fail(result: Verification, seq: int, kind: Tampering, detail: str) -> Verification:
    return replace(result, ok=False, broken_seq=seq, kind=kind, detail=detail)
