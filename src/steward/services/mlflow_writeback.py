"""Write Steward's decisions back into a linked MLflow registry; catch moves made behind
its back. Run by the worker's ``mlflow_sync`` job (and `steward mlflow sync`), never in a
user's request: the request changes Steward, this job makes MLflow show it.

The job works like an outbox whose messages are computed rather than queued: for every
linked version it derives the ``steward.*`` tags Steward wants MLflow to show, and for
every linked model where its production aliases should point, compares that with what
MLflow holds and what Steward last wrote (``mlflow_writebacks``), and writes the
difference. A write that fails is retried with back-off (``domain.backoff``), its error
kept for `steward mlflow status`. Nothing can be missed: a decision is picked up on the
next pass whether or not the pass before it ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from steward.domain import finding_messages
from steward.domain import lifecycle as lc
from steward.domain import mlflow_bridge as mb
from steward.domain import mlflow_writeback as wb
from steward.domain.audit import Action
from steward.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StewardError,
    Unauthenticated,
)
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import findings, gates
from steward.services.context import Context, version_row_id
from steward.store.mlflow_repo import VersionLink, WriteBack
from steward.store.uow import UnitOfWork

if TYPE_CHECKING:
    from steward.bridge.mlflow_source import MlflowSource

FINDING_SOURCE = "mlflow"


@dataclass
class WriteBackReport:
    source: str
    tags_written: list[str] = field(default_factory=list)  # "name N"
    aliases_set: list[str] = field(default_factory=list)  # "name@alias -> N"
    aliases_removed: list[str] = field(default_factory=list)  # "name@alias"
    drift: list[str] = field(default_factory=list)  # moves made in MLflow behind our back
    reverted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # retried after their back-off
    waiting: int = 0  # failed before, not due again yet


@dataclass(frozen=True)
class Plan:
    """What Steward wants one linked MLflow model to show."""

    mlflow_name: str
    model: str
    tags: dict[int, dict[str, str]]  # MLflow version -> steward.* tags
    production: int | None  # the MLflow version the production aliases should name
    links: dict[int, VersionLink]


def plans(ctx: Context, uow: UnitOfWork, source: str) -> dict[str, Plan]:
    """What Steward wants each linked MLflow model of ``source`` to show now."""
    by_model: dict[str, list[VersionLink]] = {}
    for link in uow.mlflow.versions(source):
        by_model.setdefault(link.mlflow_name, []).append(link)
    out: dict[str, Plan] = {}
    for model_link in uow.mlflow.models(source):
        links = by_model.get(model_link.mlflow_name, [])
        tags = {}
        for link in links:
            stage = Stage(link.stage)
            url = wb.model_url(ctx.settings.public_url, link.model, link.version)
            tags[link.mlflow_version] = wb.desired_tags(
                stage, _gate_passes(ctx, uow, link, stage), link.artifact_sha256, url
            )
        in_production = [link for link in links if Stage(link.stage) in wb.IN_PRODUCTION]
        production = max(in_production, key=lambda v: v.version) if in_production else None
        out[model_link.mlflow_name] = Plan(
            model_link.mlflow_name,
            model_link.model,
            tags,
            production.mlflow_version if production else None,
            {link.mlflow_version: link for link in links},
        )
    return out


def _gate_passes(ctx: Context, uow: UnitOfWork, link: VersionLink, stage: Stage) -> bool:
    """Would Steward's gate let this version into production now (the policy's verdict)?"""
    if stage in wb.IN_PRODUCTION:
        return True
    request = lc.make_request(
        model=link.model,
        version=link.version,
        current=stage,
        target=Stage.PRODUCTION,
        actor="steward-mlflow",
        justification="MLflow write-back: steward.gate",
    )
    if not lc.state_machine(request).met:
        return False  # no gate to evaluate: the lifecycle does not allow the move from here
    mid, vid = version_row_id(uow, link.model, link.version)
    return gates.report_in_uow(uow, ctx, request, mid, vid).allowed


def _due(state: WriteBack | None, now: datetime) -> bool:
    return state is None or state.next_at is None or state.next_at <= now


def write_back(
    ctx: Context, principal: Principal, source: MlflowSource, only: list[str] | None = None
) -> WriteBackReport:
    """One pass over every linked model of ``source`` (or those MLflow names in ``only``):
    find drift, then write the rest."""
    ensure(principal, Permission.VERSION_WRITE)
    ensure(principal, Permission.FINDING_WRITE)
    report = WriteBackReport(source=source.id)
    if not ctx.settings.mlflow_write_back:
        return report
    with ctx.uow.read() as uow:
        wanted = plans(ctx, uow, source.id)
        state = uow.mlflow.writebacks(source.id)
    if only is not None:
        wanted = {name: plan for name, plan in wanted.items() if name in only}
    if not wanted:
        return report
    registered = {m.name: m for m in source.models(only)}
    for name, plan in sorted(wanted.items()):
        found = registered.get(name)
        if found is None:
            continue  # deleted in MLflow: `steward mlflow status` says so
        try:
            remote = {v.version: v for v in source.versions(name)}
        except NotFound:
            continue
        _model_pass(ctx, principal, source, plan, found, remote, state, report)
    return report


def _model_pass(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    plan: Plan,
    found: mb.MlflowModel,
    remote: dict[int, mb.MlflowVersion],
    state: dict[tuple[str, str], WriteBack],
    report: WriteBackReport,
) -> None:
    with ctx.uow.read() as uow:
        now = uow.now
    written: dict[str, dict[str, Any]] = {}  # target -> what now holds in MLflow
    failures: dict[str, str] = {}  # target -> error
    journal: dict[str, Any] = {"tags": {}, "aliases": {}, "reverted": {}}
    revert = ctx.settings.mlflow_revert_aliases
    # Drift first: a production alias or stage moved in MLflow to a version Steward has not
    # put in production.
    for alias in ctx.settings.mlflow_production_aliases:
        target = wb.alias_target(alias)
        last = state.get((plan.mlflow_name, target))
        last_version = (last.written or {}).get("version") if last else None
        theirs = found.aliases.get(alias)
        drifted = wb.alias_drifted(theirs, plan.production, last_version)
        if drifted:
            assert theirs is not None
            _drift(ctx, principal, source, plan, f"alias {alias!r}", theirs, report)
            if not revert:
                continue  # left as MLflow has it; the open finding says so
        if theirs == plan.production or not _due(last, now):
            if theirs != plan.production:
                report.waiting += 1
            continue
        try:
            if plan.production is None:
                source.delete_alias(plan.mlflow_name, alias)
                report.aliases_removed.append(f"{plan.mlflow_name}@{alias}")
            else:
                source.set_alias(plan.mlflow_name, alias, plan.production)
                report.aliases_set.append(f"{plan.mlflow_name}@{alias} -> {plan.production}")
            written[target] = {"version": plan.production}
            journal["aliases"][alias] = plan.production
            if drifted:
                journal["reverted"][alias] = {"from": theirs, "to": plan.production}
                report.reverted.append(
                    f"{plan.mlflow_name}@{alias}: {theirs} -> {plan.production or 'removed'}"
                )
        except StewardError as exc:
            failures[target] = exc.detail
    for number, mv in sorted(remote.items()):
        link = plan.links.get(number)
        if link is None:
            continue
        if wb.stage_drifted(mv.stage, link.mlflow_stage, Stage(link.stage)):
            _drift(ctx, principal, source, plan, "stage 'Production'", number, report)
            if revert:
                _revert_stage(ctx, principal, source, plan, link, report)
        target = wb.version_target(number)
        last = state.get((plan.mlflow_name, target))
        todo = wb.tags_to_write(plan.tags[number], mv.tags)
        if not todo:
            if last is None or last.written != plan.tags[number]:
                written[target] = plan.tags[number]  # MLflow already shows it
            continue
        if not _due(last, now):
            report.waiting += 1
            continue
        try:
            source.set_version_tags(plan.mlflow_name, number, todo)
            written[target] = plan.tags[number]
            journal["tags"][str(number)] = todo
            report.tags_written.append(f"{plan.mlflow_name} {number}")
        except StewardError as exc:
            failures[target] = exc.detail
    _record(ctx, principal, source, plan, state, written, failures, journal, report)


def _record(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    plan: Plan,
    state: dict[tuple[str, str], WriteBack],
    written: dict[str, dict[str, Any]],
    failures: dict[str, str],
    journal: dict[str, Any],
    report: WriteBackReport,
) -> None:
    """What this pass wrote and what failed, in one transaction with its journal event."""
    if not written and not failures:
        return
    with ctx.uow.write() as uow:
        for target, value in written.items():
            uow.mlflow.wrote(source.id, plan.mlflow_name, target, value, uow.now)
        for target, error in failures.items():
            last = state.get((plan.mlflow_name, target))
            attempts = (last.attempts if last else 0) + 1
            uow.mlflow.write_failed(
                source.id,
                plan.mlflow_name,
                target,
                attempts,
                error,
                wb.next_attempt(attempts, uow.now),
                uow.now,
            )
            report.failed.append(f"{plan.mlflow_name} {target}: {error}")
        if journal["tags"] or journal["aliases"]:
            uow.record(
                principal.name,
                Action.MLFLOW_WRITTEN_BACK,
                "model",
                plan.model,
                {
                    "model": plan.model,
                    "source": source.id,
                    "mlflow_name": plan.mlflow_name,
                    "tags": journal["tags"],
                    "aliases": journal["aliases"],
                },
            )
        for alias, moved in journal["reverted"].items():
            uow.record(
                principal.name,
                Action.MLFLOW_REVERTED,
                "model",
                plan.model,
                {
                    "model": plan.model,
                    "source": source.id,
                    "mlflow_name": plan.mlflow_name,
                    "what": f"alias {alias!r}",
                    **moved,
                },
            )
        uow.commit()


def _drift(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    plan: Plan,
    what: str,
    mlflow_version: int,
    report: WriteBackReport,
) -> None:
    """Open (once) the critical finding for a production move made in MLflow by hand."""
    link = plan.links.get(mlflow_version)
    ref = f"{source.id}|{plan.mlflow_name}|{what}|{mlflow_version}"[:255]
    ours = (
        f"Steward's production version is MLflow version {plan.production}"
        if plan.production is not None
        else "Steward has no version of it in production"
    )
    steward_version = link.version if link else None
    report.drift.append(f"{plan.mlflow_name} {what} -> {mlflow_version}")
    with ctx.uow.write() as uow:
        mid = uow.models.id_of(plan.model)
        if mid is None:
            return
        if any(
            f.source == FINDING_SOURCE and f.source_ref == ref
            for f in uow.findings.open_for_model(mid)
        ):
            return  # opened on an earlier pass, still open
        finding = findings.open_in_uow(
            uow,
            principal.name,
            model_id=mid,
            model=plan.model,
            version=steward_version,
            title=f"MLflow {what} moved outside Steward"[:200],
            description=(
                f"In MLflow ({source.id}), {what} of {plan.mlflow_name!r} points at version "
                f"{mlflow_version}"
                + (f" (Steward {plan.model}/{steward_version})" if steward_version else "")
                + f", which Steward has not put in production; {ours}. Production moves go "
                "through Steward's gates: move it back in MLflow, or take the version through "
                f"`steward approvals request {plan.model} {steward_version or 'VERSION'} --to "
                "production -m …` (STEWARD_MLFLOW_REVERT_ALIASES=true puts such "
                "moves back by itself)."
            ),
            severity="critical",
            source=FINDING_SOURCE,
            source_ref=ref,
            evidence={
                "source": source.id,
                "mlflow_name": plan.mlflow_name,
                "what": what,
                "mlflow_version": mlflow_version,
                "steward_production": plan.production,
            },
            message_key=finding_messages.MLFLOW_MOVED,
            message_params={
                "what": what,
                "source": source.id,
                "mlflow_name": plan.mlflow_name,
                "mlflow_version": mlflow_version,
                "model": plan.model,
                "steward_version": steward_version,
                "production": plan.production,
            },
        )
        uow.record(
            principal.name,
            Action.MLFLOW_DRIFT,
            "model",
            plan.model,
            {
                "model": plan.model,
                "source": source.id,
                "mlflow_name": plan.mlflow_name,
                "what": what,
                "mlflow_version": mlflow_version,
                "steward_production": plan.production,
                "finding_id": finding.id,
                "revert": ctx.settings.mlflow_revert_aliases,
            },
        )
        uow.commit()


def _revert_stage(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    plan: Plan,
    link: VersionLink,
    report: WriteBackReport,
) -> None:
    back = mb.MLFLOW_STAGE_OF[Stage(link.stage)]
    try:
        source.set_stage(plan.mlflow_name, link.mlflow_version, back)
    except StewardError as exc:
        report.failed.append(f"{plan.mlflow_name} {link.mlflow_version} stage: {exc.detail}")
        return
    report.reverted.append(f"{plan.mlflow_name} {link.mlflow_version} stage -> {back}")
    with ctx.uow.write() as uow:
        uow.mlflow.set_version_stage(source.id, plan.mlflow_name, link.mlflow_version, back)
        uow.record(
            principal.name,
            Action.MLFLOW_REVERTED,
            "version",
            f"{plan.model}/{link.version}",
            {
                "model": plan.model,
                "version": link.version,
                "source": source.id,
                "mlflow_name": plan.mlflow_name,
                "mlflow_version": link.mlflow_version,
                "what": "stage",
                "to": back,
            },
        )
        uow.commit()


@dataclass(frozen=True)
class SyncOutcome:
    """One sync in both directions: what came from MLflow, what went back."""

    imported: Any  # mlflow_bridge.ImportSummary
    written: WriteBackReport
    webhook_deliveries: int  # webhook deliveries this sync answered

    @property
    def failed(self) -> list[str]:
        return [*self.imported.failed, *self.written.failed]

    @property
    def summary(self) -> str:
        w = self.written
        text = (
            f"{len(self.imported.versions_imported)} new version(s), "
            f"{len(self.imported.models_created)} new model(s) from MLflow; wrote back "
            f"{len(w.tags_written)} version(s)' tags, {len(w.aliases_set)} alias(es) set, "
            f"{len(w.aliases_removed)} removed"
        )
        if w.drift:
            text += f"; moved outside Steward: {', '.join(w.drift)}"
        if w.reverted:
            text += f"; reverted: {', '.join(w.reverted)}"
        if w.waiting:
            text += f"; {w.waiting} write(s) waiting to be retried"
        if self.webhook_deliveries:
            text += f"; asked by {self.webhook_deliveries} MLflow webhook delivery(ies)"
        return text


def sync_both_ways(
    ctx: Context, principal: Principal, source: MlflowSource, only: list[str] | None = None
) -> SyncOutcome:
    """New MLflow versions in (`mlflow_bridge.sync`), then Steward's decisions out. Takes the
    webhook deliveries waiting for a sync first, so one arriving meanwhile asks again."""
    from steward.services import mlflow_bridge

    with ctx.uow.write() as uow:
        asked = uow.mlflow.take_sync_requests(uow.now)
        uow.commit()
    imported = mlflow_bridge.sync(ctx, principal, source, only=only)
    return SyncOutcome(imported, write_back(ctx, principal, source, only), asked)


@dataclass(frozen=True)
class Pending:
    """A write-back not done yet, for `steward mlflow status`."""

    source: str
    mlflow_name: str
    target: str
    attempts: int
    next_at: datetime | None
    last_error: str | None


def pending(ctx: Context, principal: Principal, source: str | None = None) -> list[Pending]:
    """Write-backs Steward owes MLflow (from its own records: no MLflow call): decisions
    made since the last write, and writes that failed (with their error and next try)."""
    ensure(principal, Permission.VERSION_READ)
    out: list[Pending] = []
    if not ctx.settings.mlflow_write_back:
        return out
    with ctx.uow.read() as uow:
        sources = (
            [source] if source is not None else sorted({m.source for m in uow.mlflow.models()})
        )
        for src in sources:
            state = uow.mlflow.writebacks(src)
            for name, plan in sorted(plans(ctx, uow, src).items()):
                wants: dict[str, dict[str, Any]] = {
                    wb.version_target(n): tags for n, tags in plan.tags.items()
                }
                for alias in ctx.settings.mlflow_production_aliases:
                    wants[wb.alias_target(alias)] = {"version": plan.production}
                for target, value in sorted(wants.items()):
                    last = state.get((name, target))
                    if target.startswith("alias:") and last is None and plan.production is None:
                        continue  # never set, nothing to set
                    if last is not None and last.written == value and not last.attempts:
                        continue
                    out.append(
                        Pending(
                            src,
                            name,
                            target,
                            last.attempts if last else 0,
                            last.next_at if last else None,
                            last.last_error if last else None,
                        )
                    )
    return out


# -- MLflow registry webhooks ------------------------------------------------------------------


def accept_webhook(
    ctx: Context,
    *,
    delivery_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
) -> str:
    """Take one MLflow registry webhook delivery as a request for a sync (the worker runs it
    within seconds). The caller is MLflow, proven by the HMAC signature with the shared
    secret, not by a Steward token; the body is only read for its event's name."""
    secret = ctx.settings.mlflow_webhook_secret
    if not secret:
        raise Forbidden(
            "This Steward takes no MLflow webhooks: its administrator sets "
            "STEWARD_MLFLOW_WEBHOOK_SECRET to the secret given to MLflow's create_webhook "
            "(docs/mlflow.md)."
        )
    with ctx.uow.write() as uow:
        why = wb.verify_webhook(
            secret,
            delivery_id=delivery_id,
            timestamp=timestamp,
            signature=signature,
            body=body,
            now=uow.now.timestamp(),
        )
        if why is not None:
            raise Unauthenticated(f"MLflow webhook delivery refused: {why}.")
        assert delivery_id is not None
        event, name = _event_of(body)
        if not uow.mlflow.request_sync(delivery_id, event, name, uow.now):
            raise Conflict(
                f"MLflow webhook delivery {delivery_id!r} was accepted before; a replay is ignored."
            )
        uow.commit()
    return event


def _event_of(body: bytes) -> tuple[str, str | None]:
    """``entity.action`` and the registered model's name, as plain bounded text."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("An MLflow webhook body is a JSON object.", field="body") from None
    if not isinstance(doc, dict):
        raise InvalidInput("An MLflow webhook body is a JSON object.", field="body")
    event = f"{doc.get('entity', '')}.{doc.get('action', '')}"[:100]
    data = doc.get("data")
    name = data.get("name") if isinstance(data, dict) else None
    return event, name[:256] if isinstance(name, str) else None
