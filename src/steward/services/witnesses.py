"""Witnesses of the transparency log: registering them and storing their cosignatures.

A witness cosigns a checkpoint (offline, `steward audit witness cosign`) only after
checking that it extends the last one the witness saw. Steward stores a cosignature
only if it is by a registered witness key and over exactly the text of a checkpoint
Steward signed: a cosignature of anything else proves nothing about this log.
"""

from __future__ import annotations

from dataclasses import dataclass

from steward.domain import checkpoint as cp
from steward.domain.audit import Action
from steward.domain.checkpoint import StoredCheckpoint, Witness
from steward.domain.errors import AlreadyExists, InvalidInput, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context
from steward.trust import witness as witness_trust


def add_witness(ctx: Context, principal: Principal, name: str, public_key: str) -> Witness:
    ensure(principal, Permission.WITNESS_MANAGE)
    try:
        key_name, _, _ = cp.parse_any_verifier_key(public_key)
    except cp.CheckpointFormatError as exc:
        raise InvalidInput(
            f"{exc}: give the verifier key `steward audit witness keygen` printed "
            "(NAME+KEYID+BASE64KEY).",
            field="public_key",
        ) from exc
    if key_name != name:
        raise InvalidInput(
            f"The key is named {key_name!r} but the witness {name!r}: a witness's signature "
            f"lines carry its key's name, so register it as {key_name!r}.",
            field="name",
        )
    with ctx.uow.write() as uow:
        if uow.audit_tree.witness(name) is not None:
            raise AlreadyExists(
                f"Witness {name!r} is already registered; remove it first with "
                f"`steward audit witness remove {name}` to change its key."
            )
        added = uow.audit_tree.add_witness(name, public_key.strip(), uow.now, principal.name)
        uow.record(
            principal.name,
            Action.AUDIT_WITNESS_ADDED,
            "witness",
            name,
            {"verifier_key": added.verifier_key},
        )
        uow.commit()
    return added


def list_witnesses(ctx: Context, principal: Principal) -> list[Witness]:
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        return uow.audit_tree.witnesses()


@dataclass(frozen=True)
class WitnessStatus:
    """A witness as the web page shows it: its key and what it last vouched for."""

    witness: Witness
    key_id: str  # hex, as in its signature lines
    fingerprint: str  # SHA-256 of its public key, hex
    latest: StoredCheckpoint | None  # the newest checkpoint it cosigned


def witness_statuses(ctx: Context, principal: Principal) -> list[WitnessStatus]:
    """Every registered witness with its key's fingerprint and latest cosigned checkpoint."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        found = uow.audit_tree.witnesses()
        latest = uow.audit_tree.latest_cosigned()
    return [
        WitnessStatus(
            w,
            w.verifier_key.split("+", 2)[1],
            cp.key_fingerprint(w.verifier_key),
            latest.get(w.name),
        )
        for w in found
    ]


def remove_witness(ctx: Context, principal: Principal, name: str) -> None:
    ensure(principal, Permission.WITNESS_MANAGE)
    with ctx.uow.write() as uow:
        found = uow.audit_tree.witness(name)
        if found is None:
            raise NotFound(
                f"There is no witness {name!r}; list them with `steward audit witness list`."
            )
        uow.audit_tree.remove_witness(name)
        uow.record(
            principal.name,
            Action.AUDIT_WITNESS_REMOVED,
            "witness",
            name,
            {"verifier_key": found.verifier_key},
        )
        uow.commit()


def add_cosignature(
    ctx: Context, principal: Principal, note: str, checkpoint_id: int | None = None
) -> StoredCheckpoint:
    """Check a cosigned note and store every registered witness's signature in it.

    Refused unless the note's signed text is exactly a stored checkpoint's (the one
    ``checkpoint_id`` names, or the one of the note's tree size) and at least one line
    is a valid signature by a registered witness. A line naming a registered witness
    that does not verify makes the whole note invalid (signed-note rules).
    """
    ensure(principal, Permission.AUDIT_CHECKPOINT)
    try:
        parsed, signatures = cp.parse(note)
    except cp.CheckpointFormatError as exc:
        raise InvalidInput(
            f"Not a cosigned checkpoint: {exc}. Submit the file that "
            "`steward audit witness cosign` wrote.",
            field="note",
        ) from exc
    with ctx.uow.write() as uow:
        if checkpoint_id is not None:
            target = uow.audit_tree.checkpoint(checkpoint_id)
            if target is None:
                raise NotFound(
                    f"There is no checkpoint {checkpoint_id}; list them with "
                    "`steward audit checkpoint --list`."
                )
            candidates = [target]
        else:
            candidates = uow.audit_tree.checkpoints_of_size(parsed.tree_size)
        body = cp.signed_text(note)
        stored = next((c for c in candidates if cp.signed_text(c.note) == body), None)
        if stored is None:
            raise InvalidInput(
                "The cosigned note's text is not that of "
                + (f"checkpoint {checkpoint_id}" if checkpoint_id else "any stored checkpoint")
                + f" ({parsed.tree_size} events): a witness cosigned a tree head this log "
                "never signed, or a different one. Cosign the note `steward audit checkpoint` "
                "published.",
                field="note",
            )
        registered = {w.name: w for w in uow.audit_tree.witnesses()}
        accepted: list[tuple[str, str]] = []
        for sig in signatures:
            found = registered.get(sig.name)
            if found is None:
                continue  # the log's own line, or a key nobody registered
            valid = witness_trust.cosignature_valid(note, found.verifier_key)
            if valid is False:
                raise InvalidInput(
                    f"The signature line of witness {sig.name!r} does not verify with its "
                    "registered key: the note was altered or signed with another key.",
                    field="note",
                )
            if valid:
                accepted.append((sig.name, sig.line()))
        if not accepted:
            raise InvalidInput(
                "No signature in the note is by a registered witness key: register the "
                "witness first with `steward audit witness add NAME --public-key KEY`.",
                field="note",
            )
        for name, line in accepted:
            if uow.audit_tree.add_cosignature(stored.id, name, line, uow.now, principal.name):
                uow.record(
                    principal.name,
                    Action.AUDIT_COSIGNED,
                    "checkpoint",
                    str(stored.id),
                    {"witness": name, "tree_size": stored.tree_size},
                )
        uow.commit()
        result = uow.audit_tree.checkpoint(stored.id)
    assert result is not None
    return result


def cosigned_note(ctx: Context, principal: Principal, checkpoint_id: int) -> str:
    """A checkpoint's note with every stored cosignature line (for evidence packs)."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        found = uow.audit_tree.checkpoint(checkpoint_id)
        if found is None:
            raise NotFound(f"There is no checkpoint {checkpoint_id}.")
        lines = uow.audit_tree.cosignature_lines(checkpoint_id)
    return found.note + "".join(line for _, line in lines)
