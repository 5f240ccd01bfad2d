"""Data the server already holds, for a validation job: a registered dataset version
(``NAME@VERSION``) or a model version's own training / evaluation data.

Steward keeps no rows of its own: a dataset version is a fingerprint, schema and profile,
and its rows are read again through the dataset's recorded source — a data connection the
person may use (``connections.ensure_may_use``), or, on the embedded store only, its
operator's path or ``s3://`` URL (``data_quality._read_source``, the reader snapshots use).
A model version's own data is the registered dataset version that shares its content
fingerprint (``datasets.lineage_in_uow``); data uploaded with a version and never
registered is not held, and is refused with the way out. Nothing a caller sends is a path:
a name is parsed by ``domain.jobs.parse_stored_data`` and resolved here, and the rows read
must still have the snapshot's fingerprint.
"""

from __future__ import annotations

from pathlib import Path

from steward.domain import datasets as data_rules
from steward.domain.errors import Conflict, Forbidden, InvalidInput
from steward.domain.jobs import parse_stored_data
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import datasets
from steward.services.context import Context


def resolve(
    ctx: Context, principal: Principal, model: str, version: int, text: str, field: str
) -> str:
    """The dataset version (``NAME@V``) that ``text`` names for ``model`` v``version``,
    once ``principal`` may read its rows; refused (404/403/422) before a job is queued."""
    ensure(principal, Permission.GOVERNANCE_READ)
    stored = parse_stored_data(text, field)
    if stored.role is not None:
        with ctx.uow.read() as uow:
            lineage = datasets.lineage_in_uow(uow, model, version)
        refs = lineage.training if stored.role == "training" else lineage.evaluation
        recorded = (
            lineage.training_fingerprint
            if stored.role == "training"
            else lineage.evaluation_fingerprint
        )
        if not refs:
            held = (
                "records no such data"
                if recorded is None
                else "keeps only its fingerprint and profile: no registered dataset version "
                "has those rows"
            )
            raise InvalidInput(
                f"Version {version} of {model!r} has no {stored.role} data the server holds "
                f"(Steward {held}). Register the rows as a dataset version "
                "(`steward dataset snapshot NAME`) or upload the file.",
                field=field,
            )
        ref = refs[0]
    else:
        ref = f"{stored.dataset}@{stored.version}"
    check_readable(ctx, principal, ref, field)
    return ref


def check_readable(ctx: Context, principal: Principal, ref: str, field: str) -> None:
    """``principal`` may read the rows of dataset version ``ref`` through its source."""
    from steward.services import connections

    snapshot = datasets.get_version(ctx, principal, ref)  # 404 naming how to list them
    with ctx.uow.read() as uow:
        row = datasets.dataset_row(uow, snapshot.dataset)
    source = data_rules.parse_source(row["source"] or "")
    if not source.kind:
        raise InvalidInput(
            f"Dataset {snapshot.dataset!r} records no source, so the server cannot read "
            f"{ref}'s rows; upload the file instead.",
            field=field,
        )
    if source.connection is not None:
        try:
            connections.usable(ctx, principal, source.connection.connection)
        except Forbidden as refused:  # 403, naming the form field the data came from
            raise Forbidden(refused.detail, **{**refused.extra, "field": field}) from None
    elif ctx.remote:
        raise InvalidInput(
            f"Dataset {snapshot.dataset!r} lives at a path or URL only the embedded store's "
            "operator may read; upload the file instead, or record the dataset's source as a "
            "data connection.",
            field=field,
        )


def read(ctx: Context, principal: Principal, ref: str, folder: Path, stem: str) -> Path:
    """The rows of ``ref`` as Parquet in ``folder``, read through the dataset's source as
    ``principal``; refused when they are no longer the snapshot's rows."""
    from steward.lineage import datasets as lineage
    from steward.services.data_quality import _read_source

    check_readable(ctx, principal, ref, stem)
    snapshot = datasets.get_version(ctx, principal, ref)
    with ctx.uow.read() as uow:
        row = datasets.dataset_row(uow, snapshot.dataset)
    frame = _read_source(ctx, principal, row["source"])
    if lineage.fingerprint(frame) != snapshot.fingerprint:
        raise Conflict(
            f"The rows read from {snapshot.dataset!r}'s source are no longer {ref}'s "
            f"(fingerprint {snapshot.fingerprint[:12]}…): the source changed since. Snapshot "
            f"the current rows as a new version (`steward dataset snapshot {snapshot.dataset}`) "
            "and validate on that one.",
            dataset=snapshot.dataset,
        )
    path = folder / f"{stem}.parquet"
    frame.to_parquet(path, index=False)
    return path

