"""Model cards: owner-written narrative fields (stored, versioned, audited) and the card.

``set_narrative`` writes one new revision per changed field in one transaction,
journalled as ``modelcard.narrative_set`` with the text before and after.
``model_card`` gathers the evidence in one read transaction (a consistent snapshot)
and hands it to :func:`steward.compliance.modelcard.build`; ``render`` turns the card
into Markdown, self-contained HTML (plots inlined from the artifact store) or PDF.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from steward.compliance import modelcard as mc
from steward.compliance.modelcard import CardEvidence, ModelCard, Narrative, RenderedCard
from steward.domain.audit import Action
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import impact
from steward.services import risk as risk_service
from steward.services.access import check_first, ensure_model
from steward.services.context import Context, version_row_id
from steward.services.monitoring_card import card_status_in_uow
from steward.store.findings_repo import FindingFilter
from steward.store.uow import UnitOfWork

# What a user can do when PDF output is unavailable, named as the commands spell it.
PDF_INSTEAD = (
    "choose another format (`steward report model-card MODEL VERSION --format html`; "
    "format=html in the SDK and REST API)"
)


def _narrative(model: str, version: int, row: Any) -> Narrative:
    return Narrative(
        model=model,
        version=version,
        field=row["field"],
        text=row["text"],
        revision=int(row["revision"]),
        written_by=row["written_by"],
        written_at=row["written_at"],
        audit_seq=int(row["audit_seq"]),
        from_version=int(row["version_no"]),
        superseded_at=row["superseded_at"],
    )


def current_in_uow(uow: UnitOfWork, mid: int, model: str, version: int) -> dict[str, Narrative]:
    """The narrative a version's card shows: its own text, else the nearest earlier one's."""
    earlier = uow.narratives.version_ids(mid, version)
    by_id = {vid: no for no, vid in earlier}
    found: dict[str, Narrative] = {}
    rows = uow.narratives.current(list(by_id))
    # Newest version first, so a version's own text wins over what it would inherit.
    for row in sorted(rows, key=lambda r: -int(r["version_no"])):
        key = str(row["field"])
        if key not in found:
            found[key] = _narrative(model, version, row)
    return found


def set_narrative(
    ctx: Context, principal: Principal, model: str, version: int, fields: dict[str, str]
) -> list[Narrative]:
    """Write the given narrative fields of a version; unchanged text is not a new revision.

    Returns the version's narrative as its card now shows it (every field that has text).
    """
    ensure(principal, Permission.MODEL_WRITE)
    check_first(ctx, principal, Permission.MODEL_WRITE, model)
    if not isinstance(fields, dict) or not fields:
        raise InvalidInput(
            "Give at least one field to write, e.g. intended_use='Approve or refer ...' "
            f"(fields: {', '.join(mc.FIELDS_BY_KEY)}).",
            field="fields",
        )
    values: dict[str, str] = {}
    for key, text in fields.items():
        spec = mc.narrative_field(key)
        values[spec.key] = mc.narrative_text(spec.key, text)
    with ctx.uow.write() as uow:
        mid, vid = version_row_id(uow, model, version)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.MODEL_WRITE, model)
        shown = current_in_uow(uow, mid, model, version)
        changes: dict[str, dict[str, Any]] = {}
        for key, text in sorted(values.items()):
            before = shown.get(key)
            if before is not None and not before.carried_over and before.text == text:
                continue
            changes[key] = {
                "revision": uow.narratives.latest_revision(vid, key) + 1,
                "before": None if before is None else before.text,
                "before_from_version": None if before is None else before.from_version,
                "after": text,
            }
        if not changes:
            return list(shown.values())
        event = uow.record(
            principal.name,
            Action.NARRATIVE_SET,
            "version",
            f"{model}/{version}",
            {"model": model, "version": version, "fields": changes},
        )
        for key, change in changes.items():
            uow.narratives.supersede(vid, key, uow.now)
            uow.narratives.insert(
                {
                    "version_id": vid,
                    "field": key,
                    "revision": change["revision"],
                    "text": change["after"],
                    "written_by": principal.name,
                    "written_at": uow.now,
                    "audit_seq": event.seq,
                }
            )
        result = current_in_uow(uow, mid, model, version)
        uow.commit()
    return sorted(result.values(), key=lambda n: n.field)


def narratives(ctx: Context, principal: Principal, model: str, version: int) -> list[Narrative]:
    """The narrative fields a version's card shows (own or carried over), by field name."""
    ensure(principal, Permission.GOVERNANCE_READ)  # part of the model card
    with ctx.uow.read() as uow:
        mid, _vid = version_row_id(uow, model, version)
        found = current_in_uow(uow, mid, model, version)
    return sorted(found.values(), key=lambda n: n.field)


def narrative_history(
    ctx: Context, principal: Principal, model: str, version: int, field: str | None = None
) -> list[Narrative]:
    """Every revision written for this version (superseded ones too), by field and revision."""
    ensure(principal, Permission.GOVERNANCE_READ)
    key = mc.narrative_field(field).key if field is not None else None
    with ctx.uow.read() as uow:
        _mid, vid = version_row_id(uow, model, version)
        rows = uow.narratives.history(vid, key)
    return [_narrative(model, version, row) for row in rows]


# -- the card -------------------------------------------------------------------------


def gather(
    uow: UnitOfWork, ctx: Context, principal: Principal, model: str, version: int
) -> CardEvidence:
    """Everything the card of ``model``/``version`` is built from, in the caller's snapshot."""
    mid, vid = version_row_id(uow, model, version)
    found_model = uow.models.get(model)
    assert found_model is not None
    this = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
    previous = None
    prev_vid = None
    for no in range(version - 1, 0, -1):
        row = uow.versions.row(mid, no)
        if row is not None:
            prev_vid = int(row["id"])
            previous = uow.versions.hydrate([row])[0]
            break
    assessment, problem = risk_service.assessment_status(uow, mid)
    pack = uow.policies.active()
    head = uow.audit.head()
    narr = current_in_uow(uow, mid, model, version)
    prev_narr = {} if previous is None else current_in_uow(uow, mid, model, previous.version)
    impact_found, impact_problem = impact.status_in_uow(uow, mid)
    # The coverage service's answer for the model, in the same snapshot (the card shows it,
    # it does not recompute it).
    from steward.compliance import coverage
    from steward.services import compliance

    cov = coverage.for_model(
        compliance.facts_in_uow(uow, model), compliance.evidence_mapping(ctx), uow.now
    )
    findings = [
        f
        for f in uow.findings.search(FindingFilter(model_id=mid), 1000)
        if f.version in (None, version)
    ]
    return CardEvidence(
        model=found_model,
        version=this,
        previous=previous,
        assessment=assessment,
        assessment_problem=problem,
        runs=uow.check_runs.runs(version_id=vid, limit=200),
        previous_runs=[]
        if prev_vid is None
        else uow.check_runs.runs(version_id=prev_vid, limit=200),
        transitions=uow.versions.transitions(vid, model, version),
        requests=sorted(
            uow.requests.search(version_id=vid, limit=200), key=lambda r: r.requested_at
        ),
        findings=findings,
        waivers=uow.waivers.search(model_id=mid, version_id=vid, active_at=None, limit=1000),
        reviews=uow.reviews.for_model(mid),
        signatures=uow.signing.for_version(vid),
        narratives=narr,
        previous_narratives=prev_narr,
        monitoring=card_status_in_uow(uow, model, version),
        policy=None if pack is None else f"{pack['name']}@{pack['version']}",
        journal_head=None if head is None else (head.seq, head.hash),
        generated_at=uow.now,
        generated_by=principal.name,
        impact=impact_found,
        impact_problem=impact_problem,
        coverage=cov,
    )


def monitoring_status(
    ctx: Context, principal: Principal, model: str, version: int
) -> dict[str, Any] | None:
    """The card's monitoring section (``services.monitoring.card_status``), or None."""
    from steward.services.monitoring import card_status

    return card_status(ctx, principal, model, version)


def model_card(ctx: Context, principal: Principal, model: str, version: int) -> ModelCard:
    """The model card of a version, generated from the evidence Steward holds now."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        evidence = gather(uow, ctx, principal, model, version)
    return mc.build(evidence)


def plot_svgs(ctx: Context, card: ModelCard) -> dict[str, str]:
    """The card's plots from the artifact store (verified against their sha256)."""
    out: dict[str, str] = {}
    for name, sha in card.plots.items():
        try:
            out[name] = b"".join(ctx.artifacts.iter_verified(sha)).decode()
        except NotFound:
            continue  # rendered as "not available"; the pack's verify shows what is missing
    return out


def card_json(card: ModelCard) -> str:
    from steward import wire

    return wire.dump_json(card).decode()


def render_card(
    ctx: Context,
    card: ModelCard,
    fmt: str,
    translate: Callable[[str], str] | None = None,
    lang: str = "en",
) -> RenderedCard:
    """The card as bytes; ``translate`` renders an HTML card's headings in ``lang``."""
    fmt = mc.check_format(fmt)
    if fmt == "json":
        content = json.dumps(json.loads(card_json(card)), indent=2, ensure_ascii=False).encode()
    elif fmt == "md":
        content = mc.render_markdown(card).encode()
    else:
        if fmt == "html":
            content = mc.render_html(card, plot_svgs(ctx, card), translate, lang).encode()
        else:  # the PDF is the record an auditor files: English, as the journal
            content = mc.render_pdf(mc.render_html(card, plot_svgs(ctx, card)), PDF_INSTEAD)
    return RenderedCard(mc.filename(card, fmt), mc.MEDIA_TYPES[fmt], content)


def render(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    fmt: str = "html",
    translate: Callable[[str], str] | None = None,
    lang: str = "en",
) -> RenderedCard:
    """The model card as json, md, html or pdf bytes (HTML headings in ``lang``)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    fmt = mc.check_format(fmt)
    return render_card(ctx, model_card(ctx, principal, model, version), fmt, translate, lang)


def fields() -> list[dict[str, str]]:
    """The narrative fields owners write, with what each should say."""
    return [asdict(f) for f in mc.NARRATIVE_FIELDS]
