"""Sign-in throttle state in the database, shared by every process of a server.

Until now each API worker counted failed sign-ins in its own memory, so with N workers
an attacker got N times the attempts before a lockout. ``login_throttle`` holds one row
per account, client address and journal key (domain/throttle.py); rows that say nothing
a fresh one would not are deleted as sign-ins fail.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("journalled", sa.Boolean(), nullable=False),
        sa.Column("unjournalled", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_login_throttle")),
    )
    op.create_index("ix_login_throttle_locked_until", "login_throttle", ["locked_until"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_locked_until", table_name="login_throttle")
    op.drop_table("login_throttle")
