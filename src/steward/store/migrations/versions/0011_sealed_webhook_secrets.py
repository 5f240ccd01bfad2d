"""Webhook secrets are stored sealed (``fernet:<token>``, see ``steward.trust.secretbox``).

A sealed 128-character secret takes about 280 characters; the column grows to 512.
Secrets written before this revision stay readable as they are.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column(
            "secret", existing_type=sa.String(128), type_=sa.String(512), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column(
            "secret", existing_type=sa.String(512), type_=sa.String(128), existing_nullable=False
        )
