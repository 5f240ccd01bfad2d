"""Findings Steward writes carry a message key and its parameters (issue #19: generated
finding titles stayed English on zh-TW pages).

``message_key`` / ``message_params`` on ``findings``, ``dataset_findings`` and
``notifications`` (a notification of a finding, so its e-mail is worded in the reader's
language) are nullable: a finding a person wrote has none and is shown as typed.
Existing findings whose English title matches a template Steward used to write them are
backfilled with the key and the parameters read back from the title (and from the
description where it matches too); any other finding keeps only its stored English, which
pages show as it is. Nothing stored is changed or removed.

Revision ID: 0033
Revises: 0035
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0035"
branch_labels = None
depends_on = None

# The English titles (and descriptions) Steward wrote before this revision, by source.
_TITLES: dict[str, tuple[str, re.Pattern[str]]] = {
    "check": ("check.failed", re.compile(r"^Check failed: (?P<check>\S+)$")),
    "monitor": (
        "monitor.alert",
        re.compile(r"^Monitoring alert: (?P<metric>\S+) on (?P<column>.+)$", re.S),
    ),
    "deploy": (
        "deploy.unapproved",
        re.compile(r"^Unapproved artifact reported in (?P<environment>.+)$", re.S),
    ),
    "review": ("review.adverse", re.compile(r"^Periodic review (?P<outcome>[a-z ]+)$")),
    "dataset": (
        "data.recall",
        re.compile(r"^Data recall: (?P<dataset>\S+@\d+) \((?P<role>[a-z]+) data\)$"),
    ),
    "mlflow": ("mlflow.moved", re.compile(r"^MLflow (?P<what>.+) moved outside Steward$", re.S)),
}
_DESCRIPTIONS: dict[str, re.Pattern[str]] = {
    "check": re.compile(
        r"^(?P<message>.*?)(?:; value (?P<value>[-+0-9.eEinfa]+))?"
        r"(?: \(threshold: (?P<op>\S+) (?P<limit>\S+)\))?$",
        re.S,
    ),
    "monitor": re.compile(
        r"^Monitor (?P<monitor>.+?) \((?P<monitor_id>[^()]+)\): \S+ = (?P<value>\S+) on "
        r"(?:dataset|column .+?) \((?P<op>\S+) (?P<threshold>\S+)\) for (?P<streak>\d+) "
        r"run\(s\) in a row \[rule (?P<rule>[^\]]+)\]\.$",
        re.S,
    ),
    "deploy": re.compile(
        r"^(?P<reporter>\S+) reported that .+? loaded (?P<model>\S+) artifact "
        r"(?P<sha256>[0-9a-f]{64}): (?P<reason>.*)\. Deploy the approved version",
        re.S,
    ),
}
_DATASET_TITLE = re.compile(r"^(?P<ref>\S+@\d+) fails (?P<rule>[^:\s]+): (?P<detail>.*)$", re.S)


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def finding_message(source: str, title: str, description: str) -> tuple[str, dict[str, Any]] | None:
    """The key and parameters of a finding Steward wrote, read back from its English."""
    if source not in _TITLES:
        return None
    key, pattern = _TITLES[source]
    matched = pattern.match(title)
    if matched is None:
        return None
    params: dict[str, Any] = dict(matched.groupdict())
    if source == "monitor" and params["column"] == "the dataset":
        params["column"] = None
    if source == "review":
        params["outcome"] = params["outcome"].replace(" ", "_")
    found = _DESCRIPTIONS[source].match(description) if source in _DESCRIPTIONS else None
    if found is not None:
        extra = found.groupdict()
        if source == "check":
            extra["value"] = _number(extra["value"])
            extra["limit"] = _number(extra["limit"])
        if source == "monitor":
            extra["value"] = _number(extra["value"])
            extra["threshold"] = _number(extra["threshold"])
            extra["streak"] = int(extra["streak"])
        params.update({k: v for k, v in extra.items() if k not in params})
    return key, params


def dataset_message(title: str) -> tuple[str, dict[str, Any]] | None:
    matched = _DATASET_TITLE.match(title)
    return None if matched is None else ("dataset.rule_failed", matched.groupdict())


def upgrade() -> None:
    for table in ("findings", "dataset_findings", "notifications"):
        op.add_column(table, sa.Column("message_key", sa.String(60), nullable=True))
        op.add_column(table, sa.Column("message_params", sa.JSON(), nullable=True))
    conn = op.get_bind()
    meta = sa.MetaData()
    findings = sa.Table("findings", meta, autoload_with=conn)
    rows = conn.execute(
        sa.select(findings.c.id, findings.c.source, findings.c.title, findings.c.description)
        .where(findings.c.source.in_(list(_TITLES)))
        .order_by(findings.c.id)
    ).all()
    for fid, source, title, description in rows:
        found = finding_message(source, title, description or "")
        if found is not None:
            conn.execute(
                sa.update(findings)
                .where(findings.c.id == fid)
                .values(message_key=found[0], message_params=found[1])
            )
    data = sa.Table("dataset_findings", meta, autoload_with=conn)
    for fid, title in conn.execute(sa.select(data.c.id, data.c.title).order_by(data.c.id)).all():
        found = dataset_message(title)
        if found is not None:
            conn.execute(
                sa.update(data)
                .where(data.c.id == fid)
                .values(message_key=found[0], message_params=found[1])
            )


def downgrade() -> None:
    for table in ("notifications", "dataset_findings", "findings"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("message_params")
            batch.drop_column("message_key")
