"""Narrative documentation fields, evidence packs and compliance records.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Model card narrative fields, one row per revision (C2).
    op.create_table(
        "card_narratives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_card_narratives_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_narratives")),
        sa.UniqueConstraint("version_id", "field", "revision", name="uq_card_narratives_revision"),
    )
    op.create_index(
        "ix_card_narratives_version", "card_narratives", ["version_id", "field", "revision"]
    )


def downgrade() -> None:
    op.drop_index("ix_card_narratives_version", table_name="card_narratives")
    op.drop_table("card_narratives")
