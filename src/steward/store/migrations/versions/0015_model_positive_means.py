"""Models state what a positive prediction means: ``favourable`` or ``adverse``.

Fairness is measured on the favourable outcome. Until this revision Steward assumed that the
positive label was favourable unless a suite set ``favorable_label``, so existing models are
migrated to ``favourable`` — exactly what their past fairness results assumed; review each
deny / default / high-risk model and set ``adverse`` (`steward model update NAME
--positive-means adverse`). Models created from now on start ``unstated`` and are asked before
fairness checks run.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: on SQLite a copied ``models`` table would lose the
    # triggers that keep the full-text index (models_fts) in step. New rows start "unstated";
    # every row that exists now becomes "favourable", what Steward assumed for it so far.
    op.add_column(
        "models",
        sa.Column("positive_means", sa.String(20), nullable=False, server_default="unstated"),
    )
    op.execute(sa.text("UPDATE models SET positive_means = 'favourable'"))


def downgrade() -> None:
    op.drop_column("models", "positive_means")
