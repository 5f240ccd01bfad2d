"""The compliance programme as last computed (issue #19: every page within 100 ms).

``programme_snapshots``: per week count and framework choice, the readiness weeks and the
first ranked actions (``summary``), the whole plan as CSV and Markdown, when it was
computed and up to which journal event. The worker recomputes them; the page reads one row
instead of replaying the journal over every model on each visit.

Revision ID: 0035
Revises: 0036
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "programme_snapshots",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("framework", sa.String(100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("journal_seq", sa.BigInteger(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("plan_csv", sa.Text(), nullable=True),
        sa.Column("plan_md", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_programme_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("programme_snapshots")
