"""MLflow write-back state and webhook-requested syncs (issue #17, items 2 and 3).

``mlflow_writebacks``: per linked MLflow version (its ``steward.*`` tags) and per production
alias of a linked MLflow model, what Steward last wrote there, and the retry state of a
write that failed. ``mlflow_sync_requests``: one row per accepted MLflow webhook delivery
(its id refuses a replay), until the worker's sync takes it.

Revision ID: 0029
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlflow_writebacks",
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("mlflow_name", sa.String(256), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("written", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "mlflow_name", "target", name=op.f("pk_mlflow_writebacks")
        ),
    )
    op.create_table(
        "mlflow_sync_requests",
        sa.Column("delivery_id", sa.String(100), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("mlflow_name", sa.String(256), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_mlflow_sync_requests")),
    )
    op.create_index("ix_mlflow_sync_requests_taken", "mlflow_sync_requests", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_mlflow_sync_requests_taken", table_name="mlflow_sync_requests")
    op.drop_table("mlflow_sync_requests")
    op.drop_table("mlflow_writebacks")
