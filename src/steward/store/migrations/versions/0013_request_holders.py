"""Transition requests remember who held the model when they were opened.

``model_owner`` and ``contributors`` (the members of the model's team) are
captured at request time; approvers are judged independent of them
(segregation of duties cannot be escaped by handing the model away). Requests
opened before this revision have neither and are judged against the model's
current owner, as before.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transition_requests") as batch:
        batch.add_column(sa.Column("model_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("contributors", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transition_requests") as batch:
        batch.drop_column("contributors")
        batch.drop_column("model_owner")
