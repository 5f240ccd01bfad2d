"""Monitors, monitor runs and results, alerts.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("reference_info", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_by", sa.String(length=200), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        _fk("monitors", "model_id", "models"),
        _fk("monitors", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
    )
    op.create_index("ix_monitors_version", "monitors", ["version_id", "name"])
    op.create_index("ix_monitors_model", "monitors", ["model_id"])
    op.create_index("ix_monitors_due", "monitors", ["active", "next_run_at"])

    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("monitor_id", sa.String(length=32), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("engine", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("aggregate", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        _fk("monitor_runs", "monitor_id", "monitors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_runs")),
    )
    op.create_index("ix_monitor_runs_monitor", "monitor_runs", ["monitor_id", "finished_at"])

    op.create_table(
        "monitor_results",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("monitor_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("monitor_results", "run_id", "monitor_runs"),
        sa.PrimaryKeyConstraint("run_id", "column", "metric", name=op.f("pk_monitor_results")),
    )
    op.create_index(
        "ix_monitor_results_series", "monitor_results", ["monitor_id", "column", "metric", "at"]
    )

    op.create_table(
        "monitor_alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("monitor_id", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_run_id", sa.String(length=32), nullable=False),
        sa.Column("last_run_id", sa.String(length=32), nullable=False),
        sa.Column("breaches", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("transition", sa.String(length=20), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        _fk("monitor_alerts", "finding_id", "findings", ondelete="SET NULL"),
        _fk("monitor_alerts", "monitor_id", "monitors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alerts")),
    )
    op.create_index("ix_monitor_alerts_monitor", "monitor_alerts", ["monitor_id", "status"])
    op.create_index("ix_monitor_alerts_status", "monitor_alerts", ["status", "raised_at"])

    op.create_table(
        "monitor_predictions",
        sa.Column("monitor_id", sa.String(length=32), nullable=False),
        sa.Column("prediction_id", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("prediction", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("label", sa.Float(), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        _fk("monitor_predictions", "monitor_id", "monitors"),
        _fk("monitor_predictions", "run_id", "monitor_runs"),
        sa.PrimaryKeyConstraint("monitor_id", "prediction_id", name=op.f("pk_monitor_predictions")),
    )
    op.create_index("ix_monitor_predictions_run", "monitor_predictions", ["run_id"])


def downgrade() -> None:
    for table in (
        "monitor_predictions",
        "monitor_alerts",
        "monitor_results",
        "monitor_runs",
        "monitors",
    ):
        op.drop_table(table)
