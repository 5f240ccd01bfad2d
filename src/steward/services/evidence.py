"""Export a signed evidence pack for a model (see :mod:`steward.compliance.evidence`).

Everything is read in one read transaction — a consistent snapshot whose journal head
becomes the pack's signed chain head — then the pack is signed with the key Steward
signs approved versions with, and ``evidence.exported`` is journalled (with the
manifest's sha256, so the journal records exactly which pack left) before the zip is
written.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import IO, Any

from steward import wire
from steward.compliance import evidence as pack
from steward.compliance import modelcard as mc
from steward.compliance.evidence import PackSummary, PackVerification
from steward.domain import checkpoint as cp
from steward.domain.audit import Action, format_time
from steward.domain.checkpoint import StoredCheckpoint
from steward.domain.errors import (
    ArtifactTooLarge,
    Conflict,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import exports, modelcards, policies, signing, transparency
from steward.services import risk as risk_service
from steward.services.context import Context, model_id
from steward.services.monitoring_card import card_status_in_uow, pack_history_in_uow
from steward.store.findings_repo import FindingFilter
from steward.store.uow import UnitOfWork
from steward.trust import witness as witness_trust

_DOCUMENTED_STAGES = (Stage.PRODUCTION, Stage.UNDER_REVIEW)


# What a user can do when PDF output is unavailable, named as the commands spell it.
PDF_INSTEAD = (
    "export without PDF cards (`steward evidence export MODEL -o FILE --no-pdf`; "
    "include_pdf=false in the SDK and REST API)"
)


def _json(value: Any) -> bytes:
    """Pretty JSON of entities, serialised the way the REST API does."""
    return (
        json.dumps(
            json.loads(wire.dump_json(value)), indent=2, ensure_ascii=False, sort_keys=True
        ).encode()
        + b"\n"
    )


def _choose_versions(
    uow: UnitOfWork, mid: int, model: str, versions: list[int] | None
) -> list[int]:
    if versions:
        chosen = sorted(set(versions))
        for no in chosen:
            if uow.versions.row(mid, no) is None:
                raise NotFound(
                    f"Model {model!r} has no version {no}. List its versions with "
                    f"`steward version list {model}`.",
                    model=model,
                    version=no,
                )
        return chosen
    numbers = [no for no, _vid in uow.narratives.version_ids(mid, 10**9)]
    if not numbers:
        raise InvalidInput(
            f"Model {model!r} has no versions yet, so there is nothing to document; log one "
            "first (`client.log_version(...)`).",
            field="model",
        )
    live = [
        no for stage in _DOCUMENTED_STAGES for no, _vid in uow.versions.ids_in_stage(mid, stage)
    ]
    return sorted(set(live)) or [max(numbers)]


def _segment(uow: UnitOfWork, model: str, head_seq: int) -> tuple[list[str], list[str], int]:
    """The model's events (export lines) and the chain links from its first event to the head."""
    prefix = model + "/"
    marker = f'"model":{json.dumps(model, ensure_ascii=False)}'
    events: list[str] = []
    links: list[str] = []
    first = uow.narratives.first_model_event(model)
    if first is None:
        return events, links, 0
    for row in uow.audit.stream_rows(first, head_seq):
        seq, time, actor, action, stype, sid, payload, prev_hash, digest = row
        links.append(
            json.dumps({"hash": digest, "prev_hash": prev_hash, "seq": seq}, sort_keys=True) + "\n"
        )
        mine = sid == model or sid.startswith(prefix)
        if not mine and marker in payload:
            mine = json.loads(payload).get("model") == model
        if mine:
            events.append(
                pack.event_line(
                    {
                        "seq": seq,
                        "time": time,
                        "actor": actor,
                        "action": action,
                        "subject_type": stype,
                        "subject_id": sid,
                        "payload": json.loads(payload),
                        "prev_hash": prev_hash,
                        "hash": digest,
                    }
                )
            )
    return events, links, first


def model_events(uow: UnitOfWork, model: str, head_seq: int) -> list[dict[str, Any]]:
    """Every journal event about ``model`` up to ``head_seq``, with its hashes."""
    return [json.loads(line) for line in _segment(uow, model, head_seq)[0]]


def _good_cosigners(
    uow: UnitOfWork, found: StoredCheckpoint, registered: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(witness, verifier key, signature line) of each cosignature that still verifies
    with the witness's currently registered key."""
    good = []
    for name, line in uow.audit_tree.cosignature_lines(found.id):
        vkey = registered.get(name)
        if vkey is not None and witness_trust.cosignature_valid(found.note + line, vkey):
            good.append((name, vkey, line))
    return good


def _proofs(
    uow: UnitOfWork, events: list[str], need: int
) -> tuple[dict[str, bytes], dict[str, Any] | None]:
    """Inclusion proofs of the pack's events against one signed checkpoint.

    The checkpoint is the latest one, or — when the policy pack asks for ``need``
    witness cosignatures — the latest one carrying that many; refused if none does.
    Events newer than the checkpoint get no proof (the chain still covers them).
    """
    registered = {w.name: w.verifier_key for w in uow.audit_tree.witnesses()}
    chosen: StoredCheckpoint | None = None
    cosigs: list[tuple[str, str, str]] = []
    if need:
        best = 0
        for found in sorted(
            uow.audit_tree.checkpoints(), key=lambda c: (c.tree_size, c.id), reverse=True
        ):
            good = _good_cosigners(uow, found, registered)
            best = max(best, len(good))
            if len(good) >= need:
                chosen, cosigs = found, good
                break
        if chosen is None:
            raise Conflict(
                f"The active policy pack requires evidence packs to rest on a checkpoint "
                f"cosigned by {need} registered witness(es) (evidence.witnesses), and no "
                f"checkpoint has more than {best}. Have the witnesses cosign the latest one "
                "(`steward audit witness cosign`, run by each witness) and store it with "
                "`steward audit witness submit FILE`; see `steward audit checkpoint --list`."
            )
    else:
        chosen = uow.audit_tree.latest_checkpoint()
        if chosen is not None:
            cosigs = _good_cosigners(uow, chosen, registered)
    if chosen is None:
        return {}, None
    proofs = []
    for text in events:
        event = json.loads(text)
        seq = int(event["seq"])
        if seq > chosen.tree_size:
            continue
        path = uow.audit_tree.inclusion_proof(seq - 1, chosen.tree_size)
        proofs.append(
            json.dumps(
                {
                    "seq": seq,
                    "leaf_index": cp.leaf_index(seq),
                    "tree_size": chosen.tree_size,
                    "proof": [p.hex() for p in path],
                },
                sort_keys=True,
            )
            + "\n"
        )
    files = {
        pack.CHECKPOINT: (chosen.note + "".join(line for _, _, line in cosigs)).encode(),
        pack.PROOFS: "".join(proofs).encode(),
        pack.WITNESSES: "".join(vkey + "\n" for _, vkey, _ in cosigs).encode(),
    }
    meta = {
        "id": chosen.id,
        "tree_size": chosen.tree_size,
        "root_hash": chosen.root_hash,
        "origin": cp.parse(chosen.note)[0].origin,
        "cosigners": [name for name, _, _ in cosigs],
        "proofs": len(proofs),
    }
    return files, meta


def export_pack(
    ctx: Context,
    principal: Principal,
    model: str,
    out: IO[bytes],
    *,
    versions: list[int] | None = None,
    include_pdf: bool = True,
) -> PackSummary:
    """Write the signed evidence pack of ``model`` to ``out``; returns its summary.

    ``versions`` defaults to the versions in production or under review (else the latest).
    """
    ensure(principal, Permission.EVIDENCE_EXPORT)
    files: dict[str, bytes] = {}
    blobs: dict[str, str] = {}  # path in the pack -> sha256 in the artifact store
    with ctx.uow.read() as uow:
        mid = model_id(uow, model)
        chosen = _choose_versions(uow, mid, model, versions)
        head = uow.audit.head()
        assert head is not None  # the model's creation is journalled
        found_model = uow.models.get(model)
        files["model.json"] = _json(found_model)
        assessment, problem = risk_service.assessment_status(uow, mid)
        files["risk/assessment.json"] = _json(
            {"current": assessment, "problem": problem, "history": uow.risk.history(mid)}
        )
        active = uow.policies.active()
        if active is not None:
            files["policy/pack.yaml"] = str(active["source"]).encode()
            files["policy/info.json"] = _json(
                {"name": active["name"], "version": active["version"], "sha256": active["sha256"]}
            )
        files["approvals/requests.json"] = _json(uow.requests.search(model_id=mid, limit=10_000))
        files["findings.json"] = _json(uow.findings.search(FindingFilter(model_id=mid), 100_000))
        files["waivers.json"] = _json(
            uow.waivers.search(model_id=mid, version_id=None, active_at=None, limit=100_000)
        )
        files["reviews.json"] = _json(uow.reviews.for_model(mid))
        cards: list[mc.ModelCard] = []
        for no, vid in sorted(uow.narratives.version_ids(mid, 10**9)):
            runs = uow.check_runs.runs(version_id=vid, limit=1000)
            for run in runs:
                files[f"checks/v{no}/{run.id}/run.json"] = _json(run)
                for ev in run.evidence:
                    blobs[f"checks/v{no}/{run.id}/{ev.name}"] = ev.sha256
            sigs = uow.signing.for_version(vid)
            if sigs:
                files[f"signatures/v{no}.json"] = _json(sigs)
            if no in chosen:
                files[f"narratives/v{no}.json"] = _json(
                    [modelcards._narrative(model, no, r) for r in uow.narratives.history(vid)]
                )
                cards.append(mc.build(modelcards.gather(uow, ctx, principal, model, no)))
                status = card_status_in_uow(uow, model, no)
                if status is not None:
                    files[f"monitoring/v{no}.json"] = _json(status)
        for path, content in pack_history_in_uow(uow, mid).items():
            files[path] = _json(content)
        events, links, _first = _segment(uow, model, head.seq)
        # OSCAL assessment results and the versions' BOMs, from the same snapshot.
        files.update(exports.pack_files(ctx, uow, principal, model, chosen, events))
        active_pack = policies.active_pack(uow)
        need = active_pack.evidence_witnesses if active_pack is not None else 0
        proven, proof_meta = _proofs(uow, events, need)
        if proof_meta is not None:
            files.update(proven)
            files[pack.LOG_KEY] = (transparency.verifier_key(ctx, principal) + "\n").encode()
    for path, sha in blobs.items():
        files[path] = b"".join(ctx.artifacts.iter_verified(sha))
    for card in cards:
        svgs = modelcards.plot_svgs(ctx, card)
        base = f"model-card/v{card.version}"
        for name, svg in svgs.items():
            files[f"model-card/plots/{name}"] = svg.encode()
        files[f"{base}.json"] = modelcards.card_json(card).encode()
        files[f"{base}.md"] = mc.render_markdown(card, plot_dir="plots").encode()
        html = mc.render_html(card, svgs)
        files[f"{base}.html"] = html.encode()
        if include_pdf:
            files[f"{base}.pdf"] = mc.render_pdf(html, instead=PDF_INSTEAD)
    files[pack.EVENTS] = "".join(events).encode()
    files[pack.LINKS] = "".join(links).encode()
    files["verify_pack.py"] = (
        resources.files("steward.compliance").joinpath("templates/verify_pack.py.txt").read_bytes()
    )
    key = signing.signing_key(ctx)
    with ctx.uow.write() as uow:
        uow.signing.ensure_key(key.info(), uow.now)
        created_at = format_time(uow.now)
        manifest = pack.build_manifest(
            model=model,
            versions=chosen,
            created_at=created_at,
            created_by=principal.name,
            key_id=key.key_id,
            algorithm=key.algorithm,
            head=(head.seq, head.hash),
            audit={
                "events": len(events),
                "links": len(links),
                "first_seq": int(json.loads(links[0])["seq"]) if links else None,
                **({"checkpoint": proof_meta} if proof_meta is not None else {}),
            },
            files=files,
        )
        raw = pack.manifest_bytes(manifest)
        signature = key.sign(raw)
        result = pack.summary(manifest, raw)
        uow.record(
            principal.name,
            Action.EVIDENCE_EXPORTED,
            "model",
            model,
            {
                "model": model,
                "versions": chosen,
                "manifest_sha256": result.manifest_sha256,
                "key_id": key.key_id,
                "chain_head": {"seq": head.seq, "hash": head.hash},
                "files": result.files,
            },
        )
        uow.commit()
    pack.write_zip(out, files, raw, signature, key.public_pem)
    return result


def verify_upload(
    ctx: Context,
    principal: Principal,
    data: bytes | IO[bytes],
    public_key: str | None = None,
    anchors: list[str] | None = None,
) -> PackVerification:
    """Verify an uploaded pack on the server (the same check `steward evidence verify` runs).

    Unpacking someone's zip costs the server memory and time, so it needs a signed-in user
    with a role — never an anonymous caller — and it is bounded (members, inflated bytes;
    see :func:`steward.compliance.evidence.verify_pack`). Offline verification needs neither.
    ``data`` may be a seekable file (the upload's spool): nothing is read before the checks.
    """
    if principal.anonymous:
        raise Unauthenticated(
            "Verifying an evidence pack on the server needs an API token; anyone can verify "
            "a pack offline with `steward evidence verify PACK.zip` (no account needed)."
        )
    ensure(principal, Permission.GOVERNANCE_READ)  # any role; a user with none is refused
    if not isinstance(data, bytes):
        data.seek(0, os.SEEK_END)
        size = data.tell()
        data.seek(0)
    else:
        size = len(data)
    if size > pack.MAX_PACK_BYTES:
        raise ArtifactTooLarge(
            f"The evidence pack is {size} bytes; a pack may be at most "
            f"{pack.MAX_PACK_BYTES} bytes.",
            limit="pack bytes",
            maximum=pack.MAX_PACK_BYTES,
        )
    return pack.verify_pack(
        data, public_key=public_key.encode() if public_key else None, anchors=anchors or ()
    )
