"""Users, teams, roles and team membership; passwords and login sessions.

Existing installs keep working: every distinct ``api_tokens.user`` becomes a
user with the admin role (before roles, every token could do everything).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
MIGRATION_ACTOR = "migration-0002"


def upgrade() -> None:
    users = op.create_table(
        "users",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("password_changed_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("disabled_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
    )
    user_roles = op.create_table(
        "user_roles",
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user"], ["users.name"], name=op.f("fk_user_roles_user_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user", "role", name=op.f("pk_user_roles")),
    )
    op.create_index("ix_user_roles_role", "user_roles", ["role", "user"])
    op.create_table(
        "teams",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_teams")),
    )
    op.create_table(
        "team_members",
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["team"], ["teams.name"], name=op.f("fk_team_members_team_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user"], ["users.name"], name=op.f("fk_team_members_user_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team", "user", name=op.f("pk_team_members")),
    )
    op.create_index("ix_team_members_user", "team_members", ["user", "team"])
    _backfill(users, user_roles)


def _backfill(users: sa.Table, user_roles: sa.Table) -> None:
    conn = op.get_bind()
    tokens = sa.table("api_tokens", sa.column("user", sa.String))
    names = sorted(
        str(name) for name in conn.execute(sa.select(tokens.c.user).distinct()).scalars()
    )
    if not names:
        return
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the store keeps naive UTC on SQLite
    common = {"created_at": now, "created_by": MIGRATION_ACTOR, "updated_at": now}
    op.bulk_insert(
        users,
        [{"name": n, "display_name": "", "email": "", "active": True, **common} for n in names],
    )
    op.bulk_insert(
        user_roles,
        [
            {"user": n, "role": "admin", "granted_by": MIGRATION_ACTOR, "granted_at": now}
            for n in names
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_team_members_user", table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index("ix_user_roles_role", table_name="user_roles")
    op.drop_table("user_roles")
    op.drop_table("users")
