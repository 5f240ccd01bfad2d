"""Findings: raised by people or by Steward itself, worked to resolution, audited throughout.

Other use cases open findings inside their own transaction through
:func:`open_in_uow` (a failed check run, a deploy that loaded a foreign
artifact, a monitoring alert, an adverse periodic review), so the finding exists
exactly when the change that caused it does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from steward.domain import finding_messages
from steward.domain import findings as rules
from steward.domain.audit import Action, canonical_json
from steward.domain.datasets import DataFinding
from steward.domain.entities import Page
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.findings import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Finding,
    FindingComment,
    FindingStatus,
)
from steward.domain.permissions import Permission, Principal, authorize, ensure
from steward.services.access import ensure_model
from steward.services.context import Context, model_id
from steward.store.findings_repo import FindingFilter
from steward.store.uow import UnitOfWork

MAX_PAGE = 1000
# A data finding's status ("open", "resolved") as the model findings' statuses it stands
# with in a status filter: an open one is active, a resolved one closed.
DATA_STATUS: dict[str, set[str]] = {
    "open": {FindingStatus.OPEN.value},
    "resolved": {FindingStatus.RESOLVED.value},
}
# `finding list --status ...`: the groups besides the exact statuses.
STATUS_GROUPS: dict[str, tuple[str, ...] | None] = {
    "active": tuple(sorted(s.value for s in OPEN_STATUSES)),
    "closed": tuple(sorted(s.value for s in CLOSED_STATUSES)),
    "all": None,
}


def _subject(model: str, finding_id: int) -> str:
    return f"{model}/findings/{finding_id}"


def _evidence(evidence: dict[str, Any] | None) -> dict[str, Any]:
    if evidence is None:
        return {}
    if not isinstance(evidence, dict):
        raise InvalidInput("Evidence must be a JSON object (a mapping).", field="evidence")
    try:
        text = canonical_json(evidence)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"Evidence must be plain JSON (text, numbers, lists, objects): {exc}.",
            field="evidence",
        ) from None
    if len(text) > 100_000:
        raise InvalidInput(
            "Evidence is larger than 100 kB; store large material as an artifact and "
            "reference it by id.",
            field="evidence",
        )
    return evidence


def _version_id(uow: UnitOfWork, mid: int, model: str, version: int | None) -> int | None:
    if version is None:
        return None
    row = uow.versions.row(mid, version)
    if row is None:
        raise NotFound(
            f"Model {model!r} has no version {version}. "
            f"List its versions with `steward version list {model}`.",
            model=model,
            version=version,
        )
    return int(row["id"])


def _message(key: str | None, params: dict[str, Any] | None) -> dict[str, Any]:
    if key is None:
        return {}
    if key not in finding_messages.KEYS:
        raise InvalidInput(f"Unknown finding message key {key!r}.", field="message_key")
    return {"message_key": key, "message_params": _evidence(params or {})}


def open_in_uow(
    uow: UnitOfWork,
    actor: str,
    *,
    model_id: int,
    model: str,
    version: int | None,
    title: str,
    description: str,
    severity: str,
    source: str,
    source_ref: str | None,
    evidence: dict[str, Any],
    owner: str | None = None,
    due_date: date | None = None,
    scope: str | None = None,
    message_key: str | None = None,
    message_params: dict[str, Any] | None = None,
) -> Finding:
    """Open a finding inside the caller's transaction, audited ``finding.opened``.

    Steward's own findings pass ``message_key`` and ``message_params``
    (:mod:`steward.domain.finding_messages`) beside the English title and description.

    An automatic finding whose ``(source, source_ref)`` matches a finding of the same
    model that is still open is not opened twice: that finding is returned as it is.
    """
    level = rules.parse_severity(severity)
    values = {
        "title": rules.title(title),
        "description": rules.text_field(description, "description"),
        "source": rules.source(source),
        "scope": rules.scope(scope, version=version, source=source),
    }
    if source_ref is not None and (not source_ref.strip() or len(source_ref) > 255):
        raise InvalidInput("source_ref must be 1-255 characters when given.", field="source_ref")
    if source_ref is not None:
        for existing in uow.findings.open_for_model(model_id):
            if existing.source == source and existing.source_ref == source_ref:
                return existing
    vid = _version_id(uow, model_id, model, version)
    model_row = uow.models.row(model)
    if model_row is None or int(model_row["id"]) != model_id:
        raise NotFound(f"Model {model!r} does not exist (id {model_id}).", model=model)
    today = uow.now.date()
    if due_date is not None and due_date < today:
        raise InvalidInput(
            f"Due date {due_date} is in the past; give today or a later date.", field="due_date"
        )
    who = (owner or "").strip() or str(model_row["owner"]) or actor
    if len(who) > 200:
        raise InvalidInput("An owner name has at most 200 characters.", field="owner")
    due = due_date or rules.default_due(level, today)
    finding_id = uow.findings.insert(
        {
            **values,
            "model_id": model_id,
            "version_id": vid,
            "severity": level.value,
            "status": FindingStatus.OPEN.value,
            "source_ref": source_ref,
            "owner": who,
            "due_date": due,
            "evidence": _evidence(evidence),
            "opened_by": actor,
            "opened_at": uow.now,
            "updated_at": uow.now,
            **_message(message_key, message_params),
        }
    )
    uow.record(
        actor,
        Action.FINDING_OPENED,
        "finding",
        _subject(model, finding_id),
        {
            "id": finding_id,
            "model": model,
            "version": version,
            "title": values["title"],
            "severity": level.value,
            "source": values["source"],
            "source_ref": source_ref,
            "scope": values["scope"],
            "owner": who,
            "due_date": due.isoformat(),
            "evidence": evidence or {},
        },
    )
    found = uow.findings.get(finding_id)
    assert found is not None
    return found


def open_finding(
    ctx: Context,
    principal: Principal,
    model: str,
    *,
    title: str,
    severity: str,
    description: str = "",
    version: int | None = None,
    owner: str | None = None,
    due_date: date | None = None,
    source: str = "manual",
    source_ref: str | None = None,
    evidence: dict[str, Any] | None = None,
    scope: str | None = None,
) -> Finding:
    """A person raises a finding on a model (or one of its versions).

    ``scope`` is ``version`` (the default when a version is given) or ``model`` (the default
    otherwise): a model-scope finding blocks the gates of every version of the model.
    """
    ensure(principal, Permission.FINDING_WRITE)
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        ensure_model(uow, principal, Permission.FINDING_WRITE, model)
        found = open_in_uow(
            uow,
            principal.name,
            model_id=mid,
            model=model,
            version=version,
            title=title,
            description=description,
            severity=severity,
            source=source,
            source_ref=source_ref,
            evidence=_evidence(evidence),
            owner=owner,
            due_date=due_date,
            scope=scope,
        )
        uow.commit()
    return found


def _get(uow: UnitOfWork, finding_id: int) -> Finding:
    found = uow.findings.get(finding_id)
    if found is None:
        raise NotFound(
            f"No finding with id {finding_id}. List them with `steward finding list`.",
            finding=finding_id,
        )
    return found


def get_finding(ctx: Context, principal: Principal, finding_id: int) -> Finding:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return _get(uow, finding_id)


def _status_filter(status: str | None) -> tuple[str, ...] | None:
    key = (status or "active").strip().lower()
    if key in STATUS_GROUPS:
        return STATUS_GROUPS[key]
    try:
        return (rules.parse_status(key).value,)
    except InvalidInput:
        raise InvalidInput(
            f"Unknown status filter {status!r}; use active (open or in remediation, the "
            f"default), closed, all, or one of: {', '.join(s.value for s in FindingStatus)}.",
            field="status",
        ) from None


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise InvalidInput(
            "Invalid cursor: pass the next_cursor value from the previous page unchanged.",
            field="cursor",
        )
    return int(cursor)


def _recall_prefix(dataset: str) -> str:
    from steward.domain import datasets

    if "@" in dataset:
        name, version = datasets.parse_ref(dataset)
        return f"{name}@{version}/"
    return f"{datasets.dataset_name(dataset)}@"


def list_findings(
    ctx: Context,
    principal: Principal,
    *,
    model: str | None = None,
    version: int | None = None,
    status: str | None = None,
    severity_at_least: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    dataset: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Finding]:
    """Findings oldest first; by default only active ones (open or in remediation).

    ``dataset`` (``NAME`` or ``NAME@V``): the findings a data recall of that dataset (or
    that version of it) opened on model versions."""
    ensure(principal, Permission.GOVERNANCE_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    if version is not None and model is None:
        raise InvalidInput("A version filter needs the model too (--model).", field="version")
    statuses = _status_filter(status)
    recalled = _recall_prefix(dataset) if dataset else None
    level = rules.parse_severity(severity_at_least) if severity_at_least else None
    after = _cursor(cursor)
    with ctx.uow.read() as uow:
        mid = model_id(uow, model) if model is not None else None
        vid = _version_id(uow, mid, model, version) if mid is not None and model else None
        items = uow.findings.search(
            FindingFilter(
                model_id=mid,
                version_id=vid,
                status=statuses,
                severity_at_least=level,
                owner=owner,
                source="dataset" if recalled else source,
                source_ref_prefix=recalled,
                after_id=after,
            ),
            limit + 1,
        )
    more = len(items) > limit
    items = items[:limit]
    return Page(items, str(items[-1].id) if more else None)


def list_data_findings(
    ctx: Context,
    principal: Principal,
    *,
    dataset: str | None = None,
    status: str | None = None,
    severity_at_least: str | None = None,
    limit: int = 100,
) -> list[DataFinding]:
    """Data findings — failed quality rules of a dataset version (docs/datasets.md) — of
    every dataset or of ``dataset`` (``NAME`` or ``NAME@V``), newest first. ``status`` as
    for :func:`list_findings`: active/open (the default) are open ones, closed/resolved the
    resolved ones, all both; a data finding is never in remediation or accepted."""
    from steward.domain import datasets as data_rules
    from steward.services.datasets import dataset_row

    ensure(principal, Permission.GOVERNANCE_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    wanted = _status_filter(status)  # the same vocabulary and errors as model findings
    statuses = [s for s in ("open", "resolved") if wanted is None or DATA_STATUS[s] & set(wanted)]
    level = rules.parse_severity(severity_at_least) if severity_at_least else None
    severities = (
        None if level is None else [s.value for s in rules.Severity if s.rank >= level.rank]
    )
    name, version = (None, None)
    if dataset:
        if "@" in dataset:
            name, version = data_rules.parse_ref(dataset)
        else:
            name = data_rules.dataset_name(dataset)
    with ctx.uow.read() as uow:
        dataset_id = int(dataset_row(uow, name)["id"]) if name else None
        if not statuses:
            return []
        return uow.datasets.search_findings(
            dataset_id=dataset_id,
            version=version,
            statuses=statuses,
            severities=severities,
            limit=limit,
        )


def update_finding(
    ctx: Context,
    principal: Principal,
    finding_id: int,
    *,
    status: str | None = None,
    severity: str | None = None,
    owner: str | None = None,
    due_date: date | None = None,
    note: str | None = None,
) -> Finding:
    """Move a finding along its status flow, or change its severity, owner or due date.

    Accepting a finding's risk is a risk decision: it needs ``waiver:grant`` (a risk
    officer) besides ``finding:write``.
    """
    ensure(principal, Permission.FINDING_WRITE)
    with ctx.uow.read() as uow:  # whose finding it is comes before what the caller sent
        ensure_model(uow, principal, Permission.FINDING_WRITE, _get(uow, finding_id).model)
    if status is None and severity is None and owner is None and due_date is None:
        raise InvalidInput(
            "Nothing to update: give a status, severity, owner or due date.", field="status"
        )
    target = rules.parse_status(status) if status is not None else None
    level = rules.parse_severity(severity) if severity is not None else None
    if target is FindingStatus.ACCEPTED:
        decision = authorize(principal, Permission.WAIVER_GRANT)
        if not decision.allowed:
            raise Forbidden(
                "Accepting a finding's risk is a risk officer's decision (waiver:grant): "
                f"{decision.reason}",
                permission=Permission.WAIVER_GRANT.value,
            )
    text = rules.text_field(note, "note")
    with ctx.uow.write() as uow:
        if uow.findings.model_id_of(finding_id) is None:
            _get(uow, finding_id)
        uow.findings.lock(finding_id)
        current = _get(uow, finding_id)
        ensure_model(uow, principal, Permission.FINDING_WRITE, current.model)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        values: dict[str, Any] = {}
        if target is not None:
            rules.ensure_move(current, target, text)
            before["status"], after["status"] = current.status.value, target.value
            values["status"] = target.value
            if target in CLOSED_STATUSES:
                values |= {"resolution": text, "closed_by": principal.name, "closed_at": uow.now}
            else:
                values |= {"resolution": None, "closed_by": None, "closed_at": None}
        if level is not None and level != current.severity:
            before["severity"], after["severity"] = current.severity.value, level.value
            values["severity"] = level.value
        if owner is not None and owner.strip() != current.owner:
            new_owner = owner.strip()
            if not new_owner or len(new_owner) > 200:
                raise InvalidInput("An owner is a user name of 1-200 characters.", field="owner")
            before["owner"], after["owner"] = current.owner, new_owner
            values["owner"] = new_owner
        if due_date is not None and due_date != current.due_date:
            if due_date < uow.now.date():
                raise InvalidInput(
                    f"Due date {due_date} is in the past; give today or a later date.",
                    field="due_date",
                )
            before["due_date"] = current.due_date.isoformat() if current.due_date else None
            after["due_date"] = due_date.isoformat()
            values["due_date"] = due_date
        if not after:
            return current
        uow.findings.update(finding_id, {**values, "updated_at": uow.now})
        uow.record(
            principal.name,
            Action.FINDING_UPDATED,
            "finding",
            _subject(current.model, finding_id),
            {
                "id": finding_id,
                "model": current.model,
                "before": before,
                "after": after,
                "note": text or None,
            },
        )
        updated = _get(uow, finding_id)
        uow.commit()
    return updated


def comment_finding(
    ctx: Context, principal: Principal, finding_id: int, body: str
) -> FindingComment:
    ensure(principal, Permission.FINDING_WRITE)
    with ctx.uow.read() as uow:  # whose finding it is comes before what the caller sent
        ensure_model(uow, principal, Permission.FINDING_WRITE, _get(uow, finding_id).model)
    text = rules.text_field(body, "comment", required=True)
    with ctx.uow.write() as uow:
        current = _get(uow, finding_id)
        ensure_model(uow, principal, Permission.FINDING_WRITE, current.model)
        comment_id = uow.findings.add_comment(finding_id, principal.name, text, uow.now)
        uow.record(
            principal.name,
            Action.FINDING_COMMENTED,
            "finding",
            _subject(current.model, finding_id),
            {"id": finding_id, "model": current.model, "comment": comment_id, "body": text},
        )
        comments = uow.findings.comments(finding_id)
        uow.commit()
    return next(c for c in comments if c.id == comment_id)


def finding_comments(ctx: Context, principal: Principal, finding_id: int) -> list[FindingComment]:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        _get(uow, finding_id)
        return uow.findings.comments(finding_id)
