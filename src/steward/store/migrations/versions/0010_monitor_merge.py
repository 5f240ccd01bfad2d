"""Mergeable confusion counts per monitor run; the scheduler's failure streak per monitor.

``monitor_runs.confusion`` holds a run's labelled performance as grouped confusion counts
(``steward.monitoring.ConfusionCounts``), so the runs of a window merge without rescanning
their predictions; ``monitors.failure`` holds the consecutive failed scheduled runs (count,
last error, next attempt), NULL once a run succeeds.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("monitor_runs", sa.Column("confusion", sa.JSON(), nullable=True))
    op.add_column("monitors", sa.Column("failure", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitors") as batch:
        batch.drop_column("failure")
    with op.batch_alter_table("monitor_runs") as batch:
        batch.drop_column("confusion")
