"""/api/v1/audit — the journal, its verification and export."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from steward.api.deps import Caller, caller, respond
from steward.api.schemas import CosignatureBody, WitnessBody
from steward.domain.audit import AuditEvent, AuditFilter, Verification
from steward.domain.checkpoint import (
    ConsistencyProof,
    InclusionProof,
    StoredCheckpoint,
    Witness,
)
from steward.domain.permissions import Principal
from steward.domain.reconcile import Reconciliation
from steward.services import audit, reconcile, transparency, witnesses
from steward.services.context import Context

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/events", response_model=list[AuditEvent])
async def events(
    model: str | None = Query(None, description="Events about this model and its versions"),
    subject_type: str | None = None,
    subject_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after_seq: int | None = None,
    limit: int = 100,
    call: Caller = Depends(caller),
) -> Response:
    flt = AuditFilter(
        subject_prefix=model,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
        after_seq=after_seq,
    )
    return respond(await call.run(audit.list_events, flt, limit), tp=list[AuditEvent])


@router.get("/verify", response_model=Verification)
async def verify(
    anchor: list[str] = Query(
        [], description="SEQ:HASH heads recorded earlier outside the database (repeatable)"
    ),
    checkpoint: list[str] = Query(
        [], description="Text of a signed checkpoint kept outside Steward (repeatable)"
    ),
    call: Caller = Depends(caller),
) -> Response:
    given = [(f"given checkpoint {i + 1}", text) for i, text in enumerate(checkpoint)]
    return respond(await call.run(audit.verify, anchors=anchor, checkpoints=given))


@router.get("/checkpoints", response_model=list[StoredCheckpoint])
async def checkpoints(limit: int = 100, call: Caller = Depends(caller)) -> Response:
    """Signed tree heads of the journal, newest first, with their publication state."""
    return respond(await call.run(transparency.list_checkpoints, limit), tp=list[StoredCheckpoint])


@router.post("/checkpoints", response_model=StoredCheckpoint, status_code=201)
async def create_checkpoint(call: Caller = Depends(caller)) -> Response:
    """Sign the current tree head; publish it to the server's configured destinations."""
    return respond(await call.run(transparency.create_checkpoint), status=201)


@router.post(
    "/checkpoints/{checkpoint_id}/cosignatures", response_model=StoredCheckpoint, status_code=201
)
async def cosign(
    checkpoint_id: int, body: CosignatureBody, call: Caller = Depends(caller)
) -> Response:
    """Store a registered witness's cosignature of this checkpoint (checked first)."""
    made = await call.run(witnesses.add_cosignature, body.note, checkpoint_id)
    return respond(made, status=201)


@router.get("/witnesses", response_model=list[Witness])
async def list_witnesses(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(witnesses.list_witnesses), tp=list[Witness])


@router.post("/witnesses", response_model=Witness, status_code=201)
async def add_witness(body: WitnessBody, call: Caller = Depends(caller)) -> Response:
    """Register a witness by its signed-note verifier key (admin)."""
    return respond(await call.run(witnesses.add_witness, body.name, body.public_key), status=201)


@router.delete("/witnesses/{name}", status_code=204)
async def remove_witness(name: str, call: Caller = Depends(caller)) -> Response:
    await call.run(witnesses.remove_witness, name)
    return Response(status_code=204)


@router.get("/proofs/inclusion/{seq}", response_model=InclusionProof)
async def inclusion(
    seq: int,
    checkpoint: int | None = Query(None, description="Checkpoint id (default: the latest)"),
    call: Caller = Depends(caller),
) -> Response:
    return respond(await call.run(transparency.inclusion_proof, seq, checkpoint))


@router.get("/proofs/consistency", response_model=ConsistencyProof)
async def consistency(old: int, new: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(transparency.consistency_proof, old, new))


@router.get("/reconcile", response_model=Reconciliation)
async def reconcile_state(call: Caller = Depends(caller)) -> Response:
    """Replay the journal; name every state row it does not explain (ok false if any)."""
    return respond(await call.run(reconcile.reconcile))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export(call: Caller = Depends(caller)) -> StreamingResponse:
    """JSON Lines, one event per line, in chain order (docs/audit.md shows how to verify)."""

    def start(ctx: Context, who: Principal) -> tuple[str | None, Iterator[str]]:
        lines = audit.export_lines(ctx, who)
        return next(lines, None), lines  # the permission check runs before the response starts

    first, lines = await call.run(start)

    def body() -> Iterator[str]:
        if first is not None:
            yield first
            yield from lines

    return StreamingResponse(
        body(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'},
    )
