"""Machine-readable exports: OSCAL (catalogs, the policy pack, assessment results) and
bills of materials of a model version (CycloneDX 1.6 ML-BOM, SPDX 3.0 AI/Dataset).

Read-only, like coverage and model cards: each export is built from one read transaction
and needs ``governance:read``. The builders (``steward.compliance.oscal`` and ``.bom``)
need the ``compliance`` extra; they are imported when an export is asked for, so a
missing library becomes the :class:`~steward.domain.errors.MissingExtra` that names it.
The evidence pack carries the same documents (:func:`pack_files`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from steward.compliance import coverage
from steward.compliance.modelcard import CardEvidence, RenderedCard
from steward.domain.errors import Conflict, InvalidInput, MissingExtra
from steward.domain.permissions import Permission, Principal, ensure
from steward.extras import from_import_error
from steward.services import compliance, modelcards, policies
from steward.services.context import Context, model_id
from steward.store.uow import UnitOfWork

COMPLIANCE_FORMATS = ("oscal-catalog", "oscal-profile", "oscal-ar")
BOM_FORMATS = ("cyclonedx", "spdx")
OSCAL_MEDIA_TYPE = "application/oscal+json"
# Element ids of SPDX documents are IRIs under this prefix (documents name no server URL).
SPDX_NAMESPACE = "https://steward.dev"


def _check(fmt: str, allowed: tuple[str, ...]) -> str:
    value = fmt.strip().lower()
    if value not in allowed:
        raise InvalidInput(
            f"Unknown export format {fmt!r}; use one of {', '.join(allowed)}.",
            field="format",
        )
    return value


def compliance_export(
    ctx: Context,
    principal: Principal,
    fmt: str,
    *,
    framework: str | None = None,
    model: str | None = None,
) -> RenderedCard:
    """An OSCAL document: a catalog (``framework``), the active policy pack as a profile,
    or a model's assessment results (``model``)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    fmt = _check(fmt, COMPLIANCE_FORMATS)
    if fmt == "oscal-catalog":
        if not framework:
            raise InvalidInput(
                "An OSCAL catalog export needs the catalog: --framework ID (framework=ID in "
                "the REST API); list them with `steward compliance catalogs`.",
                field="framework",
            )
        from steward.compliance import catalogs

        catalogs.catalog(framework)  # NotFound names the catalogs before the extra is needed
        with _needs_extra():
            from steward.compliance import oscal
        with ctx.uow.read() as uow:
            at = uow.now
        return RenderedCard(
            oscal.catalog_href(framework),
            OSCAL_MEDIA_TYPE,
            oscal.to_json(oscal.catalog_document(framework, at)),
        )
    if fmt == "oscal-profile":
        with ctx.uow.read() as uow:
            pack = policies.active_pack(uow)
            at = uow.now
        if pack is None:
            raise Conflict(
                "No policy pack is active, so there is no profile to export; load one with "
                "`steward policy load FILE` (see `steward policy list`)."
            )
        with _needs_extra():
            from steward.compliance import oscal
        return RenderedCard(
            f"steward-policy-{pack.name}-{pack.version}.oscal-profile.json",
            OSCAL_MEDIA_TYPE,
            oscal.to_json(oscal.profile_document(pack, at)),
        )
    if not model:
        raise InvalidInput(
            "An OSCAL assessment-results export is per model: --model NAME (model=NAME in "
            "the REST API).",
            field="model",
        )
    with ctx.uow.read() as uow:
        content = _assessment_results(ctx, uow, model)
    return RenderedCard(f"steward-{model}.oscal-ar.json", OSCAL_MEDIA_TYPE, content)


def _assessment_results(ctx: Context, uow: UnitOfWork, model: str) -> bytes:
    from steward.services.evidence import model_events

    model_id(uow, model)  # NotFound with the fix
    with _needs_extra():
        from steward.compliance import oscal
    facts = compliance.facts_in_uow(uow, model)
    cov = coverage.for_model(facts, compliance.evidence_mapping(ctx), uow.now)
    head = uow.audit.head()
    events = [] if head is None else model_events(uow, model, head.seq)
    return oscal.to_json(oscal.assessment_results(cov, facts, events, uow.now))


def version_bom(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    fmt: str = "cyclonedx",
    sign: bool = False,
) -> RenderedCard:
    """The bill of materials of a model version: CycloneDX 1.6 ML-BOM or SPDX 3.0 JSON-LD.

    ``sign`` embeds an enveloped JSF signature by the governance key, which CycloneDX
    1.6 provides for (``signature`` on the BOM); SPDX 3.0 has no such member, so a
    signed SPDX document is refused rather than silently left unsigned. The signature
    covers only what Steward itself built from its records, never caller content.
    """
    ensure(principal, Permission.GOVERNANCE_READ)
    fmt = _check(fmt, BOM_FORMATS)
    if sign and fmt != "cyclonedx":
        raise InvalidInput(
            "Only CycloneDX BOMs can carry an embedded signature; use --format cyclonedx, "
            "or sign the SPDX file separately (the evidence pack is signed as a whole).",
            field="sign",
        )
    build = _bom_builder(fmt)
    with ctx.uow.read() as uow:
        ev = modelcards.gather(uow, ctx, principal, model, version)
    found = _bom_export(build, fmt, ev)
    if not sign:
        return found
    from steward.compliance import bom
    from steward.services.signing import signing_key
    from steward.trust import jsf

    signed = jsf.sign(json.loads(found.content), signing_key(ctx))
    text = json.dumps(signed, indent=2, ensure_ascii=False)
    bom.validate_cyclonedx(text)
    return RenderedCard(found.filename, found.media_type, text.encode() + b"\n")


def _bom_builder(fmt: str) -> Callable[[CardEvidence], bytes]:
    with _needs_extra():
        from steward.compliance import bom
    if fmt == "cyclonedx":
        return bom.cyclonedx
    return lambda ev: bom.spdx3(ev, SPDX_NAMESPACE)


def _bom_export(build: Callable[[CardEvidence], bytes], fmt: str, ev: CardEvidence) -> RenderedCard:
    suffix = "cdx.json" if fmt == "cyclonedx" else "spdx.json"
    media = "application/vnd.cyclonedx+json" if fmt == "cyclonedx" else "application/spdx+json"
    return RenderedCard(f"{ev.model.name}-v{ev.version.version}.{suffix}", media, build(ev))


def pack_files(
    ctx: Context,
    uow: UnitOfWork,
    principal: Principal,
    model: str,
    versions: list[int],
    events: list[str],
) -> dict[str, bytes]:
    """The exports an evidence pack carries, read in the pack's own snapshot: the model's
    OSCAL assessment results and the BOMs of the documented versions. Without the
    ``compliance`` extra the pack says so in ``exports/README.txt`` instead."""
    try:
        with _needs_extra():
            from steward.compliance import oscal

            builders = {fmt: _bom_builder(fmt) for fmt in BOM_FORMATS}
    except MissingExtra as exc:
        return {"exports/README.txt": (str(exc) + "\n").encode()}
    files: dict[str, bytes] = {}
    facts = compliance.facts_in_uow(uow, model)
    cov = coverage.for_model(facts, compliance.evidence_mapping(ctx), uow.now)
    parsed: list[dict[str, Any]] = [json.loads(line) for line in events]
    files[f"exports/{model}.oscal-ar.json"] = oscal.to_json(
        oscal.assessment_results(cov, facts, parsed, uow.now)
    )
    for no in versions:
        ev = modelcards.gather(uow, ctx, principal, model, no)
        for fmt in BOM_FORMATS:
            found = _bom_export(builders[fmt], fmt, ev)
            files[f"exports/{found.filename}"] = found.content
    return files


@contextmanager
def _needs_extra() -> Iterator[None]:
    """Turn the builders' missing libraries into the MissingExtra naming ``compliance``."""
    try:
        yield
    except ModuleNotFoundError as exc:
        found = from_import_error(exc)
        if found is None:
            raise
        raise found from None
