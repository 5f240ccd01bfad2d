"""Witnesses and their checkpoint cosignatures (issue #15, items 3 and 4).

A witness is registered by its signed-note verifier key; a cosignature is stored as
the signature line it adds to a checkpoint's note, after Steward checked it.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_witnesses",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("verifier_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_witnesses")),
    )
    op.create_table(
        "audit_cosignatures",
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("witness", sa.String(200), nullable=False),
        sa.Column("signature_line", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["audit_checkpoints.id"],
            name=op.f("fk_audit_cosignatures_checkpoint_id_audit_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("checkpoint_id", "witness", name=op.f("pk_audit_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
    op.drop_table("audit_witnesses")
