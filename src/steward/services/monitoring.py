"""Monitors, runs, late labels, alerts and their lifecycle effects.

A run compares a batch's aggregate with the monitor's reference profile
(``steward.monitoring.compare``), stores every figure as a time-series row, evaluates the
monitor's rules with their consecutive-breach hysteresis and, for a rule that fires,
raises an alert in the same transaction: a finding with the evidence
(``findings.open_in_uow``), the ``alert.raised`` event (and so its webhook) and — when the
active policy pack's ``monitoring.under_review_on`` lists the alert's severity — the move
of the production version to ``under_review``. Nothing is written if anything fails.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from steward.domain import lifecycle
from steward.domain import monitoring as rules
from steward.domain.audit import Action
from steward.domain.backoff import doubling
from steward.domain.connections import RAW_SOURCE_REFUSED
from steward.domain.errors import Conflict, InvalidInput, NotFound
from steward.domain.lifecycle import Stage
from steward.domain.monitoring import (
    DATASET,
    Alert,
    AlertStatus,
    Breach,
    HistoryPoint,
    LabelReport,
    Monitor,
    MonitorRun,
    Result,
)
from steward.domain.permissions import OPERATOR, Permission, Principal, ensure
from steward.monitoring.batches import BatchPayload, PredictionRows, ReferencePayload
from steward.services import policies
from steward.services.access import check_first, ensure_model
from steward.services.context import Context, model_id, version_row_id
from steward.store.uow import UnitOfWork

# Stages a monitor may watch: approved (shadow, before go-live) and production.
MONITORED_STAGES = (Stage.APPROVED, Stage.PRODUCTION, Stage.UNDER_REVIEW)
PERFORMANCE = rules.PERFORMANCE_METRICS + rules.FAIRNESS_METRICS
MAX_LABELS = 1_000_000


# -- monitors ----------------------------------------------------------------------------


def create_monitor(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    *,
    name: str = "default",
    config: Mapping[str, Any] | None = None,
    reference: ReferencePayload,
) -> Monitor:
    """Configure a monitor on a version; ``reference`` is its profiled reference data."""
    ensure(principal, Permission.MONITOR_MANAGE)
    check_first(ctx, principal, Permission.MONITOR_MANAGE, model)
    parsed = rules.parse_config(dict(config or {}))
    check_source(ctx, principal, parsed)
    rules.monitor_name(name)
    rules.check_rule_columns(parsed, rules.watched_columns(parsed, reference.columns))
    profile = _check_profile(reference.profile)
    rules.check_method_columns(parsed, list(profile.columns))
    _check_method(profile, parsed.method, parsed.methods)
    exact = _store_exact(ctx, reference, profile, parsed.mode)
    with ctx.uow.write() as uow:
        mid, vid = version_row_id(uow, model, version)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.MONITOR_MANAGE, model)
        stage = Stage(uow.versions.row_by_id(vid)["stage"])
        if stage not in MONITORED_STAGES:
            raise Conflict(
                f"Version {version} of {model!r} is {stage.value}; monitors watch approved or "
                "production versions. Monitor the version that serves (see "
                f"`steward version list {model}`).",
                stage=stage.value,
            )
        if uow.monitors.search(version_id=vid, name=name):
            raise Conflict(
                f"Version {version} of {model!r} already has a monitor named {name!r}; pick "
                "another --name or change that one with `steward monitor update`.",
                name=name,
            )
        version_entity = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        source = _reference_source(reference, version_entity)
        monitor_id = "mon_" + secrets.token_hex(8)
        every = parsed.every
        info: dict[str, Any] = {
            "source": source,
            "fingerprint": reference.fingerprint,
            "rows": reference.rows,
            "columns": list(reference.columns),
            "numeric": list(reference.numeric),
            "categorical": list(reference.categorical),
        }
        if exact is not None:
            info["exact"] = exact
        uow.monitors.insert(
            {
                "id": monitor_id,
                "model_id": mid,
                "version_id": vid,
                "name": name,
                "config": rules.config_json(parsed),
                "reference": reference.profile,
                "reference_info": info,
                "active": True,
                "next_run_at": None if every is None else uow.now,
                "last_run_at": None,
                "created_by": principal.name,
                "created_at": uow.now,
                "updated_at": uow.now,
            }
        )
        uow.record(
            principal.name,
            Action.MONITOR_CREATED,
            "monitor",
            monitor_id,
            {
                "model": model,
                "version": version,
                "name": name,
                "config": rules.config_json(parsed),
                "reference": info,
            },
        )
        found = uow.monitors.get(monitor_id)
        assert found is not None
        uow.commit()
    return found


def check_source(ctx: Context, principal: Principal, config: rules.MonitorConfig) -> None:
    """What a scheduled run will read must be readable by this caller, and safely.

    A raw ``source`` (path, glob, URL, SQL) is read as the server's own user, so only the
    embedded store's operator — the person on the machine who holds the store anyway — may
    set one; everyone else names a data connection they may use, whose path and query are
    checked here already (the files may not exist yet; the run checks them again)."""
    if config.source is not None and OPERATOR not in principal.roles:
        raise InvalidInput(RAW_SOURCE_REFUSED, field="config.source")
    if config.connection is not None:
        from steward.monitoring.connected import check_spec
        from steward.services import connections

        found = connections.usable(ctx, principal, config.connection.connection)
        check_spec(config.connection, found.kind)


def _reference_source(reference: ReferencePayload, version: Any) -> str:
    for kind, data in (
        ("training", version.training_data),
        ("evaluation", version.evaluation_data),
    ):
        if data is not None and reference.fingerprint == data.fingerprint:
            return f"{kind} dataset {data.name} ({data.fingerprint[:12]})"
    return reference.source


def _check_profile(text: str) -> Any:
    from steward.monitoring import ReferenceProfile

    try:
        return ReferenceProfile.from_json(text)
    except InvalidInput:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"The reference profile is not a Steward profile ({exc}); build it with "
            "steward.monitoring.build_profile.",
            field="reference",
        ) from None


def _store_exact(
    ctx: Context, reference: ReferencePayload, profile: Any, mode: str
) -> dict[str, Any] | None:
    """Keep the exact reference (sorted numeric columns, category counts) as a
    content-addressed blob in the artifact store; the monitor records its digest."""
    if reference.exact is None:
        if mode == "sketch":
            return None
        raise InvalidInput(
            f"mode {mode} needs the exact reference (the SDK and CLI build it from the "
            "reference data); send reference.exact, or create the monitor with mode sketch.",
            field="reference",
        )
    import base64
    import binascii
    import hashlib
    import tempfile
    from pathlib import Path

    from steward.monitoring import ExactReference

    try:
        data = base64.b64decode(reference.exact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "reference.exact is not base64; build it with steward.monitoring.prepare_exact "
            "(the SDK's build_reference does).",
            field="reference",
        ) from None
    prepared = ExactReference.from_bytes(data)
    if sorted(prepared.columns) != sorted(profile.columns):
        raise InvalidInput(
            "The exact reference and the profile watch different columns; build both from the "
            "same reference data.",
            field="reference",
        )
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exact.npz"
        path.write_bytes(data)
        ctx.artifacts.put(path, digest)
    return {"sha256": digest, "size": len(data)}


def monitor_exact_reference(ctx: Context, principal: Principal, ref: str) -> bytes:
    """The monitor's stored exact reference (``ExactReference.to_bytes``): exact runs compare
    the raw batch with it where the batch is."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        monitor = resolve(uow, ref)
    if monitor.reference.exact is None:
        raise NotFound(
            f"Monitor {monitor.id} keeps no exact reference (mode {monitor.config.mode}); it "
            "runs in sketch mode. Create a new monitor with --mode exact or auto to keep one.",
            monitor=monitor.id,
        )
    with ctx.artifacts.open(monitor.reference.exact) as fh:
        return fh.read()


def _check_method(profile: Any, method: str, methods: Mapping[str, str]) -> None:
    from steward.monitoring.profile import check_method

    check_method(profile, method, methods)


def _options(config: rules.MonitorConfig) -> Any:
    """The drift options of a run: the monitor's method and each column's own."""
    from steward.monitoring import DriftOptions

    return DriftOptions(method=config.method, methods=dict(config.methods))


def reference_data_for(ctx: Context, principal: Principal, model: str, version: int) -> str:
    """Where the version's training (else evaluation) data lives, to profile by default."""
    ensure(principal, Permission.VERSION_READ)
    with ctx.uow.read() as uow:
        _mid, vid = version_row_id(uow, model, version)
        entity = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
    for data in (entity.training_data, entity.evaluation_data):
        if data is not None and data.uri:
            return data.uri
    raise InvalidInput(
        f"Version {version} of {model!r} records no readable training or evaluation data "
        "location (it was logged from an in-memory frame), so Steward cannot profile the "
        "reference itself. Pass the reference data: `--reference train.parquet` or "
        "reference=frame.",
        field="reference",
    )


def resolve(uow: UnitOfWork, ref: str) -> Monitor:
    """A monitor by id, or by model name when that model has exactly one active monitor."""
    found = uow.monitors.get(ref) if ref.startswith("mon_") else None
    if found is not None:
        return found
    mid = uow.models.id_of(ref)
    if mid is not None:
        candidates = [m for m in uow.monitors.search(model_id=mid) if m.active]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise InvalidInput(
                f"Model {ref!r} has {len(candidates)} monitors "
                f"({', '.join(m.id + ' ' + m.name for m in candidates)}); name one by id.",
                field="monitor",
            )
    raise NotFound(
        f"No monitor {ref!r}. List monitors with `steward monitor list` and use an id "
        "(mon_…) or the name of a model with one monitor.",
        monitor=ref,
    )


def get_monitor(ctx: Context, principal: Principal, ref: str) -> Monitor:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return resolve(uow, ref)


def monitor_reference(ctx: Context, principal: Principal, ref: str) -> str:
    """The stored reference profile (JSON): clients aggregate batches on its edges."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return uow.monitors.reference(resolve(uow, ref).id)


def list_monitors(
    ctx: Context,
    principal: Principal,
    *,
    model: str | None = None,
    version: int | None = None,
    include_deleted: bool = False,
) -> list[Monitor]:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        if model is None:
            if version is not None:
                raise InvalidInput("version needs model: name the model too.", field="version")
            return uow.monitors.search(include_deleted=include_deleted)
        if version is None:
            return uow.monitors.search(
                model_id=model_id(uow, model), include_deleted=include_deleted
            )
        _mid, vid = version_row_id(uow, model, version)
        return uow.monitors.search(version_id=vid, include_deleted=include_deleted)


def update_monitor(
    ctx: Context,
    principal: Principal,
    ref: str,
    *,
    config: Mapping[str, Any] | None = None,
    active: bool | None = None,
) -> Monitor:
    """Change settings (rules, thresholds, schedule, ...) or pause/resume a monitor.

    ``config`` keys replace the current ones; the reference profile never changes (create a
    new monitor for a new reference, so history stays comparable).
    """
    ensure(principal, Permission.MONITOR_MANAGE)
    with ctx.uow.write() as uow:
        monitor = resolve(uow, ref)
        ensure_model(uow, principal, Permission.MONITOR_MANAGE, monitor.model)
        uow.monitors.lock(monitor.id)
        before = rules.config_json(monitor.config)
        merged = {**before, **dict(config or {})}
        if "reference" in merged or (
            "columns" in (config or {})
            and list((config or {})["columns"]) != list(monitor.config.columns)
        ):
            raise InvalidInput(
                "The watched columns and the reference are fixed when a monitor is created; "
                "create a new monitor for other columns.",
                field="config",
            )
        parsed = rules.parse_config(merged)
        if (parsed.source, parsed.connection) != (
            monitor.config.source,
            monitor.config.connection,
        ):
            check_source(ctx, principal, parsed)
        rules.check_rule_columns(parsed, monitor.watched)
        if (parsed.method, parsed.methods) != (monitor.config.method, monitor.config.methods):
            rules.check_method_columns(parsed, monitor.watched)
            _check_method(
                _check_profile(uow.monitors.reference(monitor.id)), parsed.method, parsed.methods
            )
        if parsed.mode == "exact" and monitor.reference.exact is None:
            raise InvalidInput(
                "This monitor keeps no exact reference (it was created in sketch mode or before "
                "exact mode), so it cannot switch to mode exact; create a new monitor with "
                "--mode exact.",
                field="mode",
            )
        values: dict[str, Any] = {"config": rules.config_json(parsed), "updated_at": uow.now}
        if active is not None:
            values["active"] = active
        every = parsed.every
        if every is None:
            values["next_run_at"] = None
        elif monitor.next_run_at is None or parsed.schedule_every != monitor.config.schedule_every:
            values["next_run_at"] = rules.next_due(every, monitor.last_run_at, uow.now)
        uow.monitors.update(monitor.id, values)
        uow.record(
            principal.name,
            Action.MONITOR_UPDATED,
            "monitor",
            monitor.id,
            {
                "model": monitor.model,
                "version": monitor.version,
                "before": before,
                "after": rules.config_json(parsed),
                "active": monitor.active if active is None else active,
            },
        )
        found = uow.monitors.get(monitor.id)
        assert found is not None
        uow.commit()
    return found


def delete_monitor(ctx: Context, principal: Principal, ref: str, *, reason: str = "") -> Monitor:
    """Retire a monitor; its runs, results and alerts stay as evidence."""
    ensure(principal, Permission.MONITOR_MANAGE)
    with ctx.uow.write() as uow:
        monitor = resolve(uow, ref)
        ensure_model(uow, principal, Permission.MONITOR_MANAGE, monitor.model)
        uow.monitors.update(
            monitor.id,
            {
                "active": False,
                "next_run_at": None,
                "deleted_by": principal.name,
                "deleted_at": uow.now,
                "updated_at": uow.now,
            },
        )
        uow.record(
            principal.name,
            Action.MONITOR_DELETED,
            "monitor",
            monitor.id,
            {"model": monitor.model, "version": monitor.version, "reason": reason.strip()},
        )
        found = uow.monitors.get(monitor.id)
        assert found is not None
        uow.commit()
    return found


# -- runs --------------------------------------------------------------------------------


def record_batch(ctx: Context, principal: Principal, ref: str, payload: BatchPayload) -> MonitorRun:
    """Compare a reduced batch with the reference, store the results, raise alerts."""
    ensure(principal, Permission.MONITOR_RUN)
    with ctx.uow.write() as uow:
        ensure_model(uow, principal, Permission.MONITOR_RUN, resolve(uow, ref).model)
        run = record_batch_in_uow(uow, ctx, principal.name, ref, payload)
        uow.commit()
    return run


def record_batch_in_uow(
    uow: UnitOfWork, ctx: Context, actor: str, ref: str, payload: BatchPayload
) -> MonitorRun:
    from steward.monitoring import BatchAggregate
    from steward.monitoring.batches import sub_profile

    started = uow.now
    monitor = resolve(uow, ref)
    uow.monitors.lock(monitor.id)
    if not monitor.active:
        raise Conflict(
            f"Monitor {monitor.id} is paused or deleted; resume it with "
            f"`steward monitor update {monitor.id} --resume` first.",
            monitor=monitor.id,
        )
    _mid, vid = version_row_id(uow, monitor.model, monitor.version)
    stage = Stage(uow.versions.row_by_id(vid)["stage"])
    if stage not in MONITORED_STAGES:
        raise Conflict(
            f"Version {monitor.version} of {monitor.model!r} is {stage.value} now; its monitor "
            "no longer runs. Delete it and monitor the version in production.",
            stage=stage.value,
        )
    if payload.rows <= 0:
        raise InvalidInput("The batch has no rows; nothing to compare.", field="data")
    from steward.monitoring import ReferenceProfile

    profile = ReferenceProfile.from_json(uow.monitors.reference(monitor.id))
    unknown = [c for c in payload.missing_columns if c not in profile.columns]
    if unknown:
        raise InvalidInput(f"Unknown missing column(s) {', '.join(unknown)}.", field="data")
    if payload.missing_columns:
        profile = sub_profile(
            profile, [c for c in profile.columns if c not in payload.missing_columns]
        )
    try:
        batch = BatchAggregate.from_dict(payload.aggregate)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"The batch aggregate is malformed ({exc}); compute it with "
            "steward.monitoring.aggregate on the monitor's reference profile.",
            field="aggregate",
        ) from None
    if batch.profile_id and batch.profile_id != profile.id:
        raise InvalidInput(
            "The batch was aggregated on another reference profile; fetch this monitor's "
            "profile and aggregate again.",
            field="aggregate",
        )
    if batch.rows != payload.rows:
        raise InvalidInput("rows does not match the aggregate's row count.", field="rows")
    drift, psi = _run_drift(monitor, profile, batch, payload)
    observed = (payload.observed_at or uow.now).astimezone(UTC)
    if observed > uow.now + timedelta(minutes=10):
        raise InvalidInput(
            "observed_at is in the future; send it with its zone.", field="observed_at"
        )
    run_id = "mrun_" + secrets.token_hex(8)
    results = _drift_results(drift, psi, payload.missing_columns)
    results.append(Result(DATASET, "rows", float(payload.rows), {}))
    predictions = payload.predictions
    labelled = 0
    confusion: dict[str, Any] | None = None
    if predictions is not None:
        _check_predictions(predictions, payload.rows)
        if predictions.label is not None:
            perf, confusion = performance_results(
                monitor.config,
                [
                    (p, s, {k: v[i] for k, v in predictions.groups.items()}, y)
                    for i, (p, s, y) in enumerate(
                        zip(
                            predictions.prediction or [None] * len(predictions),
                            predictions.score or [None] * len(predictions),
                            predictions.label,
                            strict=True,
                        )
                    )
                    if y is not None
                ],
                total=len(predictions),
            )
            labelled = int(next((r.value or 0 for r in perf if r.metric == "labelled_rows"), 0))
            results.extend(perf)
    problems = [
        f"column {c!r} is missing from the batch (missing_rate 1.0)"
        for c in payload.missing_columns
    ]
    summary = {
        "drift_share": drift.share,
        "drifted_columns": [c for c, d in drift.columns.items() if d.drifted],
        "dataset_drift": bool(drift.drifted),
        "problems": problems,
        "labelled_rows": labelled,
        "method": monitor.config.method,
        "methods": {c: d.method for c, d in drift.columns.items()},
        "mode": payload.mode,
    }
    event = uow.record(
        actor,
        Action.MONITOR_RUN,
        "monitor",
        monitor.id,
        {
            "model": monitor.model,
            "version": monitor.version,
            "run": run_id,
            "rows": payload.rows,
            "source": payload.source,
            "engine": payload.engine,
            **{k: summary[k] for k in ("drift_share", "drifted_columns", "problems")},
        },
    )
    uow.monitors.insert_run(
        {
            "id": run_id,
            "monitor_id": monitor.id,
            "window_start": rules.window_start(monitor.config.window, observed),
            "rows": payload.rows,
            "source": payload.source[:2000],
            "engine": payload.engine[:40],
            "started_at": started,
            "finished_at": uow.now,
            "summary": summary,
            "aggregate": payload.aggregate,
            "confusion": confusion,
            "created_by": actor,
            "audit_seq": event.seq,
        },
        (_row(run_id, monitor.id, uow.now, r) for r in results),
    )
    if predictions is not None and predictions.ids is not None:
        _store_predictions(uow, monitor.id, run_id, predictions)
    every = monitor.config.every
    uow.monitors.update(
        monitor.id,
        {
            "last_run_at": uow.now,
            "next_run_at": None if every is None else rules.next_due(every, uow.now, uow.now),
            "failure": None,  # a success ends a failure streak (and its backoff)
        },
    )
    _alerts_for_run(uow, ctx, actor, monitor, vid, run_id, results)
    found = uow.monitors.get_run(run_id)
    assert found is not None
    return found


def _run_drift(monitor: Monitor, profile: Any, batch: Any, payload: BatchPayload) -> Any:
    """(drift, psi) of a run: sent exact results (checked against the profile) or, in
    sketch mode, computed here from the aggregate — PSI for every column too (CSI report)."""
    from steward.monitoring import DatasetDrift, DriftOptions, compare

    if payload.mode == "sketch":
        drift = compare(profile, batch, _options(monitor.config))
        psi = (
            drift
            if monitor.config.method == "psi" and not monitor.config.methods
            else compare(profile, batch, DriftOptions(method="psi"))
        )
        return drift, psi
    if payload.mode != "exact":
        raise InvalidInput("mode must be exact or sketch.", field="mode")
    if monitor.reference.exact is None:
        raise InvalidInput(
            f"Monitor {monitor.id} keeps no exact reference; send the batch in sketch mode.",
            field="mode",
        )
    if not isinstance(payload.exact, Mapping):
        raise InvalidInput(
            "An exact run sends its results in exact ({drift, psi}); the SDK and CLI compute "
            "them with the monitor's exact reference.",
            field="exact",
        )
    try:
        drift = DatasetDrift.from_dict(payload.exact["drift"])
        psi = DatasetDrift.from_dict(payload.exact["psi"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"The exact results are malformed ({exc}); compute them with "
            "steward.monitoring.compare_exact on the monitor's exact reference.",
            field="exact",
        ) from None
    for found in (drift, psi):
        if sorted(found.columns) != sorted(profile.columns):
            raise InvalidInput(
                "The exact results cover other columns than the batch's watched columns.",
                field="exact",
            )
        if found.n_current != batch.rows:
            raise InvalidInput(
                "The exact results were computed on another batch (row counts differ).",
                field="exact",
            )
        for name, col in found.columns.items():
            if col.mode != "exact":
                raise InvalidInput(f"Column {name!r}: exact results must be exact.", field="exact")
    for name, col in drift.columns.items():
        wanted = monitor.config.method_for(name)
        if col.method not in ("none", wanted) and wanted != "auto":
            raise InvalidInput(
                f"The exact results test column {name!r} with {col.method}, not with the "
                f"monitor's {wanted}.",
                field="exact",
            )
    return drift, psi


def _check_predictions(rows: PredictionRows, expected: int) -> None:
    for name in ("ids", "prediction", "score", "label"):
        values = getattr(rows, name)
        if values is not None and len(values) != expected:
            raise InvalidInput(
                f"predictions.{name} has {len(values)} values for {expected} rows.",
                field="predictions",
            )
    for name, values in rows.groups.items():
        if len(values) != expected:
            raise InvalidInput(f"group {name!r} has {len(values)} values.", field="predictions")


def _store_predictions(uow: UnitOfWork, monitor_id: str, run_id: str, rows: PredictionRows) -> None:
    assert rows.ids is not None
    known = uow.monitors.known_predictions(monitor_id, rows.ids)
    if known:
        sample = ", ".join(list(known)[:5])
        raise Conflict(
            f"{len(known)} prediction id(s) were already recorded by this monitor (e.g. "
            f"{sample}); ids must be unique across batches.",
            field="data",
        )
    n = len(rows.ids)
    none: list[None] = [None] * n
    uow.monitors.insert_predictions(
        [
            {
                "monitor_id": monitor_id,
                "prediction_id": pid,
                "run_id": run_id,
                "prediction": p,
                "score": s,
                "groups": {k: v[i] for k, v in rows.groups.items()},
                "label": y,
                "labelled_at": None if y is None else uow.now,
            }
            for i, (pid, p, s, y) in enumerate(
                zip(
                    rows.ids,
                    rows.prediction or none,
                    rows.score or none,
                    rows.label or none,
                    strict=True,
                )
            )
        ]
    )


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _drift_results(drift: Any, psi: Any, missing: Sequence[str]) -> list[Result]:
    out: list[Result] = [
        Result(DATASET, "drift_share", _finite(drift.share), {"columns": len(drift.columns)}),
        Result(
            DATASET,
            "drifted_columns",
            float(sum(1 for d in drift.columns.values() if d.drifted)),
            {},
        ),
        Result(DATASET, "dataset_drift", 1.0 if drift.drifted else 0.0, {}),
    ]
    for name, col in drift.columns.items():
        details = {
            "method": col.method,
            "statistic": _finite(col.statistic),
            "p_value": _finite(getattr(col, "p_value", None)),
            "threshold": _finite(col.threshold),
            "binning": col.binning,
            "n_reference": col.n_reference,
            "n_current": col.n_current,
            "error_bound": _finite(getattr(col, "error_bound", None)),
            "mode": getattr(col, "mode", "exact"),
            "bins": getattr(col, "bins", None),
            "p_value_interval": getattr(col, "p_value_interval", None),
            "note": getattr(col, "note", "") or None,
        }
        out.append(Result(name, "drift_score", _finite(col.score), details))
        out.append(Result(name, "drifted", 1.0 if col.drifted else 0.0, {"method": col.method}))
        method_metric = {
            "ks": "ks",
            "wasserstein": "wasserstein",
            "jensenshannon": "jensenshannon",
        }.get(col.method)
        if method_metric:
            out.append(Result(name, method_metric, _finite(col.statistic), details))
        if col.method == "ks":
            out.append(Result(name, "ks_p_value", _finite(col.p_value), details))
        if col.method in ("chisquare", "ztest"):
            out.append(Result(name, f"{col.method}_p_value", _finite(col.p_value), details))
        other = psi.columns.get(name)
        if other is not None and other.method == "psi":
            out.append(
                Result(
                    name,
                    "psi",
                    _finite(other.statistic),
                    {
                        "method": "psi",
                        "binning": other.binning,
                        "bins": other.bins,
                        "mode": other.mode,
                        "threshold": _finite(other.threshold),
                        "n_reference": other.n_reference,
                        "n_current": other.n_current,
                    },
                )
            )
        for metric in (
            "missing_rate",
            "out_of_range_share",
            "new_categories",
            "new_category_share",
        ):
            value = getattr(col, metric, None)
            if isinstance(value, (list, tuple, set)):
                out.append(Result(name, metric, float(len(value)), {"values": sorted(value)[:50]}))
            elif value is not None:
                out.append(Result(name, metric, _finite(float(value)), {}))
    for name in missing:
        out.append(Result(name, "missing_rate", 1.0, {"problem": "column missing from the batch"}))
    return out


def _row(run_id: str, monitor_id: str, at: datetime, result: Result) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "monitor_id": monitor_id,
        "column": result.column,
        "metric": result.metric,
        "at": at,
        "value": result.value,
        "details": result.details,
    }


# -- performance from labels ------------------------------------------------------------

Labelled = tuple[float | None, float | None, Mapping[str, str | None], float]


def _positive_text(value: float) -> str:
    """The positive class as ConfusionCounts spell it (1.0 → "1")."""
    return f"{value:g}"


def performance_results(
    config: rules.MonitorConfig, rows: Sequence[Labelled], *, total: int
) -> tuple[list[Result], dict[str, Any]]:
    """Performance and fairness of one run's labelled rows, and the run's mergeable part.

    The rows are reduced to grouped confusion counts (``steward.monitoring.ConfusionCounts``,
    by the monitor's sensitive columns); every threshold metric and fairness difference comes
    from those counts, so a window's runs merge exactly (``window_results``). The returned
    dict is what the run stores (``monitor_runs.confusion``): the counts, the labelled rows,
    the predictions they are out of, how a row's class was decided and the run's exact
    ROC AUC (from the scores, which counts cannot give).
    """
    from steward.monitoring.confusion import count_rows

    positive = config.positive_label
    basis: set[str] = set()

    def predicted(p: float | None, s: float | None) -> bool | None:
        if p is not None:
            basis.add("prediction column")
            return p == positive
        if s is not None:
            basis.add("score >= 0.5")
            return s >= 0.5
        return None

    counts = count_rows(
        (
            (tuple(g.get(c) for c in config.sensitive), label == positive, predicted(p, s))
            for p, s, g, label in rows
        ),
        groups=config.sensitive,
        positive=_positive_text(positive),
    )
    part: dict[str, Any] = {
        "counts": counts.to_dict(),
        "labelled": len(rows),
        "predictions": total,
        "predicted_by": " / ".join(sorted(basis)) or None,
        "roc_auc": _roc_auc(config, rows),
        "scores": _score_counts(config, rows),
    }
    return performance_from(config, [part], roc_auc=part["roc_auc"]), part


MAX_SCORE_VALUES = 10_000  # distinct scores a run keeps counts of (for windows' ROC AUC)


def _roc_auc(config: rules.MonitorConfig, rows: Sequence[Labelled]) -> float | None:
    """Exact ROC AUC of labelled rows when every one has a score and both classes occur."""
    from steward.validation.metrics import classification as cm

    y = [1 if label == config.positive_label else 0 for _p, _s, _g, label in rows]
    scores = [s for _p, s, _g, _l in rows]
    if not rows or any(s is None for s in scores) or not 0 < sum(y) < len(y):
        return None
    return float(cm.roc_auc(y, scores))


def _score_counts(
    config: rules.MonitorConfig, rows: Sequence[Labelled]
) -> list[list[float]] | None:
    """``[score, negatives, positives]`` per distinct score — mergeable, and enough for an
    exact ROC AUC of a window — when every labelled row has a score and there are at most
    ``MAX_SCORE_VALUES`` distinct ones (else None: the window's AUC needs the rows)."""
    counts: dict[float, list[int]] = {}
    for _p, s, _g, label in rows:
        if s is None:
            return None
        counts.setdefault(float(s), [0, 0])[1 if label == config.positive_label else 0] += 1
        if len(counts) > MAX_SCORE_VALUES:
            return None
    return [[score, float(n), float(p)] for score, (n, p) in sorted(counts.items())]


def roc_auc_of_counts(parts: Sequence[Sequence[Sequence[float]]]) -> float | None:
    """Exact ROC AUC (ties count one half, as scikit-learn) of merged score counts."""
    merged: dict[float, list[float]] = {}
    for part in parts:
        for score, negatives, positives in part:
            cell = merged.setdefault(float(score), [0.0, 0.0])
            cell[0] += negatives
            cell[1] += positives
    total_negative = sum(n for n, _p in merged.values())
    total_positive = sum(p for _n, p in merged.values())
    if not total_negative or not total_positive:
        return None
    below = 0.0
    pairs = 0.0
    for score in sorted(merged):
        negatives, positives = merged[score]
        pairs += positives * (below + 0.5 * negatives)
        below += negatives
    return pairs / (total_negative * total_positive)


def performance_from(
    config: rules.MonitorConfig, parts: Sequence[Mapping[str, Any]], *, roc_auc: float | None
) -> list[Result]:
    """Results from the stored confusion parts of one run or of a window's runs (merged).

    Precision, recall and F1 with no rows to define them are 0, as scikit-learn's
    ``zero_division=0``; the fairness differences are Fairlearn's (max - min across the
    groups of a sensitive column, a missing group value being the group ``<missing>``).
    """
    from steward.monitoring.confusion import ConfusionCounts, merge_confusion

    labelled = sum(int(p["labelled"]) for p in parts)
    total = sum(int(p["predictions"]) for p in parts)
    out = [
        Result(DATASET, "labelled_rows", float(labelled), {}),
        Result(
            DATASET,
            "label_coverage",
            labelled / total if total else None,
            {"predictions": total},
        ),
    ]
    counts = [ConfusionCounts.from_dict(p["counts"]) for p in parts]
    key = (tuple(config.sensitive), _positive_text(config.positive_label))
    usable = [c for c in counts if (c.groups, c.positive) == key]
    if not usable:
        return out
    merged = merge_confusion(usable)
    n = merged.labelled
    if n == 0:
        return out
    perf = merged.performance()
    basis = sorted({str(p["predicted_by"]) for p in parts if p.get("predicted_by")})
    tn, fp, fn, tp = merged.totals()[""]
    details: dict[str, Any] = {
        "n": n,
        "positive_label": config.positive_label,
        "predicted_by": " / ".join(basis),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }
    if len(usable) < len(counts):
        details["left_out"] = len(counts) - len(usable)  # counted under other settings
    out += [
        Result(DATASET, "accuracy", perf["accuracy"], details),
        Result(DATASET, "precision", perf["precision"] or 0.0, details),
        Result(DATASET, "recall", perf["recall"] or 0.0, details),
        Result(DATASET, "f1", perf["f1"] or 0.0, details),
        Result(DATASET, "positive_rate", perf["positive_rate"], details),
    ]
    if roc_auc is not None:
        out.append(Result(DATASET, "roc_auc", roc_auc, details))
    for column in config.sensitive:
        rates = merged.group_rates(column)
        if len(rates) < 2:
            continue
        fair = merged.fairness(column)
        spread = {
            "groups": {k: int(v["n"]) for k, v in rates.items()},
            "selection_rate": {k: v["selection_rate"] for k, v in rates.items()},
            "tpr": {k: v["tpr"] for k, v in rates.items()},
            "fpr": {k: v["fpr"] for k, v in rates.items()},
        }
        for metric in rules.FAIRNESS_METRICS:
            out.append(Result(column, metric, fair[metric], spread))
    return out


def record_labels(
    ctx: Context,
    principal: Principal,
    ref: str,
    labels: Sequence[tuple[str, float]] | Mapping[str, float],
) -> LabelReport:
    """Join labels that arrived later to their predictions; recompute those runs' performance."""
    ensure(principal, Permission.MONITOR_RUN)
    with ctx.uow.read() as uow:  # whose monitor it is comes before what the caller sent
        ensure_model(uow, principal, Permission.MONITOR_RUN, resolve(uow, ref).model)
    pairs = list(labels.items()) if isinstance(labels, Mapping) else list(labels)
    if not pairs:
        raise InvalidInput("No labels given; send {prediction_id: label} pairs.", field="labels")
    if len(pairs) > MAX_LABELS:
        raise InvalidInput(f"At most {MAX_LABELS} labels per call; send them in parts.")
    clean: list[tuple[str, float]] = []
    for pid, label in pairs:
        if (
            isinstance(label, bool)
            or not isinstance(label, (int, float))
            or not math.isfinite(float(label))
        ):
            raise InvalidInput(
                f"Label for {pid!r} is {label!r}; labels are finite numbers (e.g. 0 or 1).",
                field="labels",
            )
        clean.append((str(pid), float(label)))
    if len({p for p, _l in clean}) != len(clean):
        raise InvalidInput("A prediction id appears twice in the labels.", field="labels")
    with ctx.uow.write() as uow:
        monitor = resolve(uow, ref)
        ensure_model(uow, principal, Permission.MONITOR_RUN, monitor.model)
        uow.monitors.lock(monitor.id)
        if monitor.config.id_column is None:
            raise InvalidInput(
                f"Monitor {monitor.id} has no id_column, so labels cannot be matched to "
                "predictions; set id_column when creating a monitor.",
                field="labels",
            )
        known = uow.monitors.known_predictions(monitor.id, [p for p, _l in clean])
        unknown = [p for p, _l in clean if p not in known]
        if unknown:
            raise InvalidInput(
                f"{len(unknown)} label(s) name prediction ids this monitor never saw (e.g. "
                f"{', '.join(unknown[:5])}); nothing was stored. Send labels only for "
                "predictions fed with `steward monitor run`.",
                field="labels",
                unknown=unknown[:20],
            )
        already = sum(1 for p, _l in clean if known[p][1] is not None)
        uow.monitors.set_labels(monitor.id, clean, uow.now)
        runs = sorted({known[p][0] for p, _l in clean})
        uow.record(
            principal.name,
            Action.MONITOR_LABELS,
            "monitor",
            monitor.id,
            {
                "model": monitor.model,
                "version": monitor.version,
                "labels": len(clean),
                "relabelled": already,
                "runs": runs,
            },
        )
        _mid, vid = version_row_id(uow, monitor.model, monitor.version)
        raised: list[str] = []
        for run_id in runs:
            rows = [
                (r["prediction"], r["score"], r["groups"], float(r["label"]))
                for r in uow.monitors.labelled(run_id)
            ]
            perf, confusion = performance_results(
                monitor.config, rows, total=uow.monitors.prediction_count(run_id)
            )
            run_row = uow.monitors.run_row(run_id)
            assert run_row is not None
            uow.monitors.delete_results(run_id, PERFORMANCE)
            uow.monitors.insert_results([_row(run_id, monitor.id, uow.now, r) for r in perf])
            summary = dict(run_row["summary"])
            summary["labelled_rows"] = len(rows)
            uow.monitors.update_run(run_id, {"summary": summary, "confusion": confusion})
            run = uow.monitors.get_run(run_id)
            assert run is not None
            raised += _alerts_for_run(
                uow,
                ctx,
                principal.name,
                monitor,
                vid,
                run_id,
                list(run.results),
                only=PERFORMANCE,
            )
        uow.commit()
    return LabelReport(
        monitor_id=monitor.id,
        received=len(clean),
        matched=len(clean),
        already_labelled=already,
        runs=tuple(runs),
        alerts=tuple(dict.fromkeys(raised)),
    )


# -- alerts ------------------------------------------------------------------------------


def _alerts_for_run(
    uow: UnitOfWork,
    ctx: Context,
    actor: str,
    monitor: Monitor,
    vid: int,
    run_id: str,
    results: Sequence[Result],
    *,
    only: Sequence[str] | None = None,
) -> list[str]:
    selected = [r for r in monitor.config.rules if only is None or r.metric in only]
    if not selected:
        return []
    depth = max(r.consecutive for r in selected) - 1
    current = {(r.column, r.metric): r.value for r in results}
    previous = uow.monitors.values_before(monitor.id, run_id, depth)
    touched: list[str] = []
    for breach in rules.evaluate(selected, current, previous):
        if not breach.fires:
            continue
        touched.append(_raise(uow, ctx, actor, monitor, vid, run_id, breach))
    return touched


def _raise(
    uow: UnitOfWork,
    ctx: Context,
    actor: str,
    monitor: Monitor,
    vid: int,
    run_id: str,
    breach: Breach,
) -> str:
    rule = breach.rule
    existing = uow.monitors.open_alert(monitor.id, rule.id, breach.column)
    if existing is not None:
        if existing.last_run != run_id:
            uow.monitors.update_alert(
                existing.id,
                {
                    "last_run_id": run_id,
                    "breaches": existing.breaches + 1,
                    "value": breach.value,
                    "updated_at": uow.now,
                },
            )
        return existing.id
    from steward.domain import finding_messages
    from steward.services import findings

    alert_id = "alrt_" + secrets.token_hex(8)
    mid = model_id(uow, monitor.model)
    finding = findings.open_in_uow(
        uow,
        actor,
        model_id=mid,
        model=monitor.model,
        version=monitor.version,
        title=f"Monitoring alert: {rule.metric} on "
        + ("the dataset" if breach.column == DATASET else breach.column),
        description=f"Monitor {monitor.name} ({monitor.id}): {breach.message}.",
        severity=rule.severity,
        source="monitor",
        source_ref=f"{monitor.id}:{rule.id}:{breach.column}",
        evidence={
            "alert": alert_id,
            "monitor": monitor.id,
            "run": run_id,
            "rule": rules.rule_json(rule),
            "value": breach.value,
            "streak": breach.streak,
        },
        message_key=finding_messages.MONITOR_ALERT,
        message_params={
            "metric": rule.metric,
            "column": None if breach.column == DATASET else breach.column,
            "monitor": monitor.name,
            "monitor_id": monitor.id,
            "value": breach.value,
            "op": rule.op,
            "threshold": rule.threshold,
            "streak": breach.streak,
            "rule": rule.id,
        },
    )
    stage = Stage(uow.versions.row_by_id(vid)["stage"])
    move = stage is Stage.PRODUCTION and rule.severity in _under_review_on(uow)
    uow.monitors.insert_alert(
        {
            "id": alert_id,
            "monitor_id": monitor.id,
            "rule_id": rule.id,
            "metric": rule.metric,
            "column": breach.column,
            "severity": rule.severity,
            "status": AlertStatus.OPEN.value,
            "op": rule.op,
            "threshold": rule.threshold,
            "value": breach.value,
            "message": breach.message,
            "first_run_id": run_id,
            "last_run_id": run_id,
            "breaches": breach.streak,
            "finding_id": finding.id,
            "transition": Stage.UNDER_REVIEW.value if move else None,
            "raised_at": uow.now,
            "updated_at": uow.now,
        }
    )
    uow.record(
        actor,
        Action.ALERT_RAISED,
        "alert",
        alert_id,
        {
            "model": monitor.model,
            "version": monitor.version,
            "monitor": monitor.id,
            "run": run_id,
            "rule": rule.id,
            "metric": rule.metric,
            "column": breach.column,
            "severity": rule.severity,
            "value": breach.value,
            "threshold": rule.threshold,
            "op": rule.op,
            "streak": breach.streak,
            "finding": finding.id,
            "under_review": move,
        },
    )
    if move:
        from steward.services.lifecycle import apply_in_uow

        request = lifecycle.make_request(
            model=monitor.model,
            version=monitor.version,
            current=stage,
            target=Stage.UNDER_REVIEW.value,
            actor=actor,
            justification=f"Monitoring alert {alert_id} ({rule.severity}): {breach.message}; "
            "the active policy sends the version to review.",
        )
        apply_in_uow(
            uow, ctx, actor, model_id(uow, monitor.model), vid, request, caused_by=alert_id
        )
    return alert_id


def _under_review_on(uow: UnitOfWork) -> tuple[str, ...]:
    pack = policies.active_pack(uow)
    return tuple(getattr(pack, "under_review_on", ())) if pack is not None else ()


def list_alerts(
    ctx: Context,
    principal: Principal,
    *,
    model: str | None = None,
    version: int | None = None,
    monitor: str | None = None,
    status: str | None = "open",
    limit: int = 100,
) -> list[Alert]:
    ensure(principal, Permission.GOVERNANCE_READ)
    if status in ("all", None):
        status = None
    elif status not in (s.value for s in AlertStatus):
        raise InvalidInput("status is open, resolved or all.", field="status")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000.", field="limit")
    with ctx.uow.read() as uow:
        mid = vid = None
        if model is not None:
            mid = model_id(uow, model)
            if version is not None:
                _m, vid = version_row_id(uow, model, version)
        mon = None if monitor is None else resolve(uow, monitor).id
        return uow.monitors.alerts(
            model_id=mid, version_id=vid, monitor_id=mon, status=status, limit=limit
        )


def get_alert(ctx: Context, principal: Principal, alert_id: str) -> Alert:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found = uow.monitors.get_alert(alert_id)
    if found is None:
        raise NotFound(
            f"No alert {alert_id!r}. List alerts with `steward monitor alerts`.", alert=alert_id
        )
    return found


def resolve_alert(ctx: Context, principal: Principal, alert_id: str, note: str) -> Alert:
    """Close an alert with a note saying why (its finding is resolved with the same note)."""
    ensure(principal, Permission.ALERT_RESOLVE)
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Resolving an alert needs a note: say what was found.", field="note")
    if len(note) > 4000:
        raise InvalidInput("The note is longer than 4000 characters.", field="note")
    with ctx.uow.write() as uow:
        alert = uow.monitors.get_alert(alert_id)
        if alert is None:
            raise NotFound(
                f"No alert {alert_id!r}. List alerts with `steward monitor alerts`.",
                alert=alert_id,
            )
        uow.monitors.lock(alert.monitor_id)
        if alert.status is AlertStatus.RESOLVED:
            raise Conflict(f"Alert {alert_id} is already resolved.", alert=alert_id)
        uow.monitors.update_alert(
            alert_id,
            {
                "status": AlertStatus.RESOLVED.value,
                "resolved_by": principal.name,
                "resolved_at": uow.now,
                "resolution": note,
                "updated_at": uow.now,
            },
        )
        uow.record(
            principal.name,
            Action.ALERT_RESOLVED,
            "alert",
            alert_id,
            {
                "model": alert.model,
                "version": alert.version,
                "monitor": alert.monitor_id,
                "note": note,
                "finding": alert.finding_id,
            },
        )
        if alert.finding_id is not None:
            _close_finding(uow, principal.name, alert.finding_id, note)
        found = uow.monitors.get_alert(alert_id)
        assert found is not None
        uow.commit()
    return found


def _close_finding(uow: UnitOfWork, actor: str, finding_id: int, note: str) -> None:
    from steward.domain.findings import FindingStatus

    finding = uow.findings.get(finding_id)
    if finding is None or not finding.status.is_open:
        return
    uow.findings.update(
        finding_id,
        {
            "status": FindingStatus.RESOLVED.value,
            "resolution": note,
            "closed_by": actor,
            "closed_at": uow.now,
            "updated_at": uow.now,
        },
    )
    uow.record(
        actor,
        Action.FINDING_UPDATED,
        "finding",
        f"{finding.model}/findings/{finding_id}",
        {
            "id": finding_id,
            "model": finding.model,
            "before": {"status": finding.status.value},
            "after": {"status": FindingStatus.RESOLVED.value},
            "note": f"monitoring alert resolved: {note}",
        },
    )


# -- history -----------------------------------------------------------------------------


def list_runs(
    ctx: Context,
    principal: Principal,
    ref: str,
    *,
    limit: int = 50,
    with_results: bool = False,
) -> list[MonitorRun]:
    ensure(principal, Permission.GOVERNANCE_READ)
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000.", field="limit")
    with ctx.uow.read() as uow:
        monitor = resolve(uow, ref)
        return uow.monitors.runs(monitor.id, limit=limit, with_results=with_results)


def get_run(ctx: Context, principal: Principal, run_id: str) -> MonitorRun:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found = uow.monitors.get_run(run_id)
    if found is None:
        raise NotFound(
            f"No monitor run {run_id!r}. List runs with `steward monitor history MONITOR`.",
            run=run_id,
        )
    return found


def history(
    ctx: Context,
    principal: Principal,
    ref: str,
    *,
    column: str | None = None,
    metric: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
    by: str = "run",
) -> list[HistoryPoint]:
    """The time series of one or all (column, metric) results, oldest first.

    ``by="run"``: the results stored by each run. ``by="window"``: one point per window of
    the monitor (``batch``, ``daily`` or ``weekly``), computed by merging the stored
    aggregates of the window's runs — histograms, category, null and confusion counts —
    and comparing the merged aggregate with the reference (``window_results``); a point's
    ``run_id`` is the window's last run and ``details["runs"]`` lists them all.
    """
    ensure(principal, Permission.GOVERNANCE_READ)
    if by not in HISTORY_BY:
        raise InvalidInput(
            f"by is {' or '.join(HISTORY_BY)} (results per run, or per window merged from "
            f"the runs' aggregates), not {by!r}.",
            field="by",
        )
    if metric is not None and metric not in rules.METRICS:
        raise InvalidInput(
            f"Unknown metric {metric!r}; metrics are {', '.join(rules.METRICS)}.", field="metric"
        )
    if not 1 <= limit <= 10000:
        raise InvalidInput("limit must be between 1 and 10000.", field="limit")
    with ctx.uow.read() as uow:
        monitor = resolve(uow, ref)
        if (
            column not in (None, DATASET)
            and column not in monitor.watched + monitor.config.sensitive
        ):
            raise InvalidInput(
                f"Monitor {monitor.id} does not watch column {column!r}; it watches "
                f"{', '.join(monitor.watched)}.",
                field="column",
            )
        if by == "window":
            return _window_history(uow, monitor, column, metric, since, limit)
        return uow.monitors.series(
            monitor.id, column=column, metric=metric, since=since, limit=limit
        )


HISTORY_BY = ("run", "window")


def _window_history(
    uow: UnitOfWork,
    monitor: Monitor,
    column: str | None,
    metric: str | None,
    since: datetime | None,
    limit: int,
) -> list[HistoryPoint]:
    from steward.monitoring import ReferenceProfile

    profile = ReferenceProfile.from_json(uow.monitors.reference(monitor.id))
    windows: dict[datetime, list[Any]] = {}
    for row in uow.monitors.window_runs(monitor.id, since=since, windows=limit):
        windows.setdefault(row["window_start"], []).append(row)
    points: list[HistoryPoint] = []
    for start, runs in windows.items():
        ids = [r["id"] for r in runs]
        at = max(r["finished_at"] for r in runs)
        exact_run = len(runs) == 1 and (runs[0]["summary"] or {}).get("mode") == "exact"
        # a window of one exact run is that run (aggregates merged would be the sketch)
        found = (
            uow.monitors.results(ids).get(ids[0], [])
            if exact_run
            else window_results(uow, monitor, profile, runs)
        )
        for result in found:
            if (column is None or result.column == column) and (
                metric is None or result.metric == metric
            ):
                details = {**result.details, "runs": ids}
                points.append(
                    HistoryPoint(
                        ids[-1], start, at, result.column, result.metric, result.value, details
                    )
                )
    return points[-limit:]


def window_results(
    uow: UnitOfWork, monitor: Monitor, profile: Any, runs: Sequence[Mapping[str, Any]]
) -> list[Result]:
    """The results of a window: its runs' stored aggregates merged, then compared.

    Drift and data quality come from the merged batch aggregate (a column a run lacked
    counts as missing for that run's rows), performance and fairness from the merged
    confusion counts. ROC AUC is exact too: from the runs' merged counts per distinct score
    (kept when a run has at most ``MAX_SCORE_VALUES`` of them), else from the window's
    stored labelled predictions when every labelled row has one, else it is left out.
    """
    from steward.monitoring import DriftOptions, compare

    batch = merge_run_aggregates(profile, [r["aggregate"] for r in runs])
    drift = compare(profile, batch, _options(monitor.config))
    psi = (
        drift
        if monitor.config.method == "psi" and not monitor.config.methods
        else compare(profile, batch, DriftOptions(method="psi"))
    )
    results = _drift_results(drift, psi, ())
    results.append(Result(DATASET, "rows", float(batch.rows), {}))
    parts = [r["confusion"] for r in runs if r["confusion"]]
    if parts:
        results += performance_from(
            monitor.config, parts, roc_auc=_window_roc_auc(uow, monitor, runs, parts)
        )
    return results


def _window_roc_auc(
    uow: UnitOfWork,
    monitor: Monitor,
    runs: Sequence[Mapping[str, Any]],
    parts: Sequence[Mapping[str, Any]],
) -> float | None:
    if not any(p.get("roc_auc") is not None for p in parts):
        return None
    if len(parts) == 1:
        value = parts[0].get("roc_auc")
        return None if value is None else float(value)
    if all(p.get("scores") is not None for p in parts):
        return roc_auc_of_counts([p["scores"] for p in parts])
    rows: list[Labelled] = [
        (r["prediction"], r["score"], r["groups"], float(r["label"]))
        for run in runs
        for r in uow.monitors.labelled(run["id"])
    ]
    if len(rows) != sum(int(p["labelled"]) for p in parts):
        return None  # some labelled rows came with their batch and were not kept
    return _roc_auc(monitor.config, rows)


def merge_run_aggregates(profile: Any, aggregates: Sequence[Mapping[str, Any]]) -> Any:
    """One ``BatchAggregate`` on ``profile`` from runs' stored aggregates, exactly.

    A run whose batch lacked a watched column was aggregated on the profile without it;
    here that column counts all of that run's rows as missing (its missing rate was 1.0).
    """
    from steward.monitoring import BatchAggregate, ColumnAggregate

    try:
        batches = [BatchAggregate.from_dict(a) for a in aggregates]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"A stored run aggregate is malformed ({exc}).") from None
    columns: dict[str, Any] = {}
    for name, shape in profile.columns.items():
        merged = None
        for batch in batches:
            part = batch.columns.get(name)
            if part is None:  # bins on edges e1..ek: k + 1 counts
                part = ColumnAggregate(
                    name,
                    shape.kind,
                    rows=batch.rows,
                    missing=batch.rows,
                    hist={k: [0] * (len(e) + 1) for k, e in shape.edges.items()}
                    if shape.kind == "numeric"
                    else {},
                )
            merged = part if merged is None else merged.merged(part)
        columns[name] = merged
    engines = sorted({b.engine for b in batches if b.engine})
    return BatchAggregate(
        rows=sum(b.rows for b in batches),
        columns=columns,
        engine="+".join(engines),
        profile_id=profile.id,
    )


def card_status(
    ctx: Context, principal: Principal, model: str, version: int
) -> dict[str, Any] | None:
    """The model card's monitoring status of a version, or None when it has no monitor.

    ``{"facts": {label: text}, "tables": [{"columns", "rows", "caption"}]}``: monitors and
    rules, latest runs with drift share and most drifted columns, alerts, label coverage
    and performance over windows (see ``services.monitoring_card``).
    """
    from steward.services.monitoring_card import card_status_in_uow

    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return card_status_in_uow(uow, model, version)


def monitored_versions(uow: UnitOfWork, vid: int) -> list[str]:
    """Active monitors of a version (evidence for the ``monitor_configured`` requirement)."""
    return [f"monitor:{m.id}" for m in uow.monitors.search(version_id=vid) if m.active]


FIRST_RETRY = timedelta(minutes=1)


def retry_delay(failures: int, every: timedelta) -> timedelta:
    """Backoff after ``failures`` consecutive failed scheduled runs: 1 min, 2, 4, … doubling,
    never longer than the schedule's interval (so a fixed source is picked up on time)."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    return doubling(failures - 1, FIRST_RETRY, every)


def postpone(ctx: Context, principal: Principal, monitor_id: str, error: str) -> datetime | None:
    """After a failed scheduled run: count the failure, retry with backoff, journal it.

    One unit of work: the monitor's failure streak (count, error, when, next attempt) and
    its ``next_run_at`` are updated and ``monitor.run_failed`` is appended with the error,
    the attempt number and the next attempt time. Returns that time (None when the monitor
    is gone or no longer scheduled). A successful run resets the streak.
    """
    ensure(principal, Permission.MONITOR_RUN)
    with ctx.uow.write() as uow:
        monitor = uow.monitors.get(monitor_id)
        every = None if monitor is None else monitor.config.every
        if monitor is None or every is None:
            return None
        uow.monitors.lock(monitor_id)
        attempt = monitor.failures + 1
        following = uow.now + retry_delay(attempt, every)
        error = error.strip()[:2000]
        uow.monitors.update(
            monitor_id,
            {
                "next_run_at": following,
                "failure": {
                    "count": attempt,
                    "error": error,
                    "at": uow.now.isoformat(),
                    "next_attempt_at": following.isoformat(),
                },
            },
        )
        uow.record(
            principal.name,
            Action.MONITOR_RUN_FAILED,
            "monitor",
            monitor_id,
            {
                "model": monitor.model,
                "version": monitor.version,
                "source": monitor.config.source,
                "error": error,
                "attempt": attempt,
                "next_attempt_at": following.isoformat(),
            },
        )
        uow.commit()
    return following
