"""Export a signed evidence pack for a model (see :mod:`steward.compliance.evidence`).

Everything is read in one read transaction — a consistent snapshot whose journal head
becomes the pack's signed chain head — then the pack is signed with the key Steward
signs approved versions with, and ``evidence.exported`` is journalled (with the
manifest's sha256, so the journal records exactly which pack left) before the zip is
written.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import IO, Any

from steward import wire
from steward.compliance import evidence as pack
from steward.compliance import modelcard as mc
from steward.compliance.evidence import PackSummary, PackVerification
from steward.domain.audit import Action, format_time
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import modelcards, signing
from steward.services import risk as risk_service
from steward.services.context import Context, model_id
from steward.services.monitoring_card import card_status_in_uow, pack_history_in_uow
from steward.store.findings_repo import FindingFilter
from steward.store.uow import UnitOfWork

_DOCUMENTED_STAGES = (Stage.PRODUCTION, Stage.UNDER_REVIEW)


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
            files[f"{base}.pdf"] = mc.render_pdf(html)
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
    data: bytes,
    public_key: str | None = None,
    anchors: list[str] | None = None,
) -> PackVerification:
    """Verify an uploaded pack on the server (the same check `steward evidence verify` runs).

    Evidence needs a role (governance:read); offline verification stays free.
    """
    ensure(principal, Permission.GOVERNANCE_READ)
    return pack.verify_pack(
        data, public_key=public_key.encode() if public_key else None, anchors=anchors or ()
    )
