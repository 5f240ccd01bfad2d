"""Dataset versions and their quality rules: snapshot a dataset (fingerprint, schema,
profile — the code that records a model version's training data — and the rule results),
and set a new revision of its rules.

Where the rows come from: data the caller passes (embedded: a frame or a file; over REST:
an upload), else the dataset's recorded source — through its data connection on a server;
a file path or an ``s3://`` URL only embedded, where the caller holds the machine anyway.
The reading and the rules run before the write transaction; the snapshot, its results, the
findings a failing rule opens (or a passing rule resolves) and the journal event are one
transaction.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from steward.domain import data_rules, finding_messages
from steward.domain import datasets as rules
from steward.domain.audit import Action
from steward.domain.datasets import Classification, DatasetSnapshot, Quality, RuleResult, RuleSet
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.permissions import Permission, Principal
from steward.domain.yamldoc import DocumentError
from steward.services import datasets, personal_data
from steward.services.context import Context

MAX_FILENAME = 255


def _filename(name: str) -> str:
    base = Path(name or "rules.yaml").name[:MAX_FILENAME]
    return base or "rules.yaml"


def set_rules(
    ctx: Context, principal: Principal, name: str, text: str, filename: str = "rules.yaml"
) -> RuleSet:
    """Store a new revision of the dataset's quality rules (checked first, every problem
    named with its file and line; against the latest version's columns when there is one)."""
    datasets.check_first(ctx, principal, Permission.DATASET_WRITE, name)
    source = _filename(filename)
    parsed = data_rules.parse_rules(text, source)
    with ctx.uow.write() as uow:
        row = datasets.ensure_dataset(uow, principal, Permission.DATASET_WRITE, name)
        uow.datasets.lock(row["id"])
        latest = uow.datasets.snapshots(row["id"], row["latest_version"], details=False)
        if latest:
            missing = data_rules.missing_columns(parsed, [c.name for c in latest[0].schema], source)
            if missing:
                raise DocumentError(source, missing)
        revision = len(uow.datasets.rules(row["id"], name)) + 1
        digest = hashlib.sha256(text.encode()).hexdigest()
        uow.datasets.insert_rules(
            {
                "dataset_id": row["id"],
                "revision": revision,
                "filename": source,
                "text": text,
                "sha256": digest,
                "rules": len(parsed),
                "created_at": uow.now,
                "created_by": principal.name,
            }
        )
        uow.record(
            principal.name,
            Action.DATASET_RULES_SET,
            "dataset",
            name,
            {
                "revision": revision,
                "filename": source,
                "sha256": digest,
                "rules": [r.id for r in parsed],
            },
        )
        found = uow.datasets.rules(row["id"], name)[0]
        uow.commit()
    return found


def _read_source(ctx: Context, principal: Principal, text: str) -> Any:
    """The rows behind a dataset's recorded source, as pandas."""
    source = rules.parse_source(text)
    if not source.kind:
        raise InvalidInput(
            "The dataset records no source: pass the data to snapshot, or record where it "
            "lives (`steward dataset update NAME --source conn:NAME#table=…`).",
            field="source",
        )
    if source.connection is not None:
        import pyarrow as pa

        from steward.monitoring import connected, postgres
        from steward.services import connections

        opened = connections.open_connection(ctx, principal, source.connection.connection)
        engine = connected.source(opened, source.connection)
        if isinstance(engine, connected.LockedQuery):
            con, relation = engine.connect()
            try:
                return con.sql(f"SELECT * FROM {relation}").df()
            finally:
                con.close()
        return pa.concat_tables(list(postgres.chunks(engine))).to_pandas()
    if ctx.remote:
        raise InvalidInput(rules.REMOTE_SOURCE_REFUSED, field="source")
    if source.kind == "s3":
        import pandas as pd

        reader = pd.read_csv if source.text.lower().endswith(".csv") else pd.read_parquet
        return reader(source.text)
    from steward.lineage.datasets import to_frame

    path = source.text.removeprefix("file://")
    return to_frame(path)


def snapshot(
    ctx: Context,
    principal: Principal,
    name: str,
    data: Any = None,
    *,
    source: str | None = None,
) -> DatasetSnapshot:
    """A new dataset version of ``name`` from ``data`` (or its recorded source), with the
    latest rules run on it."""
    from steward.lineage import datasets as lineage
    from steward.validation import data_rules as engine
    from steward.validation.loading import load_data

    datasets.check_first(ctx, principal, Permission.DATASET_WRITE, name)
    with ctx.uow.read() as uow:
        row = datasets.dataset_row(uow, name)
        rule_sets = uow.datasets.rules(row["id"], name)
    if data is None:
        frame = _read_source(ctx, principal, row["source"])
        label = row["source"]
    else:
        frame = load_data(data, "data")
        label = (source or "").strip()[: rules.MAX_SOURCE] or "uploaded data"
    if len(frame.columns) == 0:
        raise InvalidInput("The data has no columns: snapshot a table.", field="data")
    described = lineage.describe(frame, name=name, uri=None)
    scans = personal_data.scan_frame(frame, ctx.uow.clock())
    results: list[RuleResult] = []
    revision = None
    if rule_sets:
        current = rule_sets[0]
        revision = current.revision
        parsed = data_rules.parse_rules(current.text, current.filename)
        confidential = row["classification"] in (
            Classification.CONFIDENTIAL.value,
            Classification.RESTRICTED.value,
        )
        results = engine.run(
            frame,
            parsed,
            source=current.filename,
            now=ctx.uow.clock(),
            sample_columns=[] if confidential else None,
        )
        severity = {r.id: r.severity for r in parsed}
    quality = (
        Quality.UNCHECKED
        if not rule_sets
        else Quality.PASSED
        if all(r.passed for r in results)
        else Quality.FAILED
    )
    with ctx.uow.write() as uow:
        row = datasets.ensure_dataset(uow, principal, Permission.DATASET_WRITE, name)
        uow.datasets.lock(row["id"])
        content = uow.versions.upsert_dataset(described, uow.now)
        version = uow.datasets.next_version(row["id"], uow.now)
        snapshot_id = uow.datasets.insert_snapshot(
            {
                "dataset_id": row["id"],
                "version": version,
                "dataset_version_id": content,
                "source": label,
                "quality": quality.value,
                "rules_revision": revision,
                "created_at": uow.now,
                "created_by": principal.name,
            }
        )
        uow.personal_data.replace_scans(snapshot_id, scans)
        personal = personal_data.personal_columns(uow, row["id"], scans)
        uow.datasets.insert_results(snapshot_id, personal_data.mask_results(results, personal))
        ref = f"{name}@{version}"
        uow.record(
            principal.name,
            Action.DATASET_SNAPSHOT,
            "dataset",
            ref,
            {
                "fingerprint": described.fingerprint,
                "rows": described.rows,
                "columns": described.columns,
                "source": label,
                "rules_revision": revision,
                "quality": quality.value,
                "failed": [r.rule for r in results if not r.passed],
            },
        )
        already = uow.datasets.open_finding_rules(row["id"])
        for result in results:
            if result.passed or result.rule in already:
                continue
            finding_id = uow.datasets.insert_finding(
                {
                    "dataset_id": row["id"],
                    "version": version,
                    "rule": result.rule,
                    "title": f"{ref} fails {result.rule}: {result.detail}"[:300],
                    **finding_messages.message(
                        finding_messages.DATASET_RULE_FAILED,
                        ref=ref,
                        rule=result.rule,
                        detail=result.detail,
                    ),
                    "severity": severity[result.rule],
                    "status": "open",
                    "opened_at": uow.now,
                }
            )
            uow.record(
                principal.name,
                Action.DATASET_FINDING_OPENED,
                "dataset",
                name,
                {"finding": finding_id, "version": version, "rule": result.rule},
            )
        passed = [r.rule for r in results if r.passed and r.rule in already]
        resolved = uow.datasets.resolve_findings(row["id"], passed, version, uow.now)
        if resolved:
            uow.record(
                principal.name,
                Action.DATASET_FINDING_RESOLVED,
                "dataset",
                name,
                {"findings": resolved, "version": version, "rules": passed},
            )
        found = uow.datasets.snapshots(row["id"], version)
        uow.commit()
    if not found:
        raise NotFound(f"Dataset {name!r} version {version} vanished.", dataset=name)
    return found[0]
