"""SQLAlchemy Core tables. Alembic migrations under ``migrations/`` must match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")

convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=convention)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("purpose", Text, nullable=False, default=""),
    Column("business_unit", String(200), nullable=False, default=""),
    Column("owner", String(200), nullable=False, default=""),
    Column("team", String(200), nullable=False, default=""),
    Column("risk_tier", String(20), nullable=False, default="unassessed"),
    Column("regulatory_category", String(20), nullable=False, default="unassessed"),
    Column("status", String(20), nullable=False, default="active"),
    Column("next_review_date", Date, nullable=True),
    Column("allow_multiple_production", Boolean, nullable=False, default=False),
    Column("latest_version", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Case-folded name, title, description, purpose and business unit, kept by the
    # repository: one Unicode-correct LIKE on both backends instead of five ILIKEs.
    Column("search_text", Text, nullable=False, default=""),
    # Each filter index ends in name, so "filter, order by name, limit" needs no sort.
    Index("ix_models_owner", "owner", "name"),
    Index("ix_models_team", "team", "name"),
    Index("ix_models_risk_tier", "risk_tier", "name"),
    Index("ix_models_regulatory_category", "regulatory_category", "name"),
    Index("ix_models_status", "status", "name"),
)

model_tags = Table(
    "model_tags",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(128), primary_key=True),
    Index("ix_model_tags_tag", "tag", "model_id"),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("uri", Text, nullable=True),
    Column("rows", BigInteger, nullable=False),
    Column("columns", Integer, nullable=False),
    Column("schema", JSON, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("artifact_size", BigInteger, nullable=False),
    Column("artifact_flavor", String(20), nullable=False),
    Column("artifact_filename", String(255), nullable=False),
    Column("artifact_is_directory", Boolean, nullable=False, default=False),
    Column("description", Text, nullable=False, default=""),
    Column("params", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("signature", JSON, nullable=True),
    Column("code", JSON, nullable=True),
    Column("training_dataset_id", Integer, ForeignKey("dataset_versions.id"), nullable=True),
    Column("evaluation_dataset_id", Integer, ForeignKey("dataset_versions.id"), nullable=True),
    Column("parent_version", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("stage_changed_at", UTCDateTime, nullable=False),
    UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
    Index("ix_model_versions_stage", "stage", "model_id"),
    Index("ix_model_versions_artifact", "artifact_sha256"),
)

version_tags = Table(
    "version_tags",
    metadata,
    Column(
        "version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_version_tags_key_value", "key", "value", "version_id"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(63), primary_key=True),
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_aliases_version", "version_id"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("from_stage", String(20), nullable=False),
    Column("to_stage", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("justification", Text, nullable=False),
    Column("caused_by", Text, nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_transitions_version", "version_id", "id"),
)

# The journal. Times are canonical text so the hashed bytes are identical on
# every backend; ``seq`` is assigned by the appender, never by the database.
audit_events = Table(
    "audit_events",
    metadata,
    # INTEGER on SQLite makes seq the rowid: verify scans the table in order.
    Column("seq", SEQ_TYPE, primary_key=True, autoincrement=False),
    Column("time", String(27), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(255), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_events_subject", "subject_type", "subject_id", "seq"),
    Index("ix_audit_events_actor", "actor", "seq"),
    Index("ix_audit_events_action", "action", "seq"),
    Index("ix_audit_events_time", "time"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Index("ix_api_tokens_user", "user"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# --- identity: users, teams, roles (migration 0002) ---

# --- risk assessments (migration 0003) ---

# --- policy packs, check runs and results, transition requests, approvals (migration 0004) ---

# --- findings, waivers, periodic reviews (migration 0005) ---

# --- signing, deploy records, webhooks (migration 0006) ---

# --- validation (migration 0007) ---
