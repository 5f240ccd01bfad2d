"""Single sign-on sessions and back-channel logout (issue #14, item 4).

``sso_sessions``: which login sessions a provider's sign-in opened, with the provider's
session id (``sid``), so a back-channel logout ends exactly those. ``sso_logout_tokens``:
the ids of accepted logout tokens, so a replayed one is refused.

Revision ID: 0036
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_sessions",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("sid", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_sso_sessions_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_sso_sessions")),
    )
    op.create_index("ix_sso_sessions_subject", "sso_sessions", ["issuer", "subject"])
    op.create_index("ix_sso_sessions_sid", "sso_sessions", ["issuer", "sid"])
    op.create_table(
        "sso_logout_tokens",
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_sso_logout_tokens")),
    )
    op.create_index("ix_sso_logout_tokens_seen_at", "sso_logout_tokens", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_sso_logout_tokens_seen_at", table_name="sso_logout_tokens")
    op.drop_table("sso_logout_tokens")
    op.drop_index("ix_sso_sessions_sid", table_name="sso_sessions")
    op.drop_index("ix_sso_sessions_subject", table_name="sso_sessions")
    op.drop_table("sso_sessions")
