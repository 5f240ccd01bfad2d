"""`steward monitor ...` — monitors, runs, late labels, history, alerts and the scheduler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.domain.errors import InvalidInput
from steward.domain.monitoring import method_options

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SourceOpt = Annotated[
    str | None,
    typer.Option(help="Raw path/URL/SQL scheduled runs read (embedded store's operator only)."),
]
ConnectionOpt = Annotated[
    str | None, typer.Option("--connection", help="Data connection scheduled runs read through.")
]
PathOpt = Annotated[
    str | None, typer.Option("--path", help="File or glob under the connection's root.")
]
TableOpt = Annotated[
    str | None, typer.Option("--table", help="Table of a postgresql connection.")
]
QueryOpt = Annotated[
    str | None,
    typer.Option("--query", help="One SELECT over the connection ('batch' for files)."),
]
MethodOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--method",
        help="Drift method for every column (auto, psi, ks, wasserstein, jensenshannon, "
        "chisquare, ztest), or COLUMN=METHOD for one column's own (repeatable).",
    ),
]
MonitorArg = Annotated[str, typer.Argument(help="Monitor id (mon_…) or a model with one monitor.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _data(text: str, table: str | None = None, query: str | None = None) -> Any:
    from steward.monitoring.postgres import PostgresSource, is_postgres_url
    from steward.services.scheduler import source_of

    if table is None and query is None:
        return source_of(text)
    if not is_postgres_url(text):
        raise InvalidInput(
            "--table and --query read from PostgreSQL: pass --data postgresql://user@host/db "
            "with them (for DuckDB SQL over files, pass the SELECT itself as --data).",
            field="data",
        )
    if "#" in text:
        raise InvalidInput(
            "The URL already names what to read (#table=… or #query=…); drop --table/--query "
            "or the #… part.",
            field="data",
        )
    return PostgresSource(text, table=table, query=query)


def _config(config_file: Path | None, **options: Any) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if config_file is not None:
        from steward.domain import yamldoc

        loaded = yamldoc.load(config_file.read_text(encoding="utf-8"), str(config_file))
        if not isinstance(loaded, dict):
            from steward.domain.errors import InvalidInput

            raise InvalidInput(f"{config_file} must be a mapping of monitor settings.")
        config = json.loads(json.dumps(loaded, default=str))
    for key, value in options.items():
        if value not in (None, [], ""):
            config[key] = value
    return config


def _show(m: Any) -> None:
    c = m.config
    output.fields(
        f"Monitor {m.id} ({m.name})",
        [
            ("model", f"{m.model} version {m.version}"),
            ("active", "yes" if m.active else "no"),
            ("reference", f"{m.reference.source}, {m.reference.rows} rows"),
            ("columns", ", ".join(m.watched)),
            (
                "roles",
                ", ".join(
                    f"{k}={v}"
                    for k, v in (
                        ("prediction", c.prediction),
                        ("score", c.score),
                        ("label", c.label),
                        ("id", c.id_column),
                    )
                    if v
                )
                or "-",
            ),
            ("sensitive", ", ".join(c.sensitive) or "-"),
            ("window / method", f"{c.window.value} / {c.method}"),
            (
                "column methods",
                ", ".join(f"{k}={v}" for k, v in c.methods.items()) or "-",
            ),
            (
                "mode",
                f"{c.mode} (exact reference kept)"
                if m.reference.exact
                else f"{c.mode} (no exact reference: sketch only)",
            ),
            (
                "schedule",
                f"every {c.schedule_every} from "
                f"{c.connection.describe() if c.connection else c.source}"
                if c.schedule_every
                else "-",
            ),
            ("rules", "; ".join(f"[{r.severity}] {r.id}: {r.describe()}" for r in c.rules)),
            ("last run", m.last_run_at or "never"),
            ("next run", m.next_run_at or "-"),
            (
                "failures",
                f"{m.failures} in a row, last at {m.last_failed_at}: {m.last_error}"
                if m.failures
                else "0",
            ),
            ("open alerts", m.open_alerts),
        ],
    )


@app.command("create")
def create(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="The (production) version to watch.")],
    reference: Annotated[
        str | None,
        typer.Option(help="Reference data, CSV/Parquet (default: the version's recorded data)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Monitor name, unique per version.")] = "default",
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML/JSON file with settings and rules.")
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option("--column", help="Column to watch (repeatable).")
    ] = None,
    prediction: Annotated[str | None, typer.Option(help="Prediction column.")] = None,
    score: Annotated[str | None, typer.Option(help="Score (probability) column.")] = None,
    label: Annotated[str | None, typer.Option(help="Label column, when batches carry it.")] = None,
    id_column: Annotated[
        str | None, typer.Option(help="Prediction id column: the join key for late labels.")
    ] = None,
    sensitive: Annotated[
        list[str] | None, typer.Option("--sensitive", help="Fairness by this column (repeatable).")
    ] = None,
    window: Annotated[str | None, typer.Option(help="batch, daily or weekly.")] = None,
    method: MethodOpt = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="exact (default: keeps an exact reference; scores equal scipy), sketch "
            "(aggregates only, each score with a guaranteed bound) or auto (exact up to "
            "10 M batch rows)."
        ),
    ] = None,
    every: Annotated[str | None, typer.Option(help="Schedule, e.g. 1d or 7d.")] = None,
    source: SourceOpt = None,
    connection: ConnectionOpt = None,
    path: PathOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Configure a monitor: profile the reference here, store it with the rules."""

    def go() -> None:
        every_column, own = method_options(method or [])
        settings = _config(
            config,
            columns=column or [],
            prediction=prediction,
            score=score,
            label=label,
            id_column=id_column,
            sensitive=sensitive or [],
            window=window,
            method=every_column,
            methods=own,
            mode=mode,
            schedule_every=every,
            source=source,
            connection=connection,
            path=path,
            table=table,
            query=query,
        )
        m = _client(ctx).create_monitor(model, version, reference=reference, name=name, **settings)
        if json_:
            output.emit_json(m)
        else:
            _show(m)

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Only this model's monitors.")] = None,
    version: Annotated[int | None, typer.Option(help="Only this version's.")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted monitors.")] = False,
    json_: JsonOpt = False,
) -> None:
    """List monitors."""

    def go() -> None:
        found = _client(ctx).monitors(model, version, include_deleted=deleted)
        if json_:
            from steward.domain.monitoring import Monitor

            output.emit_json(found, list[Monitor])
            return
        output.table(
            "Monitors",
            ["id", "name", "model", "version", "active", "last run (UTC)", "open alerts"],
            [
                (
                    m.id,
                    m.name,
                    m.model,
                    m.version,
                    "yes" if m.active else "no",
                    f"{m.last_run_at:%Y-%m-%d %H:%M}" if m.last_run_at else "never",
                    m.open_alerts,
                )
                for m in found
            ],
        )

    output.run(go)


@app.command("show")
def show(ctx: typer.Context, monitor: MonitorArg, json_: JsonOpt = False) -> None:
    """Show a monitor's settings, rules and state."""

    def go() -> None:
        m = _client(ctx).monitor(monitor)
        output.emit_json(m) if json_ else _show(m)

    output.run(go)


@app.command("update")
def update(
    ctx: typer.Context,
    monitor: MonitorArg,
    config: Annotated[Path | None, typer.Option("--config", help="Settings/rules file.")] = None,
    every: Annotated[str | None, typer.Option(help="Schedule, e.g. 1d.")] = None,
    method: MethodOpt = None,
    source: SourceOpt = None,
    connection: ConnectionOpt = None,
    path: PathOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    pause: Annotated[bool, typer.Option("--pause", help="Stop runs.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Allow runs again.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Change rules, schedule or source; pause or resume."""

    def go() -> None:
        every_column, own = method_options(method or [])
        settings = _config(
            config,
            method=every_column,
            methods=own,
            schedule_every=every,
            source=source,
            connection=connection,
            path=path,
            table=table,
            query=query,
        )
        if connection is not None:  # a connection replaces a raw source, and the reverse
            settings["source"] = None
        elif source is not None:
            settings.update(connection=None, path=None, table=None, query=None)
        active = False if pause else True if resume else None
        m = _client(ctx).update_monitor(monitor, active=active, **settings)
        output.emit_json(m) if json_ else _show(m)

    output.run(go)


@app.command("delete")
def delete(
    ctx: typer.Context,
    monitor: MonitorArg,
    reason: Annotated[str, typer.Option(help="Why it is retired.")] = "",
    json_: JsonOpt = False,
) -> None:
    """Retire a monitor (its runs and alerts stay as evidence)."""

    def go() -> None:
        m = _client(ctx).delete_monitor(monitor, reason=reason)
        output.emit_json(m) if json_ else output.console().print(f"Deleted monitor {m.id}")

    output.run(go)


def _run_summary(run: Any) -> None:
    share = "-" if run.drift_share is None else f"{run.drift_share:.0%}"
    output.console().print(
        f"Run {run.id}: {run.rows} rows from {run.source} ({run.engine}); drift share "
        f"{share}; drifted: {', '.join(run.drifted_columns) or 'none'}"
    )
    scores = [r for r in run.results if r.metric == "drift_score"]
    psi = {r.column: r for r in run.results if r.metric == "psi"}
    if scores:
        output.table(
            f"Drift ({run.mode})",
            ["column", "method", "score", "± bound", "mode", "psi", "psi bins", "note"],
            [
                (
                    r.column,
                    r.details.get("method", "-"),
                    _fmt(r.value),
                    _fmt(r.details.get("error_bound")),
                    r.details.get("mode", run.mode),
                    _fmt(psi[r.column].value) if r.column in psi else "-",
                    (psi[r.column].details.get("bins") or "-") if r.column in psi else "-",
                    r.details.get("note") or "",
                )
                for r in scores
            ],
        )
    for problem in run.problems:
        output.console().print(f"  data quality: {problem}")
    for alert in run.alerts:
        output.console().print(f"  alert {alert} — `steward monitor alerts` for details")


@app.command("run")
def run(
    ctx: typer.Context,
    monitor: MonitorArg,
    data: Annotated[
        str,
        typer.Option(
            help="CSV/Parquet path or glob, s3:// URL, SELECT … (DuckDB), or a PostgreSQL "
            "URL postgresql://user@host/db with --table or --query (or #table=T / #query=…)."
        ),
    ],
    table: Annotated[
        str | None, typer.Option(help="With a PostgreSQL --data: the table (schema.table).")
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="With a PostgreSQL --data: a SELECT to read.")
    ] = None,
    engine: Annotated[str, typer.Option(help="duckdb, numpy or spark.")] = "duckdb",
    mode: Annotated[
        str | None,
        typer.Option(
            help="exact, sketch or auto (exact up to 10 M rows); default: the monitor's mode."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Feed one batch of production data (reduced here; only aggregates — and in exact mode
    the exact scores — are sent)."""

    def go() -> None:
        result = _client(ctx).run_monitor(
            monitor, _data(data, table, query), engine=engine, mode=mode
        )
        output.emit_json(result) if json_ else _run_summary(result)

    output.run(go)


@app.command("labels")
def labels(
    ctx: typer.Context,
    monitor: MonitorArg,
    file: Annotated[Path, typer.Argument(help="CSV/Parquet with the id column and the label.")],
    json_: JsonOpt = False,
) -> None:
    """Send labels that arrived later; performance is computed for their runs."""

    def go() -> None:
        report = _client(ctx).monitor_labels(monitor, file)
        if json_:
            output.emit_json(report)
        else:
            output.console().print(
                f"Matched {report.matched} labels ({report.already_labelled} relabelled); "
                f"performance recomputed for {len(report.runs)} run(s); "
                f"{len(report.alerts)} alert(s)."
            )

    output.run(go)


@app.command("history")
def history(
    ctx: typer.Context,
    monitor: MonitorArg,
    column: Annotated[str | None, typer.Option(help="A watched column ('' = dataset).")] = None,
    metric: Annotated[str | None, typer.Option(help="e.g. psi, drift_share, accuracy.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many points.")] = 1000,
    by: Annotated[
        str,
        typer.Option(
            help="run: each run's results; window: per window (the monitor's batch, daily or "
            "weekly), merged from the runs' aggregates."
        ),
    ] = "run",
    json_: JsonOpt = False,
) -> None:
    """The time series of a monitor's results (oldest first)."""

    def go() -> None:
        points = _client(ctx).monitor_history(
            monitor, column=column, metric=metric, limit=limit, by=by
        )
        if json_:
            from steward.domain.monitoring import HistoryPoint

            output.emit_json(points, list[HistoryPoint])
            return
        output.table(
            "History",
            ["window (UTC)", "run", "column", "metric", "value", "± bound", "method / mode / bins"],
            [
                (
                    f"{p.window_start:%Y-%m-%d %H:%M}",
                    p.run_id if by == "run" else f"{len(p.details.get('runs', []))} run(s)",
                    p.column or "(dataset)",
                    p.metric,
                    _fmt(p.value),
                    _fmt(p.details.get("error_bound")),
                    " / ".join(
                        str(p.details[k])
                        for k in ("method", "mode", "binning")
                        if p.details.get(k)
                    ),
                )
                for p in points
            ],
        )

    output.run(go)


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Only this model's alerts.")] = None,
    monitor: Annotated[str | None, typer.Option(help="Only this monitor's.")] = None,
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    json_: JsonOpt = False,
) -> None:
    """List monitoring alerts."""

    def go() -> None:
        found = _client(ctx).alerts(model=model, monitor=monitor, status=status)
        if json_:
            from steward.domain.monitoring import Alert

            output.emit_json(found, list[Alert])
            return
        output.table(
            "Alerts",
            [
                "id",
                "model",
                "severity",
                "status",
                "rule",
                "value",
                "breaches",
                "finding",
                "moved to",
            ],
            [
                (
                    a.id,
                    f"{a.model} v{a.version}",
                    a.severity,
                    a.status.value,
                    a.message,
                    _fmt(a.value),
                    a.breaches,
                    a.finding_id or "-",
                    a.transition or "-",
                )
                for a in found
            ],
        )

    output.run(go)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    alert: Annotated[str, typer.Argument(help="Alert id (alrt_…).")],
    note: Annotated[str, typer.Option(help="What was found and done.")],
    json_: JsonOpt = False,
) -> None:
    """Resolve an alert (and its finding) with a note."""

    def go() -> None:
        a = _client(ctx).resolve_alert(alert, note)
        output.emit_json(a) if json_ else output.console().print(f"Resolved alert {a.id}")

    output.run(go)


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    worker: Annotated[bool, typer.Option("--worker", help="Keep running due monitors.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes (--worker).")] = 60.0,
    engine: Annotated[str, typer.Option(help="duckdb, numpy or spark.")] = "duckdb",
    iterations: Annotated[
        int | None,
        typer.Option(min=1, help="With --worker: stop after this many passes (default: never)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Run the monitors whose schedule is due (cron-friendly); --worker keeps doing so."""

    def once() -> None:
        report = _client(ctx).run_due_monitors(engine=engine)
        if json_:
            output.emit_json(report)
            return
        output.console().print(
            f"Ran {len(report.ran)} monitor(s); {report.not_due} not due; "
            f"{len(report.failed)} failed."
        )
        for monitor_id, why in report.failed:
            output.err_console().print(f"  {monitor_id}: {why}")

    def go() -> None:
        import time

        if iterations is not None and not worker:
            raise InvalidInput(
                "--iterations bounds the --worker loop; add --worker or drop --iterations.",
                field="iterations",
            )
        once()
        done = 1
        while worker and (iterations is None or done < iterations):
            time.sleep(interval)
            once()
            done += 1

    output.run(go)
