"""Dataset inventory use cases: register, update (audited field by field), get, list;
data approvals; lineage and impact (docs/datasets.md).

Whose dataset it is — its owner and steward team — is judged by the same pure rule as a
model's (``authorize_on``): an owner works on the datasets they own or their team stewards;
a data steward and an admin on every dataset. Reading the data inventory is a governance
record (``governance:read``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from steward.domain import datasets as rules
from steward.domain.audit import Action
from steward.domain.connections import check_spec_kind
from steward.domain.datasets import (
    DataFinding,
    DataLineage,
    Dataset,
    DatasetSnapshot,
    Impact,
    Quality,
    RuleSet,
)
from steward.domain.entities import DatasetVersion, Page
from steward.domain.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from steward.domain.gate import DataFact
from steward.domain.identity import team_name
from steward.domain.permissions import ModelScope, Permission, Principal, ensure, ensure_on
from steward.services.context import Context, version_row_id
from steward.services.models import check_limit, decode_cursor, encode_cursor
from steward.store.uow import UnitOfWork


def not_found(name: str) -> NotFound:
    return NotFound(
        f"Dataset {name!r} does not exist. List datasets with `steward dataset list`.",
        dataset=name,
    )


def dataset_row(uow: UnitOfWork, name: str) -> Any:
    row = uow.datasets.row(name)
    if row is None:
        raise not_found(name)
    return row


def scope_of(row: Any) -> ModelScope:
    """Whose dataset it is, in the shape the object-level rule judges."""
    return ModelScope(name=row["name"], owner=row["owner"] or "", team=row["steward_team"] or "")


def ensure_dataset(uow: UnitOfWork, principal: Principal, permission: Permission, name: str) -> Any:
    row = dataset_row(uow, name)
    ensure_on(principal, permission, scope_of(row))
    return row


def check_first(ctx: Context, principal: Principal, permission: Permission, name: str) -> None:
    """The object before the input: 403/404, never 422, to whoever may not act on it."""
    ensure(principal, permission)
    with ctx.uow.read() as uow:
        ensure_dataset(uow, principal, permission, name)


def _jsonable(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def check_source(ctx: Context, principal: Principal, text: str) -> None:
    """A source a remote caller records must be a connection or s3:// (never a server
    path); a named connection must exist and be open to the caller."""
    source = rules.parse_source(text)
    if ctx.remote:
        rules.check_remote_source(source)
    if source.connection is not None:
        from steward.services import connections

        found = connections.usable(ctx, principal, source.connection.connection)
        check_spec_kind(source.connection, found.kind)


def _check_team(uow: UnitOfWork, team: str) -> None:
    if team and uow.teams.missing([team]):
        raise NotFound(f"No team {team!r}. List teams with `steward team list`.", team=team)


def create_dataset(ctx: Context, principal: Principal, name: str, **fields: Any) -> Dataset:
    ensure(principal, Permission.DATASET_WRITE)
    rules.dataset_name(name)
    values = rules.dataset_fields(fields)
    values.setdefault("owner", principal.name)
    if values.get("steward_team"):
        values["steward_team"] = team_name(values["steward_team"])
    # Registering into someone else's scope is for a data steward or an admin.
    ensure_on(
        principal,
        Permission.DATASET_WRITE,
        ModelScope(name, str(values["owner"]), str(values.get("steward_team") or "")),
    )
    if values.get("source"):
        check_source(ctx, principal, values["source"])
    tags = values.pop("tags", [])
    with ctx.uow.write() as uow:
        if uow.datasets.row(name) is not None:
            raise AlreadyExists(f"A dataset named {name!r} already exists.", dataset=name)
        _check_team(uow, str(values.get("steward_team") or ""))
        row = {
            "title": "",
            "description": "",
            "steward_team": "",
            "source": "",
            "classification": rules.Classification.INTERNAL,
            "legal_basis": "",
            "consent_ref": "",
            "retention": "",
            "licence": "",
            "status": rules.DatasetStatus.ACTIVE,
            **values,
        }
        stored = {k: _jsonable(v) for k, v in row.items()}
        uow.datasets.insert(
            {
                **stored,
                "name": name,
                "latest_version": 0,
                "created_at": uow.now,
                "created_by": principal.name,
                "updated_at": uow.now,
            },
            tags,
        )
        uow.record(
            principal.name,
            Action.DATASET_CREATED,
            "dataset",
            name,
            {"after": stored | {"tags": tags}},
        )
        found = uow.datasets.get(name)
        uow.commit()
    assert found is not None
    return found


def update_dataset(ctx: Context, principal: Principal, name: str, **fields: Any) -> Dataset:
    check_first(ctx, principal, Permission.DATASET_WRITE, name)
    if not fields:
        raise InvalidInput("Nothing to update: give at least one field to change.")
    values = rules.dataset_fields(fields)
    if values.get("steward_team"):
        values["steward_team"] = team_name(values["steward_team"])
    if values.get("source"):
        check_source(ctx, principal, values["source"])
    with ctx.uow.write() as uow:
        row = ensure_dataset(uow, principal, Permission.DATASET_WRITE, name)
        uow.datasets.lock(row["id"])
        current = uow.datasets.get(name)
        assert current is not None
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for key, value in values.items():
            old = getattr(current, key)
            if old != value:
                before[key], after[key] = _jsonable(old), _jsonable(value)
        if not after:
            return current
        if {"owner", "steward_team"} & set(after):
            # Handing a dataset over must not put it out of the caller's own reach unless
            # their role works on every dataset (a data steward, an admin).
            ensure_on(
                principal,
                Permission.DATASET_WRITE,
                ModelScope(
                    name,
                    str(values.get("owner", current.owner)),
                    str(values.get("steward_team", current.steward_team)),
                ),
            )
            _check_team(uow, str(values.get("steward_team") or ""))
        if "tags" in after:
            uow.datasets.set_tags(row["id"], values["tags"])
        changes = {k: _jsonable(v) for k, v in values.items() if k in after and k != "tags"}
        uow.datasets.update(row["id"], {**changes, "updated_at": uow.now})
        uow.record(
            principal.name,
            Action.DATASET_UPDATED,
            "dataset",
            name,
            {"before": before, "after": after, "fields": sorted(after)},
        )
        found = uow.datasets.get(name)
        uow.commit()
    assert found is not None
    return found


def get_dataset(ctx: Context, principal: Principal, name: str) -> Dataset:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found = uow.datasets.get(name)
    if found is None:
        raise not_found(name)
    return found


def list_datasets(
    ctx: Context,
    principal: Principal,
    *,
    owner: str | None = None,
    steward_team: str | None = None,
    classification: str | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Dataset]:
    ensure(principal, Permission.GOVERNANCE_READ)
    check_limit(limit)
    checked = rules.dataset_fields(
        {k: v for k, v in {"classification": classification, "status": status}.items() if v}
    )
    with ctx.uow.read() as uow:
        items = uow.datasets.search(
            owner=owner or None,
            steward_team=steward_team or None,
            classification=_jsonable(checked.get("classification")),
            status=_jsonable(checked.get("status")),
            after_name=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1].name) if more else None)


def versions(ctx: Context, principal: Principal, name: str) -> list[DatasetSnapshot]:
    """A dataset's versions, newest first, with their rule results and approvals."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        row = dataset_row(uow, name)
        return uow.datasets.snapshots(row["id"], details=False)


def get_version(ctx: Context, principal: Principal, ref: str) -> DatasetSnapshot:
    ensure(principal, Permission.GOVERNANCE_READ)
    name, version = rules.parse_ref(ref)
    with ctx.uow.read() as uow:
        row = dataset_row(uow, name)
        found = uow.datasets.snapshots(row["id"], version)
    if not found:
        raise NotFound(
            f"Dataset {name!r} has no version {version}; it has {row['latest_version']} "
            f"(`steward dataset show {name}`).",
            dataset=name,
        )
    return found[0]


def rule_sets(ctx: Context, principal: Principal, name: str) -> list[RuleSet]:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        row = dataset_row(uow, name)
        return uow.datasets.rules(row["id"], name)


def findings(ctx: Context, principal: Principal, name: str) -> list[DataFinding]:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        row = dataset_row(uow, name)
        return uow.datasets.findings(row["id"], name)


# -- approvals ---------------------------------------------------------------------------


def approve(ctx: Context, principal: Principal, ref: str, comment: str = "") -> DatasetSnapshot:
    """A data steward approves a dataset version for use; never its owner (segregation of
    duties), never a version whose quality rules failed."""
    ensure(principal, Permission.DATASET_APPROVE)
    name, version = rules.parse_ref(ref)
    comment = (comment or "").strip()
    if len(comment) > rules.MAX_TEXT:
        raise InvalidInput(f"A comment has at most {rules.MAX_TEXT} characters.", field="comment")
    with ctx.uow.write() as uow:
        row = dataset_row(uow, name)
        uow.datasets.lock(row["id"])
        snapshot_id = uow.datasets.snapshot_id(row["id"], version)
        if snapshot_id is None:
            raise NotFound(f"Dataset {name!r} has no version {version}.", dataset=name)
        if principal.name == row["owner"]:
            raise Forbidden(
                f"{principal.name} owns {name!r} and may not approve its versions: segregation "
                "of duties needs a data steward who is not the owner.",
                permission=Permission.DATASET_APPROVE.value,
                dataset=name,
            )
        current = uow.datasets.snapshots(row["id"], version, details=False)[0]
        if current.quality is Quality.FAILED:
            failing = ", ".join(r.rule for r in current.results if not r.passed)
            raise Conflict(
                f"{name}@{version} failed its quality rules ({failing}); fix the data and "
                f"snapshot again (`steward dataset snapshot {name}`) before approving.",
                dataset=name,
            )
        if uow.datasets.has_approval(snapshot_id, principal.name):
            raise Conflict(f"{principal.name} has already approved {name}@{version}.")
        roles = sorted(principal.roles)
        uow.datasets.insert_approval(
            {
                "snapshot_id": snapshot_id,
                "approver": principal.name,
                "comment": comment,
                "roles": roles,
                "at": uow.now,
            }
        )
        uow.record(
            principal.name,
            Action.DATASET_APPROVED,
            "dataset",
            f"{name}@{version}",
            {"fingerprint": current.fingerprint, "comment": comment, "roles": roles},
        )
        found = uow.datasets.snapshots(row["id"], version)[0]
        uow.commit()
    return found


# -- lineage and impact ------------------------------------------------------------------


def impact(ctx: Context, principal: Principal, ref: str) -> Impact:
    """Model versions trained or evaluated on this dataset version, and their deployments."""
    ensure(principal, Permission.GOVERNANCE_READ)
    name, version = rules.parse_ref(ref)
    with ctx.uow.read() as uow:
        return impact_in_uow(uow, name, version)


def impact_in_uow(uow: UnitOfWork, name: str, version: int, *, lock: bool = False) -> Impact:
    row = dataset_row(uow, name)
    if lock:
        uow.datasets.lock(row["id"])
    content = uow.datasets.content_of_snapshot(row["id"], version)
    if content is None:
        raise NotFound(f"Dataset {name!r} has no version {version}.", dataset=name)
    return Impact(
        name, version, uow.datasets.fingerprint_of(content), uow.datasets.built_on(content)
    )


def gate_facts(uow: UnitOfWork, version_row: Any) -> list[DataFact]:
    """What the data requirements of a gate judge: per recorded dataset of the version, the
    registered dataset versions sharing its fingerprint, which passed, which are approved."""
    roles = [
        (role, version_row[key])
        for role, key in (
            ("training", "training_dataset_id"),
            ("evaluation", "evaluation_dataset_id"),
        )
        if version_row[key] is not None
    ]
    found = uow.datasets.registered([content for _, content in roles])
    out = []
    for role, content in roles:
        snaps = found.get(content, [])
        out.append(
            DataFact(
                role=role,
                fingerprint=uow.datasets.fingerprint_of(content),
                registered=tuple(s.ref for s in snaps),
                passed=tuple(s.ref for s in snaps if s.quality is Quality.PASSED),
                approved=tuple(s.ref for s in snaps if s.approvals),
            )
        )
    return out


def lineage_in_uow(uow: UnitOfWork, model: str, version: int) -> DataLineage:
    _, vid = version_row_id(uow, model, version)
    row = uow.versions.row_by_id(vid)
    ids = [row["training_dataset_id"], row["evaluation_dataset_id"]]
    found = uow.datasets.registered([i for i in ids if i is not None])
    prints = {i: uow.datasets.fingerprint_of(i) for i in ids if i is not None}

    def refs(content: int | None) -> list[str]:
        return [] if content is None else [s.ref for s in found.get(content, [])]

    return DataLineage(
        model=model,
        version=version,
        training=refs(ids[0]),
        evaluation=refs(ids[1]),
        training_fingerprint=prints.get(ids[0]) if ids[0] is not None else None,
        evaluation_fingerprint=prints.get(ids[1]) if ids[1] is not None else None,
    )


def lineage(ctx: Context, principal: Principal, model: str, version: int) -> DataLineage:
    """The registered dataset versions a model version was trained and evaluated on."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return lineage_in_uow(uow, model, version)


def version_choices(ctx: Context, principal: Principal, limit: int = 100) -> list[DatasetSnapshot]:
    """Registered dataset versions a new model version may name as its data (the web form's
    choices): every version of the first ``limit`` datasets by name, newest first."""
    ensure(principal, Permission.GOVERNANCE_READ)
    check_limit(limit)
    out: list[DatasetSnapshot] = []
    with ctx.uow.read() as uow:
        for found in uow.datasets.search(
            owner=None,
            steward_team=None,
            classification=None,
            status=None,
            after_name=None,
            limit=limit,
        ):
            out.extend(uow.datasets.snapshots(dataset_row(uow, found.name)["id"], details=False))
    return out


def as_version_data(ctx: Context, principal: Principal, ref: str) -> DatasetVersion:
    """A registered dataset version as a model version's training or evaluation data: the
    same fingerprint, so the version's lineage and the gate's data requirements find it."""
    snap = get_version(ctx, principal, ref)
    return DatasetVersion(
        fingerprint=snap.fingerprint,
        name=snap.dataset,
        uri=None,
        rows=snap.rows,
        columns=snap.columns,
        schema=list(snap.schema),
        profile=dict(snap.profile),
        created_at=snap.created_at,
    )
