"""Links between MLflow registered models/versions and Steward models/versions (issue #17).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mlflow_models",
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("mlflow_name", sa.String(256), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_mlflow_models_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "mlflow_name", name=op.f("pk_mlflow_models")),
    )
    op.create_index("ix_mlflow_models_model_id", "mlflow_models", ["model_id"])
    op.create_table(
        "mlflow_versions",
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("mlflow_name", sa.String(256), nullable=False),
        sa.Column("mlflow_version", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("mlflow_stage", sa.String(20), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_mlflow_versions_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source", "mlflow_name", "mlflow_version", name=op.f("pk_mlflow_versions")
        ),
    )
    op.create_index("ix_mlflow_versions_version_id", "mlflow_versions", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_mlflow_versions_version_id", table_name="mlflow_versions")
    op.drop_table("mlflow_versions")
    op.drop_index("ix_mlflow_models_model_id", table_name="mlflow_models")
    op.drop_table("mlflow_models")
