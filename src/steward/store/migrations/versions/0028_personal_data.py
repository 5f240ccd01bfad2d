"""Personal data in datasets (issue #16, scope 2): per-column scan results of each dataset
version, and a person's confirmed or overridden classification per dataset column.

Revision ID: 0028
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_column_scans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.Text(), nullable=False),
        sa.Column("sampled", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("detections", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dataset_snapshots.id"],
            name=op.f("fk_dataset_column_scans_snapshot_id_dataset_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_column_scans")),
        sa.UniqueConstraint(
            "snapshot_id", "column", name="uq_dataset_column_scans_snapshot_column"
        ),
    )
    op.create_table(
        "dataset_column_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(12), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("detected", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_column_reviews_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_column_reviews")),
        sa.UniqueConstraint(
            "dataset_id", "column", name="uq_dataset_column_reviews_dataset_column"
        ),
    )


def downgrade() -> None:
    op.drop_table("dataset_column_reviews")
    op.drop_table("dataset_column_scans")
