"""Model records (the inventory) and their labels."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from steward.domain.entities import (
    TIERS,
    Model,
    ModelStatus,
    PositiveMeans,
    RegulatoryCategory,
    RiskTier,
)
from steward.domain.errors import AlreadyExists
from steward.store import tables as t

_m = t.models.c


@dataclass(frozen=True)
class ModelFilter:
    owner: str | None = None
    team: str | None = None
    risk_tier: str | None = None
    regulatory_category: str | None = None
    status: str | None = None
    stage: str | None = None
    tag: str | None = None
    q: str | None = None
    # The keyset cursor: the name of the last model of the previous page, whatever the sort
    # (the sort key is read from that model's row, so every listing has one cursor format).
    after_name: str | None = None


# The orders a listing may take: by name, highest risk first, or soonest review first.
SORTS = ("name", "risk", "review")
# A model with no review date sorts after every dated one.
_FAR_FUTURE = date(9999, 12, 31)


# Whether an engine's database has the SQLite trigram index (checked once per engine).
_FTS: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
# Hot statements are built once: constructing them per call cost more than running them.
_ID_OF = select(_m.id).where(_m.name == bindparam("name"))
# Built once, given its values at execution: `.values(**row)` per call rebuilt and
# re-keyed the statement, the largest cost of creating a model.
_INSERT_MODEL = insert(t.models).returning(t.models)
_ROW = select(t.models).where(_m.name == bindparam("name"))
_LOCK = select(_m.id).where(_m.id == bindparam("id")).with_for_update()
_NEXT_VERSION = (
    update(t.models)
    .where(_m.id == bindparam("model_id"))
    .values(latest_version=_m.latest_version + 1, updated_at=bindparam("now"))
    .returning(_m.latest_version)
)
SEARCHED_FIELDS = frozenset({"name", "title", "description", "purpose", "business_unit"})


def search_text(values: Mapping[str, Any]) -> str:
    """What ``q`` searches, case-folded in Python so non-ASCII letters fold on SQLite too."""
    return "\n".join(str(values.get(f) or "") for f in sorted(SEARCHED_FIELDS)).casefold()


def _sort_key(sort: str, cols: Any) -> ColumnElement[Any]:
    """The SQL value a listing orders by before the name (``cols``: a models table or alias)."""
    if sort == "risk":
        # The rank is the tier's position in the enum, so the order is stated once.
        return case(
            *((cols.risk_tier == tier, literal(rank)) for rank, tier in enumerate(TIERS)),
            else_=literal(0),
        )
    return func.coalesce(cols.next_review_date, literal(_FAR_FUTURE))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def to_model(row: RowMapping, tags: list[str]) -> Model:
    return Model(
        name=row["name"],
        title=row["title"],
        description=row["description"],
        purpose=row["purpose"],
        business_unit=row["business_unit"],
        owner=row["owner"],
        team=row["team"],
        risk_tier=RiskTier(row["risk_tier"]),
        regulatory_category=RegulatoryCategory(row["regulatory_category"]),
        tags=tags,
        status=ModelStatus(row["status"]),
        next_review_date=row["next_review_date"],
        allow_multiple_production=bool(row["allow_multiple_production"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        latest_version=row["latest_version"],
        positive_means=PositiveMeans(row["positive_means"]),
    )


class ModelRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def id_of(self, name: str) -> int | None:
        found = self.conn.execute(_ID_OF, {"name": name}).scalar_one_or_none()
        return None if found is None else int(found)

    def row(self, name: str) -> RowMapping | None:
        return self.conn.execute(_ROW, {"name": name}).mappings().first()

    def get(self, name: str) -> Model | None:
        row = self.row(name)
        if row is None:
            return None
        return to_model(row, self.tags_of([row["id"]])[row["id"]])

    def tags_of(self, ids: list[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = defaultdict(list)
        if ids:
            query = (
                select(t.model_tags.c.model_id, t.model_tags.c.tag)
                .where(t.model_tags.c.model_id.in_(ids))
                .order_by(t.model_tags.c.tag)
            )
            for model_id, tag in self.conn.execute(query):
                found[model_id].append(tag)
        return found

    def insert(self, values: dict[str, Any], tags: list[str]) -> Model:
        """Insert a model; the entity comes back from INSERT … RETURNING, no read-back."""
        values = {**values, "search_text": search_text(values)}
        try:
            if self.conn.dialect.name == "sqlite":
                # Writers hold the store's write lock, so the caller's name check cannot
                # be raced: no savepoint needed.
                row = self.conn.execute(_INSERT_MODEL, values).mappings().one()
            else:
                # A savepoint, so a lost race on the name leaves the transaction usable.
                with self.conn.begin_nested():
                    row = self.conn.execute(_INSERT_MODEL, values).mappings().one()
        except IntegrityError:
            name = values["name"]
            raise AlreadyExists(f"A model named {name!r} already exists.", model=name) from None
        if tags:
            self.conn.execute(
                insert(t.model_tags), [{"model_id": row["id"], "tag": tag} for tag in tags]
            )
        return to_model(row, sorted(tags))

    def set_tags(self, model_id: int, tags: list[str]) -> None:
        self.conn.execute(delete(t.model_tags).where(t.model_tags.c.model_id == model_id))
        if tags:
            self.conn.execute(
                insert(t.model_tags), [{"model_id": model_id, "tag": tag} for tag in tags]
            )

    def update(self, model_id: int, values: dict[str, Any]) -> None:
        if not values:
            return
        self.conn.execute(update(t.models).where(_m.id == model_id).values(**values))
        if SEARCHED_FIELDS & set(values):
            row = (
                self.conn.execute(
                    select(*(t.models.c[f] for f in sorted(SEARCHED_FIELDS))).where(
                        _m.id == model_id
                    )
                )
                .mappings()
                .one()
            )
            self.conn.execute(
                update(t.models).where(_m.id == model_id).values(search_text=search_text(dict(row)))
            )

    def lock(self, model_id: int) -> None:
        """Serialise lifecycle changes per model (a no-op on SQLite, which locks the file)."""
        self.conn.execute(_LOCK, {"id": model_id})

    def next_version(self, model_id: int, now: datetime) -> int:
        """Reserve the next version number (the row lock serialises writers)."""
        found = self.conn.execute(_NEXT_VERSION, {"model_id": model_id, "now": now})
        return int(found.scalar_one())

    def search(self, f: ModelFilter, limit: int) -> list[Model]:
        rows = self.rows(f, limit)
        tags = self.tags_of([r["id"] for r in rows])
        return [to_model(r, tags.get(r["id"], [])) for r in rows]

    def rows(self, f: ModelFilter, limit: int, sort: str = "name") -> Sequence[RowMapping]:
        """The inventory query: one page of model rows matching ``f`` in ``sort`` order.

        Every face lists models through here (the API and CLI by name, the web overview in
        any of ``SORTS``), so filters, search and keyset paging mean the same everywhere.
        """
        query = select(t.models)
        if f.owner:
            query = query.where(_m.owner == f.owner)
        if f.team:
            query = query.where(_m.team == f.team)
        if f.risk_tier:
            query = query.where(_m.risk_tier == f.risk_tier)
        if f.regulatory_category:
            query = query.where(_m.regulatory_category == f.regulatory_category)
        if f.status:
            query = query.where(_m.status == f.status)
        if f.tag:
            # Drive from the label index, then sort the matches: probing every model in name
            # order (EXISTS) read the whole table for a rare label, ~135 ms at 100 k models on
            # SQLite, while this costs at worst ~40 ms when every model has the label.
            tagged = select(t.model_tags.c.model_id).where(t.model_tags.c.tag == f.tag)
            query = query.where(_m.id.in_(tagged))
        if f.stage:
            # Driven from the (stage, model_id) index like labels: probing each model
            # with EXISTS read the whole table for a stage no version is in.
            v = t.model_versions.c
            query = query.where(_m.id.in_(select(v.model_id).where(v.stage == f.stage)))
        if f.q:
            # Match the rows first, then walk them in name order: ordering by the name
            # index and testing each row read the whole table when few rows match.
            query = query.where(_m.id.in_(self._matching(f.q.casefold())))
        if sort == "name":
            if f.after_name:
                query = query.where(_m.name > f.after_name)
            query = query.order_by(_m.name)
        else:
            key = _sort_key(sort, _m)
            if f.after_name:
                # The cursor's own key, read from its row (an alias, so not correlated).
                prior = t.models.alias("prior")
                at = (
                    select(_sort_key(sort, prior.c))
                    .where(prior.c.name == f.after_name)
                    .scalar_subquery()
                )
                beyond = key < at if sort == "risk" else key > at
                query = query.where(or_(beyond, and_(key == at, _m.name > f.after_name)))
            query = query.order_by(key.desc() if sort == "risk" else key, _m.name)
        return self.conn.execute(query.limit(limit)).mappings().all()

    def _matching(self, needle: str) -> Any:
        if len(needle) >= 3 and self._has_fts():
            phrase = '"' + needle.replace('"', '""') + '"'
            return text("SELECT rowid FROM models_fts WHERE models_fts MATCH :phrase").bindparams(
                phrase=phrase
            )
        pattern = f"%{_like_escape(needle)}%"
        return select(_m.id).where(_m.search_text.like(pattern, escape="\\"))

    def _has_fts(self) -> bool:
        engine = self.conn.engine
        if engine not in _FTS:
            _FTS[engine] = self.conn.dialect.name == "sqlite" and bool(
                self.conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='models_fts'")
                ).first()
            )
        return _FTS[engine]

    def touch(self, model_id: int, moment: datetime) -> None:
        self.update(model_id, {"updated_at": moment})
