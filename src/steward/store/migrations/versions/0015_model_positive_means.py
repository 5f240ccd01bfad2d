"""Models state what a positive prediction means: ``favourable`` or ``adverse``.

Fairness is measured on the favourable outcome. Until this revision Steward assumed that the
positive label was favourable unless a suite set ``favorable_label``, so existing models are
migrated to ``favourable`` — exactly what their past fairness results assumed; review each
deny / default / high-risk model and set ``adverse`` (`steward model update NAME
--positive-means adverse`). Models created from now on start ``unstated`` and are asked before
fairness checks run.

Revision ID: 0015
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The server default fills existing rows; new rows get "unstated" from the table metadata.
    with op.batch_alter_table("models") as batch:
        batch.add_column(
            sa.Column("positive_means", sa.String(20), nullable=False, server_default="favourable")
        )
    with op.batch_alter_table("models") as batch:
        batch.alter_column("positive_means", existing_type=sa.String(20), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_column("positive_means")
