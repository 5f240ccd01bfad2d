"""Model versions, their tags, aliases, transitions and dataset versions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, RowMapping
from sqlalchemy.exc import IntegrityError

from steward.domain.entities import (
    Artifact,
    CodeRef,
    ColumnSpec,
    DatasetVersion,
    Flavor,
    ModelVersion,
    Signature,
    Transition,
)
from steward.domain.lifecycle import Stage
from steward.store import tables as t

_v = t.model_versions.c
# Built once: constructing statements per call cost more than running them.
_INSERT_VERSION = insert(t.model_versions)
_INSERT_TAG = insert(t.version_tags)
_VERSION_OF_MODEL = select(t.model_versions).join(t.models, t.models.c.id == _v.model_id)
_BY_NUMBER = _VERSION_OF_MODEL.where(
    t.models.c.name == bindparam("model"), _v.version == bindparam("version")
)
_BY_ALIAS = _VERSION_OF_MODEL.join(t.aliases, t.aliases.c.version_id == _v.id).where(
    t.models.c.name == bindparam("model"), t.aliases.c.alias == bindparam("alias")
)
# Built once (the hot lookups of every lifecycle write); building per call cost more
# than SQLite's own work.
_ROW = select(t.model_versions).where(
    _v.model_id == bindparam("model_id"), _v.version == bindparam("version")
)
_ROW_BY_ID = select(t.model_versions).where(_v.id == bindparam("id"))
_a = t.aliases.c
_ALIAS_TARGET = select(_a.version_id).where(
    _a.model_id == bindparam("model_id"), _a.alias == bindparam("alias")
)
# The SET values come from the parameters' column names (version_id, updated_at).
_MOVE_ALIAS = update(t.aliases).where(
    _a.model_id == bindparam("b_model_id"), _a.alias == bindparam("b_alias")
)
_INSERT_ALIAS = insert(t.aliases)
_NAMES = select(t.models.c.id, t.models.c.name).where(
    t.models.c.id.in_(bindparam("ids", expanding=True))
)
# A page's tags and aliases in one statement: ("t", key, value) and ("a", alias, NULL) rows.
_LABELS_OF = union_all(
    select(
        t.version_tags.c.version_id,
        literal("t").label("kind"),
        t.version_tags.c.key.label("name"),
        t.version_tags.c.value,
    ).where(t.version_tags.c.version_id.in_(bindparam("ids", expanding=True))),
    select(
        t.aliases.c.version_id,
        literal("a"),
        t.aliases.c.alias,
        literal(None, String),
    ).where(t.aliases.c.version_id.in_(bindparam("ids", expanding=True))),
).order_by("kind", "name")
# Above this many carriers a tag filter walks versions instead of the tag index.
_DENSE_TAG = 2000
_d = t.dataset_versions.c
# First key of the two-key advisory locks on blobs (a key space apart from one-key locks).
_ARTIFACT_LOCK_NAMESPACE = 0x53_54_57_41


@dataclass(frozen=True)
class VersionFilter:
    model_id: int | None = None
    stage: str | None = None
    tag_key: str | None = None
    tag_value: str | None = None
    before_id: int | None = None


def _columns(items: list[dict[str, str]]) -> list[ColumnSpec]:
    return [ColumnSpec(name=c["name"], type=c["type"]) for c in items]


def to_dataset(row: RowMapping) -> DatasetVersion:
    return DatasetVersion(
        fingerprint=row["fingerprint"],
        name=row["name"],
        uri=row["uri"],
        rows=row["rows"],
        columns=row["columns"],
        schema=_columns(row["schema"]),
        profile=row["profile"],
        created_at=row["created_at"],
    )


def signature_json(sig: Signature | None) -> dict[str, Any] | None:
    if sig is None:
        return None
    return {
        "inputs": [{"name": c.name, "type": c.type} for c in sig.inputs],
        "outputs": [{"name": c.name, "type": c.type} for c in sig.outputs],
    }


def code_json(code: CodeRef | None) -> dict[str, Any] | None:
    if code is None:
        return None
    return {
        "repo_url": code.repo_url,
        "commit": code.commit,
        "branch": code.branch,
        "path": code.path,
        "dirty": code.dirty,
    }


class VersionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- datasets ---------------------------------------------------------
    def _dataset_id(self, fingerprint: str) -> int | None:
        found = self.conn.execute(
            select(_d.id).where(_d.fingerprint == fingerprint)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def upsert_dataset(self, ds: DatasetVersion, now: datetime) -> int:
        found = self._dataset_id(ds.fingerprint)
        if found is not None:
            return found
        values = {
            "fingerprint": ds.fingerprint,
            "name": ds.name,
            "uri": ds.uri,
            "rows": ds.rows,
            "columns": ds.columns,
            "schema": [{"name": c.name, "type": c.type} for c in ds.schema],
            "profile": ds.profile,
            "created_at": now,
        }
        try:
            # A concurrent transaction may insert the same fingerprint first (PostgreSQL):
            # the savepoint keeps our transaction usable, and we use its row.
            with self.conn.begin_nested():
                return new_id(self.conn.execute(insert(t.dataset_versions).values(**values)))
        except IntegrityError:
            found = self._dataset_id(ds.fingerprint)
            if found is None:
                raise
            return found

    # -- versions -----------------------------------------------------------
    def insert(self, values: dict[str, Any], tags: dict[str, str]) -> int:
        version_id = new_id(self.conn.execute(_INSERT_VERSION, values))
        if tags:
            self.conn.execute(
                _INSERT_TAG,
                [{"version_id": version_id, "key": k, "value": v} for k, v in tags.items()],
            )
        return version_id

    def set_tag(self, version_id: int, key: str, value: str | None) -> None:
        """Set (or, with None, remove) one tag of an existing version."""
        tags = t.version_tags
        self.conn.execute(delete(tags).where(tags.c.version_id == version_id, tags.c.key == key))
        if value is not None:
            self.conn.execute(_INSERT_TAG, {"version_id": version_id, "key": key, "value": value})

    def row(self, model_id: int, version: int) -> RowMapping | None:
        params = {"model_id": model_id, "version": version}
        return self.conn.execute(_ROW, params).mappings().first()

    def find(
        self, model: str, version: int | None = None, alias: str | None = None
    ) -> ModelVersion | None:
        """One version by model name and number (or alias), in one join plus hydration."""
        if alias is not None:
            found = self.conn.execute(_BY_ALIAS, {"model": model, "alias": alias})
        else:
            found = self.conn.execute(_BY_NUMBER, {"model": model, "version": version})
        row = found.mappings().first()
        return None if row is None else self.hydrate([row], {row["model_id"]: model})[0]

    def row_by_id(self, version_id: int) -> RowMapping:
        return self.conn.execute(_ROW_BY_ID, {"id": version_id}).mappings().one()

    def get(self, model_id: int, version: int) -> ModelVersion | None:
        row = self.row(model_id, version)
        return None if row is None else self.hydrate([row])[0]

    def search(self, f: VersionFilter, limit: int) -> tuple[list[ModelVersion], list[int]]:
        """A page of versions, newest first, with their row ids (the keyset cursor)."""
        query = select(t.model_versions)
        if f.model_id is not None:
            query = query.where(_v.model_id == f.model_id)
        if f.stage:
            query = query.where(_v.stage == f.stage)
        if f.tag_key:
            query = query.where(self._tag_condition(f.tag_key, f.tag_value))
        if f.before_id is not None:
            query = query.where(_v.id < f.before_id)
        rows = self.conn.execute(query.order_by(_v.id.desc()).limit(limit)).mappings().all()
        return self.hydrate(list(rows)), [int(r["id"]) for r in rows]

    def datasets_of(self, rows: Sequence[Mapping[Any, Any]]) -> dict[int, DatasetVersion]:
        dataset_ids = {
            r[k] for r in rows for k in ("training_dataset_id", "evaluation_dataset_id") if r[k]
        }
        if not dataset_ids:
            return {}
        found = self.conn.execute(select(t.dataset_versions).where(_d.id.in_(dataset_ids)))
        return {d["id"]: to_dataset(d) for d in found.mappings()}

    def new_version(self, values: dict[str, Any], model: str, tags: dict[str, str]) -> ModelVersion:
        """The entity of a version just inserted with ``values`` (no read-back needed)."""
        return _to_version(
            values, model, dict(sorted(tags.items())), [], self.datasets_of([values])
        )

    def _tag_condition(self, key: str, value: str | None) -> Any:
        """Pick the plan by how many versions carry the tag (an index-only count).

        A rare tag is fastest driven from the (key, value) index; a tag on most
        versions is fastest by walking versions newest-first and stopping at the page
        size. Either plan alone is slow for the other case (a rare tag scanned every
        version: ~26 ms at 20 k versions).
        """
        tag = t.version_tags.c
        match = [tag.key == key] if value is None else [tag.key == key, tag.value == value]
        carriers = self.conn.execute(
            select(func.count()).select_from(
                select(tag.version_id).where(*match).limit(_DENSE_TAG + 1).subquery()
            )
        ).scalar_one()
        if carriers <= _DENSE_TAG:
            return _v.id.in_(select(tag.version_id).where(*match))
        return exists().where(tag.version_id == _v.id, *match)

    def hydrate(
        self, rows: list[RowMapping], names: dict[int, str] | None = None
    ) -> list[ModelVersion]:
        """Turn rows into entities with a fixed number of queries per page."""
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        if names is None:
            model_ids = sorted({r["model_id"] for r in rows})
            names = dict(self.conn.execute(_NAMES, {"ids": model_ids}).all())
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        labels: dict[int, list[str]] = defaultdict(list)
        for vid, kind, name, value in self.conn.execute(_LABELS_OF, {"ids": ids}):
            if kind == "t":
                tags[vid][name] = value
            else:
                labels[vid].append(name)
        datasets = self.datasets_of(rows)
        return [
            _to_version(
                dict(r),
                names[r["model_id"]],
                tags.get(r["id"], {}),
                labels.get(r["id"], []),
                datasets,
            )
            for r in rows
        ]

    def amend(self, version_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.model_versions).where(_v.id == version_id).values(**values))

    def set_stage(self, version_id: int, stage: Stage, now: datetime) -> None:
        self.conn.execute(
            update(t.model_versions)
            .where(_v.id == version_id)
            .values(stage=stage.value, stage_changed_at=now)
        )

    def ids_in_stage(self, model_id: int, stage: Stage) -> list[tuple[int, int]]:
        rows = self.conn.execute(
            select(_v.id, _v.version)
            .where(_v.model_id == model_id, _v.stage == stage.value)
            .order_by(_v.version)
        ).all()
        return [(int(a), int(b)) for a, b in rows]

    def lock_artifact(self, sha256: str) -> None:
        """Serialise recording and discarding one blob until the transaction ends.

        PostgreSQL takes a transaction-scoped advisory lock per digest; SQLite writers
        already hold the database's write lock (BEGIN IMMEDIATE).
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:key AS integer))"),
                {"ns": _ARTIFACT_LOCK_NAMESPACE, "key": int(sha256[:8], 16) - 2**31},
            )

    def artifact_in_use(self, sha256: str) -> bool:
        return (
            self.conn.execute(select(_v.id).where(_v.artifact_sha256 == sha256).limit(1)).first()
            is not None
        )

    # -- transitions ----------------------------------------------------------
    def add_transition(self, version_id: int, tr: Transition) -> None:
        self.conn.execute(
            insert(t.transitions).values(
                version_id=version_id,
                from_stage=tr.from_stage.value,
                to_stage=tr.to_stage.value,
                actor=tr.actor,
                justification=tr.justification,
                caused_by=tr.caused_by,
                at=tr.at,
                audit_seq=tr.audit_seq,
            )
        )

    def transitions(self, version_id: int, model: str, version: int) -> list[Transition]:
        tc = t.transitions.c
        rows = self.conn.execute(
            select(t.transitions).where(tc.version_id == version_id).order_by(tc.id)
        ).mappings()
        return [
            Transition(
                model,
                version,
                Stage(r["from_stage"]),
                Stage(r["to_stage"]),
                r["actor"],
                r["justification"],
                r["at"],
                r["audit_seq"],
                r["caused_by"],
            )
            for r in rows
        ]

    # -- aliases ----------------------------------------------------------------
    def alias_target(self, model_id: int, alias: str) -> int | None:
        params = {"model_id": model_id, "alias": alias}
        found = self.conn.execute(_ALIAS_TARGET, params).scalar_one_or_none()
        return None if found is None else int(found)

    def set_alias(self, model_id: int, alias: str, version_id: int, now: datetime) -> None:
        values = {"version_id": version_id, "updated_at": now}
        moved = self.conn.execute(_MOVE_ALIAS, {"b_model_id": model_id, "b_alias": alias, **values})
        if not moved.rowcount:
            self.conn.execute(_INSERT_ALIAS, {"model_id": model_id, "alias": alias, **values})

    def delete_alias(self, model_id: int, alias: str) -> None:
        self.conn.execute(
            delete(t.aliases).where(t.aliases.c.model_id == model_id, t.aliases.c.alias == alias)
        )

    def aliases(self, model_id: int) -> dict[str, int]:
        ac = t.aliases.c
        rows = self.conn.execute(
            select(ac.alias, _v.version)
            .join(t.model_versions, _v.id == ac.version_id)
            .where(ac.model_id == model_id)
            .order_by(ac.alias)
        ).all()
        return {str(a): int(v) for a, v in rows}


def new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _to_version(
    r: Mapping[str, Any],
    model: str,
    tags: dict[str, str],
    aliases: list[str],
    datasets: dict[int, DatasetVersion],
) -> ModelVersion:
    sig = r["signature"]
    code = r["code"]
    return ModelVersion(
        model=model,
        version=r["version"],
        stage=Stage(r["stage"]),
        artifact=Artifact(
            sha256=r["artifact_sha256"],
            size=r["artifact_size"],
            flavor=Flavor(r["artifact_flavor"]),
            filename=r["artifact_filename"],
            is_directory=bool(r["artifact_is_directory"]),
        ),
        description=r["description"],
        params=r["params"],
        metrics=r["metrics"],
        tags=tags,
        signature=None
        if sig is None
        else Signature(inputs=_columns(sig["inputs"]), outputs=_columns(sig["outputs"])),
        code=None if code is None else CodeRef(**code),
        training_data=datasets.get(r["training_dataset_id"]),
        evaluation_data=datasets.get(r["evaluation_dataset_id"]),
        parent_version=r["parent_version"],
        aliases=aliases,
        created_at=r["created_at"],
        created_by=r["created_by"],
        stage_changed_at=r["stage_changed_at"],
    )
