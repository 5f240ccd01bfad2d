"""Datasets as governed assets: inventory, versions (snapshots), quality rules and their
results, data approvals, data findings; indexes for dataset impact.

Revision ID: 0022
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0026"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("steward_team", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("consent_ref", sa.String(200), nullable=False),
        sa.Column("retention", sa.String(20), nullable=False),
        sa.Column("licence", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_datasets_name")),
    )
    op.create_index("ix_datasets_owner", "datasets", ["owner", "name"])
    op.create_index("ix_datasets_steward_team", "datasets", ["steward_team", "name"])
    op.create_index("ix_datasets_classification", "datasets", ["classification", "name"])
    op.create_table(
        "dataset_tags",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_tags_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "tag", name=op.f("pk_dataset_tags")),
    )
    op.create_table(
        "dataset_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("quality", sa.String(10), nullable=False),
        sa.Column("rules_revision", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_snapshots_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_snapshots_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_snapshots")),
        sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_snapshots_dataset_version"),
    )
    op.create_index(
        "ix_dataset_snapshots_content", "dataset_snapshots", ["dataset_version_id", "dataset_id"]
    )
    op.create_table(
        "dataset_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_rules_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_rules")),
        sa.UniqueConstraint("dataset_id", "revision", name="uq_dataset_rules_dataset_revision"),
    )
    op.create_table(
        "dataset_rule_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("column", sa.String(200), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failing_rows", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dataset_snapshots.id"],
            name=op.f("fk_dataset_rule_results_snapshot_id_dataset_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_rule_results")),
    )
    op.create_index(
        "ix_dataset_rule_results_snapshot", "dataset_rule_results", ["snapshot_id", "id"]
    )
    op.create_table(
        "dataset_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dataset_snapshots.id"],
            name=op.f("fk_dataset_approvals_snapshot_id_dataset_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_approvals")),
        sa.UniqueConstraint(
            "snapshot_id", "approver", name="uq_dataset_approvals_snapshot_approver"
        ),
    )
    op.create_table(
        "dataset_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("resolved_by_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_findings_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_findings")),
    )
    op.create_index(
        "ix_dataset_findings_dataset", "dataset_findings", ["dataset_id", "status", "rule"]
    )
    op.create_index("ix_model_versions_training_dataset", "model_versions", ["training_dataset_id"])
    op.create_index(
        "ix_model_versions_evaluation_dataset", "model_versions", ["evaluation_dataset_id"]
    )

    op.create_index("ix_deployments_version", "deployments", ["version_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_deployments_version", table_name="deployments")
    op.drop_index("ix_model_versions_evaluation_dataset", table_name="model_versions")
    op.drop_index("ix_model_versions_training_dataset", table_name="model_versions")
    for table in (
        "dataset_findings",
        "dataset_approvals",
        "dataset_rule_results",
        "dataset_rules",
        "dataset_snapshots",
        "dataset_tags",
        "datasets",
    ):
        op.drop_table(table)
