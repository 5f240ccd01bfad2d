"""Validation: no tables of its own.

The validation engine stores its runs through ``services.checks`` in the check-run tables of
revision 0004 and its evidence files in the artifact store; this revision keeps the chain
(0006 -> 0007) so later revisions have a fixed parent.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
