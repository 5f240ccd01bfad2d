"""`steward mlflow`: govern an MLflow model registry (import, status)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.domain.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)

TrackingUri = Annotated[
    str,
    typer.Option(
        "--tracking-uri",
        envvar="MLFLOW_TRACKING_URI",
        help="The MLflow tracking server, e.g. http://mlflow:5000 (MLFLOW_TRACKING_TOKEN "
        "authenticates to it).",
    ),
]


def _embedded(ctx: typer.Context) -> tuple[Any, Any]:
    """The context and principal: the bridge runs next to Steward's database, like the
    worker, because it moves artifacts from MLflow into Steward's store."""
    from steward import bootstrap
    from steward.services import identity
    from steward.settings import Settings, default_actor

    if ctx.obj.url:
        raise InvalidInput(
            "`steward mlflow` runs next to Steward's database, not against a server URL: "
            "unset STEWARD_URL (or drop --url) and set STEWARD_DATABASE_URL instead.",
            field="url",
        )
    context = bootstrap.build(Settings.from_env(home=ctx.obj.home))
    who = identity.principal_for(context, ctx.obj.actor or default_actor(), operator=True)
    return context, who


@app.command("import")
def import_(
    ctx: typer.Context,
    tracking_uri: TrackingUri,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Import only this MLflow registered model (repeatable)."),
    ] = None,
    stage_map: Annotated[
        list[str] | None,
        typer.Option(
            "--stage-map",
            help="Map an MLflow stage to a Steward stage, e.g. Production=validation "
            "(repeatable; default None=development, Staging=validation, "
            "Production=production, Archived=deprecated).",
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Owner of the models created (default: you).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import MLflow's registry: models, versions (artifacts stored with sha256), stages,
    aliases, tags, run params and metrics, datasets, code lineage. Safe to re-run: what is
    linked already is skipped, and an interrupted import resumes where it stopped."""

    def go() -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from steward.bridge.mlflow_source import MlflowSource
        from steward.domain import mlflow_bridge as mb
        from steward.services import mlflow_bridge as service

        mapping = mb.parse_stage_map(stage_map or [])
        source = MlflowSource(tracking_uri)
        context, who = _embedded(ctx)
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=output.err_console(),
            transient=json_,
        )
        tasks: dict[str, Any] = {}

        def on_step(step: Any) -> None:
            if step.kind == "model":
                tasks[step.mlflow_name] = bar.add_task(
                    f"{step.mlflow_name} -> {step.detail}", total=step.total
                )
            elif step.kind == "version":
                bar.advance(tasks[step.mlflow_name])

        try:
            with bar:
                summary = service.import_registry(
                    context,
                    who,
                    source,
                    only=model,
                    stage_map=mapping,
                    owner=owner,
                    progress=on_step,
                )
        finally:
            context.uow.engine.dispose()
        if json_:
            output.emit_json(dataclasses.asdict(summary))
            return
        _print_summary(summary)

    output.run(go)


def _print_summary(summary: Any) -> None:
    output.fields(
        f"Imported from MLflow at {summary.source}",
        [
            ("Models created", ", ".join(summary.models_created) or "none"),
            ("Models already linked", ", ".join(summary.models_linked) or "none"),
            ("Versions imported", len(summary.versions_imported)),
            ("Versions already linked (skipped)", summary.versions_skipped),
            ("Aliases set", ", ".join(summary.aliases_set) or "none"),
            ("Aliases not imported", "; ".join(summary.aliases_skipped) or "none"),
            (
                "Renamed (MLflow -> Steward)",
                ", ".join(f"{k!r} -> {v}" for k, v in summary.renamed.items()) or "none",
            ),
            (
                "Time downloading / storing",
                f"{summary.seconds_download:.1f} s / {summary.seconds_store:.1f} s",
            ),
        ],
    )


@app.command("sync")
def sync(
    ctx: typer.Context,
    tracking_uri: TrackingUri,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Sync only this MLflow registered model (repeatable)."),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep polling until Ctrl-C / SIGTERM.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=1.0, help="Seconds between polls with --watch.")
    ] = 60.0,
    json_: Annotated[bool, typer.Option("--json", help="Print each pass as JSON.")] = False,
) -> None:
    """Bring new MLflow models and versions into Steward, in development (the gates apply
    from there); changed descriptions follow. `steward worker` does this every scheduler
    pass when STEWARD_MLFLOW_TRACKING_URI is set."""

    def go() -> None:
        import time

        from steward.bridge.mlflow_source import MlflowSource
        from steward.services import mlflow_writeback as service

        source = MlflowSource(tracking_uri)
        context, who = _embedded(ctx)
        try:
            while True:
                outcome = service.sync_both_ways(context, who, source, only=model)
                if json_:
                    output.emit_json(
                        {
                            **dataclasses.asdict(outcome.imported),
                            "write_back": dataclasses.asdict(outcome.written),
                        }
                    )
                else:
                    output.console().print(
                        f"{outcome.summary} (MLflow at {outcome.imported.source}): "
                        + (", ".join(outcome.imported.versions_imported) or "nothing new")
                    )
                    for failure in outcome.failed:
                        output.err_console().print(f"Failed (retried next time): {failure}")
                if not watch:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return
        finally:
            context.uow.engine.dispose()

    output.run(go)


@app.command("status")
def status(
    ctx: typer.Context,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            envvar="MLFLOW_TRACKING_URI",
            help="Also compare with this MLflow server now (what differs, what is new).",
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What is linked to MLflow and, with --tracking-uri, what differs."""

    def go() -> None:
        from steward.bridge.mlflow_source import MlflowSource
        from steward.services import mlflow_bridge as service
        from steward.services import mlflow_writeback

        source = MlflowSource(tracking_uri) if tracking_uri else None
        context, who = _embedded(ctx)
        try:
            found = service.status(context, who, source)
            owed = mlflow_writeback.pending(context, who, source.id if source else None)
        finally:
            context.uow.engine.dispose()
        if json_:
            output.emit_json(
                {**dataclasses.asdict(found), "write_back": [dataclasses.asdict(p) for p in owed]}
            )
            return
        output.table(
            "Linked MLflow versions",
            ["MLflow model", "MLflow version", "Steward version", "Stage", "Differs"],
            [
                [
                    s.link.mlflow_name,
                    s.link.mlflow_version,
                    f"{s.link.model}/{s.link.version}",
                    s.link.stage,
                    "; ".join(s.differences) or ("-" if source else "(not compared)"),
                ]
                for s in found.versions
            ],
        )
        for difference in found.aliases:
            output.console().print(f"Alias differs: {difference}")
        if found.unlinked:
            output.console().print(
                "In MLflow, not yet in Steward (run `steward mlflow import`): "
                + ", ".join(found.unlinked)
            )
        if owed:
            output.table(
                "Write-back owed to MLflow (the worker's mlflow_sync job writes it)",
                ["MLflow model", "What", "Failed tries", "Next try", "Last error"],
                [
                    [
                        p.mlflow_name,
                        p.target,
                        p.attempts,
                        p.next_at.isoformat(timespec="seconds") if p.next_at else "next pass",
                        p.last_error or "-",
                    ]
                    for p in owed
                ],
            )
        else:
            output.console().print("Write-back: MLflow shows every Steward decision.")

    output.run(go)
