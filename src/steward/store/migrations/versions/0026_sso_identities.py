"""Single sign-on identities: a provider's subject bound to a Steward user (issue #14, item 4).

Revision ID: 0026
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_identities",
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user"],
            ["users.name"],
            name=op.f("fk_sso_identities_user_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issuer", "subject", name=op.f("pk_sso_identities")),
    )
    op.create_index("ix_sso_identities_user", "sso_identities", ["user"])


def downgrade() -> None:
    op.drop_index("ix_sso_identities_user", table_name="sso_identities")
    op.drop_table("sso_identities")
