"""Teams carry their line of defence; findings carry their scope.

``teams.line`` is ``first`` (development and business), ``second`` (risk and validation) or
``third`` (internal audit). Existing teams are left unset (NULL): Steward cannot know which
line a team sits in, and guessing ``first`` would silently let an audit team approve. An
administrator states it with `steward team update NAME --line second`. Until then, under a
pack whose approvals name ``lines``, approvals by members of unset teams do not count, and the
gate says so.

``findings.scope`` is ``version`` (this version only) or ``model`` (the model and every version
serving its population). Existing findings opened by drift monitoring (``source``
``monitor``, ``monitoring`` or ``drift``) become ``model`` — a drift finding is about the
population, not one artifact — and every other existing finding keeps what the gate
already did with it: ``version`` when it names a version; ``model`` when it names none (the
gate already applied those to every version).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy), like 0015: nothing else about these tables changes.
    op.add_column("teams", sa.Column("line", sa.String(10), nullable=True))
    op.add_column(
        "findings",
        sa.Column("scope", sa.String(10), nullable=False, server_default="version"),
    )
    op.execute(
        sa.text(
            "UPDATE findings SET scope = 'model' "
            "WHERE source IN ('monitor', 'monitoring', 'drift') OR version_id IS NULL"
        )
    )


def downgrade() -> None:
    op.drop_column("findings", "scope")
    op.drop_column("teams", "line")
