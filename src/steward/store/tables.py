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
    Float,
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
    # favourable | adverse | unstated: what a positive prediction means (fairness direction).
    Column(
        "positive_means", String(20), nullable=False, default="unstated", server_default="unstated"
    ),
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
    # KEYID:HMAC with a key kept outside the database (steward.domain.audit_auth).
    Column("mac", String(96), nullable=True),
    Index("ix_audit_events_subject", "subject_type", "subject_id", "seq"),
    Index("ix_audit_events_actor", "actor", "seq"),
    Index("ix_audit_events_action", "action", "seq"),
    Index("ix_audit_events_time", "time"),
)

# The journal as an RFC 9162 Merkle tree (migration 0017): the hash of every complete
# subtree, 2**level leaves starting at leaf idx * 2**level (leaf i is event seq i + 1),
# written in the same transaction as the event, so any proof is O(log n) reads.
audit_tree = Table(
    "audit_tree",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
)

# Signed tree heads (C2SP tlog-checkpoint notes) and where they were published.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("note", Text, nullable=False),  # the signed note exactly as published
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("published_to", JSON, nullable=False),  # destinations that have it
    Column("publish_error", Text, nullable=True),  # last failure, until a retry succeeds
    Column("publish_attempts", Integer, nullable=False, default=0),
    Index("ix_audit_checkpoints_size", "tree_size"),
)

# Witnesses (outside parties whose cosignatures show they saw the same history) and
# the cosignatures Steward checked against them. A cosignature is kept as its signed-
# note line: appended to the checkpoint's note it gives the cosigned note back.
audit_witnesses = Table(
    "audit_witnesses",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("verifier_key", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
)

audit_cosignatures = Table(
    "audit_cosignatures",
    metadata,
    Column(
        "checkpoint_id",
        Integer,
        ForeignKey("audit_checkpoints.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("witness", String(200), primary_key=True),
    Column("signature_line", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
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

# People and service accounts. API tokens name their user; a token only works
# while its user exists and is active.
users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("email", String(254), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", Text, nullable=True),  # argon2id, PHC string
    Column("password_changed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("user", String(200), ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Index("ix_user_roles_role", "role", "user"),
)

teams = Table(
    "teams",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("title", String(200), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    # Line of defence (migration 0016): first, second, third; NULL until an admin states it.
    Column("line", String(10), nullable=True),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team", String(100), ForeignKey("teams.name", ondelete="CASCADE"), primary_key=True),
    Column("user", String(200), ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    Column("added_by", String(200), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Index("ix_team_members_user", "user", "team"),
)

# A single sign-on provider's subject (issuer + ``sub``) bound to the Steward user it signs
# in as (migration 0026): the binding, not the provider's user name, decides who a later
# sign-in is, so renaming at the provider cannot take over another account.
sso_identities = Table(
    "sso_identities",
    metadata,
    Column("issuer", String(500), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user", String(200), ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Index("ix_sso_identities_user", "user"),
)

# The login sessions opened by single sign-on (migration 0036), with the provider's session
# id (``sid``) when its ID token carried one: a back-channel logout from the provider ends
# exactly the sessions it names. ``sso_logout_tokens`` keeps each accepted logout token's id
# for the token's maximum age, so a replayed one is refused.
sso_sessions = Table(
    "sso_sessions",
    metadata,
    Column(
        "token_id", String(32), ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("issuer", String(500), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("sid", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_sso_sessions_subject", "issuer", "subject"),
    Index("ix_sso_sessions_sid", "issuer", "sid"),
)

sso_logout_tokens = Table(
    "sso_logout_tokens",
    metadata,
    Column("issuer", String(500), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_sso_logout_tokens_seen_at", "seen_at"),
)

# --- risk assessments (migration 0003) ---

# One row per assessment; the model's current one has no superseded_at. Writers
# lock the model row, so there is never more than one current assessment.
risk_assessments = Table(
    "risk_assessments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("questionnaire", String(100), nullable=False),
    Column("questionnaire_version", String(40), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("tier", String(20), nullable=False),
    Column("category", String(20), nullable=False),
    Column("score", Integer, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("model_fields", JSON, nullable=False),  # purpose, business unit, team when assessed
    Column("assessed_by", String(200), nullable=False),
    Column("assessed_at", UTCDateTime, nullable=False),
    Column("superseded_at", UTCDateTime, nullable=True),
    Column("superseded_by", String(32), nullable=True),
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_risk_assessments_model", "model_id", "assessed_at"),
)

# --- AI impact assessments (migration 0024) ---------------------------------------------

impact_assessments = Table(
    "impact_assessments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("form", String(100), nullable=False),
    Column("form_version", String(40), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("purpose", Text, nullable=False),  # the model's purpose when submitted
    Column("population", JSON, nullable=False),  # risk answers about who is affected
    Column("status", String(20), nullable=False),
    Column("submitted_by", String(200), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("comment", Text, nullable=False, default=""),
    Column("audit_seq", BigInteger, nullable=False),
    UniqueConstraint("model_id", "revision"),
    Index("ix_impact_assessments_model", "model_id", "revision"),
)

# --- policy packs, check runs and results, transition requests, approvals (migration 0004) ---

policy_packs = Table(
    "policy_packs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("version", String(40), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),  # the YAML exactly as loaded
    Column("loaded_by", String(200), nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=False),
    UniqueConstraint("name", "version", name="uq_policy_packs_name_version"),
)

check_runs = Table(
    "check_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("suite", String(100), nullable=False),
    Column("suite_version", String(40), nullable=False),
    Column("source", String(20), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("data_fingerprint", String(64), nullable=True),
    Column("passed", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_check_runs_version", "version_id", "finished_at"),
)

check_results = Table(
    "check_results",
    metadata,
    Column("run_id", String(32), ForeignKey("check_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("family", String(32), nullable=False),
    Column("passed", Boolean, nullable=True),
    Column("value", Float, nullable=True),
    Column("threshold", JSON, nullable=True),
    Column("message", Text, nullable=False, default=""),
    Column("details", JSON, nullable=False),
)

transition_requests = Table(
    "transition_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("from_stage", String(20), nullable=False),
    Column("to_stage", String(20), nullable=False),
    Column("justification", Text, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # open | applied | rejected | withdrawn
    Column("closed_by", String(200), nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("close_reason", Text, nullable=True),
    # Who held the model when the move was requested: segregation of duties is judged
    # against them, whatever happens to the model's owner or team afterwards.
    Column("model_owner", String(200), nullable=True),
    Column("contributors", JSON, nullable=True),
    Index("ix_transition_requests_status", "status", "requested_at"),
    Index("ix_transition_requests_version", "version_id", "status"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "request_id",
        String(32),
        ForeignKey("transition_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("approver", String(200), nullable=False),
    Column("decision", String(10), nullable=False),  # approve | reject
    Column("comment", Text, nullable=False, default=""),
    Column("roles", JSON, nullable=False),  # the approver's roles and teams when they decided
    Column("teams", JSON, nullable=False),
    # What the approval covers: it lapses when any of these changes.
    Column("artifact_sha256", String(64), nullable=False),
    Column("training_fingerprint", String(64), nullable=True),
    Column("evaluation_fingerprint", String(64), nullable=True),
    Column("policy", String(150), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    UniqueConstraint("request_id", "approver", name="uq_approvals_request_approver"),
)

# --- findings, waivers, periodic reviews (migration 0005) ---

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column(
        "version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("severity", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(40), nullable=False),
    Column("source_ref", String(255), nullable=True),
    # "version" or "model" (migration 0016): a model-scope finding blocks every version.
    Column("scope", String(10), nullable=False, server_default="version"),
    Column("owner", String(200), nullable=False),
    Column("due_date", Date, nullable=True),
    Column("evidence", JSON, nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolution", Text, nullable=True),
    Column("closed_by", String(200), nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("comments", Integer, nullable=False, default=0),
    # A finding Steward wrote: its message key and parameters (migration 0033), so pages
    # word it in their language; NULL for a finding a person wrote.
    Column("message_key", String(60), nullable=True),
    Column("message_params", JSON, nullable=True),
    # The gates ask "open findings of this model": status first, then the model.
    Index("ix_findings_model_status", "model_id", "status", "id"),
    Index("ix_findings_status", "status", "id"),
    Index("ix_findings_owner", "owner", "id"),
    Index("ix_findings_source_ref", "source", "source_ref"),
)

finding_comments = Table(
    "finding_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_finding_comments_finding", "finding_id", "id"),
)

waivers = Table(
    "waivers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("requirement", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    Index("ix_waivers_version", "version_id", "requirement"),
    Index("ix_waivers_expires", "expires_at"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("notes", Text, nullable=False),
    Column("reviewer", String(200), nullable=False),
    Column("completed_at", UTCDateTime, nullable=False),
    Column("risk_tier", String(20), nullable=False),
    Column("cadence_months", Integer, nullable=False),
    Column("previous_due", Date, nullable=True),
    Column("next_review_date", Date, nullable=False),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="SET NULL"), nullable=True),
    Index("ix_reviews_model", "model_id", "id"),
)

# One row per model and missed due date: `review.overdue` is journalled (and its
# webhook sent) once, however often the overdue list is asked for.
review_overdue_notices = Table(
    "review_overdue_notices",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("due_date", Date, primary_key=True),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
)

# `steward review due`: models whose next review falls before a date, in date order.
Index("ix_models_next_review_date", models.c.next_review_date, models.c.name)

# --- signing, deploy records, webhooks (migration 0006) ---

# Public halves of the keys Steward has signed with (key id = sha256 of the PEM), so an
# exported signature can always name and ship the key that checks it.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("algorithm", String(40), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("first_used_at", UTCDateTime, nullable=False),
)

# One row per signing of a version: the manifest, and the sha256 of the three files
# (manifest, its signature, the model_signing bundle) kept in the artifact store.
signatures = Table(
    "signatures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("key_id", String(64), ForeignKey("signing_keys.key_id"), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("manifest_signature_sha256", String(64), nullable=False),
    Column("model_signature_sha256", String(64), nullable=False),
    Column("signed_by", String(200), nullable=False),
    Column("signed_at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_signatures_version", "version_id", "id"),
    Index("ix_signatures_artifact", "artifact_sha256"),
)

# What a deploy step or serving process reported it actually loaded.
deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=True
    ),
    Column("environment", String(63), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # verified | mismatch
    Column("reason", Text, nullable=False),
    Column("signed", Boolean, nullable=False),
    Column("details", JSON, nullable=False),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="SET NULL"), nullable=True),
    Column("reported_by", String(200), nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_deployments_model_env", "model_id", "environment", "id"),
    Index("ix_deployments_status", "status", "id"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),  # webhook event names, or ["*"]
    Column("secret", String(512), nullable=False),  # HMAC key, sealed (trust/secretbox.py)
    Column("description", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_by", String(200), nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    Index("ix_webhooks_active", "active"),
)

# The transactional outbox: a row per (event, subscription), written by
# UnitOfWork.record in the transaction of the change itself.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("webhook_id", String(32), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(40), nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Column("body", Text, nullable=False),  # the exact JSON sent, so retries sign the same bytes
    Column("status", String(20), nullable=False),  # pending | delivered | failed | cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        String(32),
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_webhook_attempts_delivery", "delivery_id", "attempt"),
)

# --- monitoring: monitors, runs, results, alerts (migration 0008) ---

# One monitor per (production) version and name. ``reference`` is the reference profile
# (steward.monitoring.ReferenceProfile JSON: bin edges, category sets, moments, counts),
# computed once; ``reference_info`` says where it came from.
monitors = Table(
    "monitors",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("name", String(100), nullable=False),
    Column("config", JSON, nullable=False),
    Column("reference", Text, nullable=False),
    Column("reference_info", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("next_run_at", UTCDateTime, nullable=True),  # scheduled monitors only
    Column("last_run_at", UTCDateTime, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_by", String(200), nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    # consecutive failed scheduled runs {count, error, at, next_attempt_at}; NULL after a
    # success (migration 0010)
    Column("failure", JSON, nullable=True),
    Index("ix_monitors_version", "version_id", "name"),
    Index("ix_monitors_model", "model_id"),
    Index("ix_monitors_due", "active", "next_run_at"),
)

# One row per batch fed to a monitor; ``aggregate`` is the batch's mergeable aggregate.
monitor_runs = Table(
    "monitor_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("engine", String(40), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("aggregate", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    # labelled performance as mergeable grouped confusion counts (migration 0010)
    Column("confusion", JSON, nullable=True),
    Index("ix_monitor_runs_monitor", "monitor_id", "finished_at"),
)

# The time series: one value per (run, column, metric); column "" is the dataset.
monitor_results = Table(
    "monitor_results",
    metadata,
    Column(
        "run_id", String(32), ForeignKey("monitor_runs.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("column", String(200), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("monitor_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("value", Float, nullable=True),
    Column("details", JSON, nullable=False),
    Index("ix_monitor_results_series", "monitor_id", "column", "metric", "at"),
)

monitor_alerts = Table(
    "monitor_alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("column", String(200), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("status", String(10), nullable=False),  # open | resolved
    Column("op", String(2), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("value", Float, nullable=True),
    Column("message", Text, nullable=False),
    Column("first_run_id", String(32), nullable=False),
    Column("last_run_id", String(32), nullable=False),
    Column("breaches", Integer, nullable=False),
    Column("finding_id", Integer, ForeignKey("findings.id", ondelete="SET NULL"), nullable=True),
    Column("transition", String(20), nullable=True),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolution", Text, nullable=True),
    Index("ix_monitor_alerts_monitor", "monitor_id", "status"),
    Index("ix_monitor_alerts_status", "status", "raised_at"),
)

# Predictions of runs with a join key, so labels sent later find their row.
monitor_predictions = Table(
    "monitor_predictions",
    metadata,
    Column(
        "monitor_id", String(32), ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("prediction_id", String(200), primary_key=True),
    Column("run_id", String(32), ForeignKey("monitor_runs.id", ondelete="CASCADE"), nullable=False),
    Column("prediction", Float, nullable=True),
    Column("score", Float, nullable=True),
    Column("groups", JSON, nullable=False),
    Column("label", Float, nullable=True),
    Column("labelled_at", UTCDateTime, nullable=True),
    Index("ix_monitor_predictions_run", "run_id"),
)


# --- compliance: documentation fields, evidence packs (migration 0009) ---

# Owner-written model card narrative (intended use, limitations, human oversight...): one
# row per revision of a field of a version; the current revision has no superseded_at.
card_narratives = Table(
    "card_narratives",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("field", String(40), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("written_by", String(200), nullable=False),
    Column("written_at", UTCDateTime, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Column("superseded_at", UTCDateTime, nullable=True),
    UniqueConstraint("version_id", "field", "revision", name="uq_card_narratives_revision"),
    Index("ix_card_narratives_version", "version_id", "field", "revision"),
)


# --- data connections (migration 0012) ---

# Admin-registered places the server may read data from (folder root, s3 prefix, PostgreSQL
# DSN without password). Credentials are one sealed JSON object (trust/secretbox.py).
data_connections = Table(
    "data_connections",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("kind", String(20), nullable=False),  # folder | s3 | postgresql
    Column("location", Text, nullable=False),
    Column("options", JSON, nullable=False),  # clear settings (endpoint_url, region)
    Column("credentials", Text, nullable=True),  # sealed JSON {key: value}
    Column("credential_keys", JSON, nullable=False),  # which credentials are held
    Column("description", Text, nullable=False, default=""),
    Column("roles", JSON, nullable=False),  # roles allowed to use it (admins always may)
    Column("teams", JSON, nullable=False),  # teams allowed to use it
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- sign-in throttle (migration 0018) ---

# Failed sign-ins per account, client (IP address) and journal key, shared by every
# process that serves this store (domain/throttle.py). Times are epoch seconds.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("kind", String(10), primary_key=True),  # account | client | journal
    Column("key", String(300), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("locked_until", Float, nullable=False),
    Column("lockouts", Integer, nullable=False),
    Column("journalled", Boolean, nullable=False),
    Column("unjournalled", Integer, nullable=False),
    Index("ix_login_throttle_locked_until", "locked_until"),
)

# One row per `steward worker` process: ``seen_at`` is refreshed after every job, so
# `steward doctor` and /readyz can tell whether a worker is alive (docs/deployment.md).
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(200), primary_key=True),  # host:pid:start
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),  # set on a graceful exit
    Column("beats", Integer, nullable=False),
    Index("ix_worker_heartbeats_seen_at", "seen_at"),
)

# --- datasets as governed assets (migration 0022) ---

# The inventory of datasets a data office governs (docs/datasets.md).
datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("owner", String(200), nullable=False, default=""),
    Column("steward_team", String(200), nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
    Column("classification", String(20), nullable=False, default="internal"),
    Column("legal_basis", Text, nullable=False, default=""),
    Column("consent_ref", String(200), nullable=False, default=""),
    Column("retention", String(20), nullable=False, default=""),
    Column("licence", String(200), nullable=False, default=""),
    Column("status", String(20), nullable=False, default="active"),
    Column("latest_version", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_datasets_owner", "owner", "name"),
    Index("ix_datasets_steward_team", "steward_team", "name"),
    Index("ix_datasets_classification", "classification", "name"),
)

dataset_tags = Table(
    "dataset_tags",
    metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(128), primary_key=True),
)

# A dataset version: one snapshot, pointing at the content row (fingerprint, schema,
# profile) that model versions share through training/evaluation_dataset_id.
dataset_snapshots = Table(
    "dataset_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("dataset_version_id", Integer, ForeignKey("dataset_versions.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("quality", String(10), nullable=False),  # unchecked | passed | failed
    Column("rules_revision", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("dataset_id", "version", name="uq_dataset_snapshots_dataset_version"),
    Index("ix_dataset_snapshots_content", "dataset_version_id", "dataset_id"),
)

# Quality rules per dataset, one row per revision, stored verbatim (YAML).
dataset_rules = Table(
    "dataset_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rules", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("dataset_id", "revision", name="uq_dataset_rules_dataset_revision"),
)

# The evidence: each rule's outcome on a snapshot, with failing-row counts and samples.
dataset_rule_results = Table(
    "dataset_rule_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("dataset_snapshots.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("rule", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("column", String(200), nullable=True),
    Column("passed", Boolean, nullable=False),
    Column("failing_rows", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("samples", JSON, nullable=False),
    Column("sql", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("line", Integer, nullable=True),
    Index("ix_dataset_rule_results_snapshot", "snapshot_id", "id"),
)

# Data stewards' approvals of dataset versions (one per approver and version).
dataset_approvals = Table(
    "dataset_approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("dataset_snapshots.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("approver", String(200), nullable=False),
    Column("comment", Text, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("snapshot_id", "approver", name="uq_dataset_approvals_snapshot_approver"),
)

# A failing quality rule opens one of these on its dataset; a later version that passes the
# rule resolves it.
dataset_findings = Table(
    "dataset_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("rule", String(200), nullable=False),
    Column("title", String(300), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by_version", Integer, nullable=True),
    Column("message_key", String(60), nullable=True),  # migration 0033, as on findings
    Column("message_params", JSON, nullable=True),
    Index("ix_dataset_findings_dataset", "dataset_id", "status", "rule"),
)

# Impact ("which model versions were built on this data") walks these from the content row.
Index("ix_model_versions_training_dataset", model_versions.c.training_dataset_id)
Index("ix_model_versions_evaluation_dataset", model_versions.c.evaluation_dataset_id)
# ...and the deployments of those versions.
Index("ix_deployments_version", deployments.c.version_id, deployments.c.id)
# --- MLflow bridge (migration 0023) ---

# Which MLflow registered model (on which tracking server) each Steward model came from;
# what makes `steward mlflow import` idempotent. ``source`` is the tracking URI without
# credentials (domain/mlflow_bridge.source_id).
mlflow_models = Table(
    "mlflow_models",
    metadata,
    Column("source", String(500), primary_key=True),
    Column("mlflow_name", String(256), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("description", Text, nullable=False),
    Column("tags", JSON, nullable=False),  # MLflow's key/value model tags, as last read
    Column("linked_at", UTCDateTime, nullable=False),
    Column("linked_by", String(200), nullable=False),
    Index("ix_mlflow_models_model_id", "model_id"),
)

# One row per MLflow model version brought into Steward, written in the same transaction
# as the Steward version, so a crash leaves either both or neither.
mlflow_versions = Table(
    "mlflow_versions",
    metadata,
    Column("source", String(500), primary_key=True),
    Column("mlflow_name", String(256), primary_key=True),
    Column("mlflow_version", Integer, primary_key=True),
    Column(
        "version_id",
        Integer,
        ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("run_id", String(64), nullable=True),
    Column("mlflow_stage", String(20), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Index("ix_mlflow_versions_version_id", "version_id"),
)

# --- notifications: in-app and e-mail (migration 0027) ---

# One row per (person, event): ``dedupe`` names the event (``request:<id>``, ``alert:<id>``,
# ``review:<model>:<due date>`` …), so a worker pass that finds it again adds nothing.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(200), ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("model", String(200), nullable=False),
    Column("subject", Text, nullable=False),
    Column("link", String(500), nullable=False),
    Column("dedupe", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    # Set when the notification went into an e-mail (or was judged not to need one).
    Column("mailed_at", UTCDateTime, nullable=True),
    # A finding Steward wrote: its message key and parameters (migration 0033), so the page
    # and the e-mail word the subject in the reader's language.
    Column("message_key", String(60), nullable=True),
    Column("message_params", JSON, nullable=True),
    UniqueConstraint("recipient", "dedupe"),
    Index("ix_notifications_recipient", "recipient", "id"),
    Index("ix_notifications_unmailed", "mailed_at", "recipient"),
)

# How each person wants to hear (absent row: every kind by e-mail, immediately, in the
# organisation's language and time zone).
notification_prefs = Table(
    "notification_prefs",
    metadata,
    Column("user", String(200), ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    Column("email_kinds", JSON, nullable=False),
    Column("delivery", String(20), nullable=False),
    Column("language", String(10), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("last_digest_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The e-mail outbox: written in the transaction that creates the notifications, sent by
# the worker, retried with back-off (domain/notifications.retry_at) until sent or failed.
notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("recipient", String(200), nullable=False),
    Column("address", String(254), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Index("ix_notification_outbox_due", "status", "next_attempt_at"),
)

# --- background jobs (migration 0025) ---

# One row per job a face submitted for `steward worker` to run (domain/jobs.py). A worker
# claims a queued row with a conditional UPDATE and holds it by ``lease_until``.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=True),
    Column("requested_by", String(200), nullable=False),
    Column("params", JSON, nullable=False),  # known fields only (domain/jobs.check_params)
    Column("remote", Boolean, nullable=False),  # submitted through the server's faces
    Column("status", String(20), nullable=False),
    Column("progress", Float, nullable=False),
    Column("stage", String(200), nullable=False),
    Column("result", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("cancel_requested", Boolean, nullable=False),
    Column("worker", String(200), nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_jobs_status_created", "status", "created_at"),
    Index("ix_jobs_model_created", "model_id", "created_at"),
)

# --- personal data in datasets (migration 0028) ---

# What a personal-data scan found in each column of a dataset version (docs/datasets.md).
dataset_column_scans = Table(
    "dataset_column_scans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("dataset_snapshots.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("column", Text, nullable=False),
    Column("sampled", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("detections", JSON, nullable=False),  # [{category, share, matches, evidence}]
    Column("examples", JSON, nullable=False),  # masked
    UniqueConstraint("snapshot_id", "column", name="uq_dataset_column_scans_snapshot_column"),
)

# A person's decision on a column's classification, per dataset (it holds for later
# versions until a scan detects a category the decision did not see). History: the journal.
dataset_column_reviews = Table(
    "dataset_column_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("column", Text, nullable=False),
    Column("decision", String(12), nullable=False),  # confirmed | overridden
    Column("categories", JSON, nullable=False),
    Column("detected", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewed_by", String(200), nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    UniqueConstraint("dataset_id", "column", name="uq_dataset_column_reviews_dataset_column"),
)

# --- MLflow write-back (migration 0029) ---

# What Steward last wrote into a linked MLflow registry, and the retry state of a failed
# write (the worker's mlflow_sync job is the outbox: it compares what Steward decided with
# ``written`` and writes the difference). ``target`` is ``version:N`` (the version's
# ``steward.*`` tags: ``written`` holds them) or ``alias:NAME`` (a production alias:
# ``written`` is ``{"version": N}``, or ``{"version": null}`` once removed).
mlflow_writebacks = Table(
    "mlflow_writebacks",
    metadata,
    Column("source", String(500), primary_key=True),
    Column("mlflow_name", String(256), primary_key=True),
    Column("target", String(300), primary_key=True),
    Column("written", JSON, nullable=True),
    Column("attempts", Integer, nullable=False),  # failures in a row (0: the last write held)
    Column("next_at", UTCDateTime, nullable=True),  # not retried before (back-off)
    Column("last_error", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One row per MLflow registry webhook delivery Steward accepted; its delivery id is the key,
# so a replayed delivery is refused. The worker's sync takes (stamps) them.
mlflow_sync_requests = Table(
    "mlflow_sync_requests",
    metadata,
    Column("delivery_id", String(100), primary_key=True),
    Column("event", String(100), nullable=False),
    Column("mlflow_name", String(256), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("taken_at", UTCDateTime, nullable=True),
    Index("ix_mlflow_sync_requests_taken", "taken_at"),
)

# The compliance programme as last computed (migration 0035): one row per week count and
# framework choice someone asked for. The worker recomputes each (``Job.PROGRAMME``), the
# page reads it; ``journal_seq`` is the journal's last event the computation saw.
programme_snapshots = Table(
    "programme_snapshots",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("weeks", Integer, nullable=False),
    Column("framework", String(100), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("computed_at", UTCDateTime, nullable=True),
    Column("journal_seq", BigInteger, nullable=True),
    Column("seconds", Float, nullable=True),
    Column("summary", JSON, nullable=True),  # the weeks, the first actions, their count
    Column("plan_csv", Text, nullable=True),
    Column("plan_md", Text, nullable=True),
)
