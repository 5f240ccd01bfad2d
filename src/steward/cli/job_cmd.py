"""`steward job list|show|wait|cancel|submit|result` — background jobs run by `steward worker`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.domain.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
JobArg = Annotated[str, typer.Argument(help="Job id (job_…), as `steward job list` shows.")]
FAILED_EXIT = 2  # the job ended, but failed or was cancelled (errors exit 1)


def _when(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def _result(job: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(job.result.items()))


def print_job(job: Any) -> None:
    output.fields(
        f"Job {job.id}",
        [
            ("kind", job.kind.value),
            ("model", job.model if job.version is None else f"{job.model} v{job.version}"),
            ("status", job.status.value + (" (cancel requested)" if job.cancel_requested else "")),
            ("progress", f"{job.progress:.0%} — {job.stage}"),
            ("requested by", job.requested_by),
            ("created (UTC)", _when(job.created_at)),
            ("started (UTC)", _when(job.started_at)),
            ("finished (UTC)", _when(job.finished_at)),
            ("attempts", job.attempts),
            ("result", _result(job)),
            ("error", job.error),
        ],
    )


def follow(client: Any, job: Any, *, poll: float = 1.0) -> Any:
    """Show a Rich progress bar until the job has finished; returns the finished job."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<45}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=output.err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(job.stage, total=1.0)

        def update(found: Any) -> None:
            label = (
                found.stage if found.status.value != "queued" else "queued: waiting for a worker"
            )
            bar.update(task, completed=found.progress, description=label)

        return client.wait_job(job.id, poll=poll, on_update=update)


def finished(job: Any, json_: bool) -> None:
    """Print a finished job; exit 2 unless it succeeded."""
    if json_:
        output.emit_json(job)
    else:
        print_job(job)
    if job.status.value != "succeeded":
        raise typer.Exit(FAILED_EXIT)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only this model's jobs.")] = None,
    status: Annotated[
        str | None, typer.Option(help="queued, running, succeeded, failed or cancelled.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="validation, monitor_run, evidence_pack or model_card_pdf."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Jobs, newest first, on the models you may see."""

    def go() -> None:
        from steward.domain.jobs import Job

        found = ctx.obj.client().jobs(model, status=status, kind=kind, limit=limit)
        if json_:
            output.emit_json(found, list[Job])
            return
        output.table(
            "Jobs",
            ["id", "kind", "model", "version", "status", "progress", "stage", "by", "created"],
            [
                (
                    j.id,
                    j.kind.value,
                    j.model,
                    j.version,
                    j.status.value,
                    f"{j.progress:.0%}",
                    j.stage,
                    j.requested_by,
                    _when(j.created_at),
                )
                for j in found
            ],
        )

    output.run(go)


@app.command("show")
def show(ctx: typer.Context, job_id: JobArg, json_: JsonOpt = False) -> None:
    """A job's status, progress, result or error."""

    def go() -> None:
        found = ctx.obj.client().job(job_id)
        if json_:
            output.emit_json(found)
        else:
            print_job(found)

    output.run(go)


@app.command("wait")
def wait(
    ctx: typer.Context,
    job_id: JobArg,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between looks.")] = 1.0,
    json_: JsonOpt = False,
) -> None:
    """Follow a job with a progress bar until it ends; exit 2 unless it succeeded."""
    done: list[Any] = []

    def go() -> None:
        client = ctx.obj.client()
        found = client.job(job_id)
        done.append(
            client.wait_job(job_id, poll=poll) if json_ else follow(client, found, poll=poll)
        )

    output.run(go)
    finished(done[0], json_)


@app.command("cancel")
def cancel(ctx: typer.Context, job_id: JobArg, json_: JsonOpt = False) -> None:
    """Cancel a queued job, or ask a running one to stop at its next stage."""

    def go() -> None:
        found = ctx.obj.client().cancel_job(job_id)
        if json_:
            output.emit_json(found)
        elif found.status.value == "cancelled":
            output.console().print(f"Job {found.id} cancelled.")
        else:
            output.console().print(
                f"Job {found.id} is running: asked to stop at its next stage "
                f"(`steward job wait {found.id}`)."
            )

    output.run(go)


@app.command("submit")
def submit(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="monitor_run, evidence_pack, model_card_pdf or validation.")
    ],
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[
        int | None, typer.Option(help="Version number (model_card_pdf, validation need one).")
    ] = None,
    monitor: Annotated[
        str | None, typer.Option(help="monitor_run: the monitor (mon_… id).")
    ] = None,
    include_pdf: Annotated[bool, typer.Option(help="evidence_pack: add PDF model cards.")] = True,
    stored_data: Annotated[
        str | None,
        typer.Option(
            "--stored-data",
            help="validation: data the server holds — NAME@VERSION of a dataset, or training "
            "/ evaluation (the version's own). To upload a file: `steward check run "
            "--background`.",
        ),
    ] = None,
    stored_reference: Annotated[
        str | None,
        typer.Option("--stored-reference", help="validation: reference data, as --stored-data."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="validation: the label column.")] = None,
    sensitive: Annotated[
        str, typer.Option(help="validation: sensitive columns, comma-separated.")
    ] = "",
    suite: Annotated[str | None, typer.Option(help="validation: the suite's name.")] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Print the queued job and return at once.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Queue a job for `steward worker` (a validation job on uploaded data: `steward check run
    --background`; on data the server holds: `validation --stored-data NAME@VERSION`)."""
    done: list[Any] = []

    def go() -> None:
        params: dict[str, Any] = {}
        if kind == "monitor_run" and monitor is not None:
            params["monitor"] = monitor
        if kind == "evidence_pack":
            params["include_pdf"] = include_pdf
        client = ctx.obj.client()
        if kind == "validation":
            if version is None:
                raise InvalidInput("A validation job needs --version.", field="version")
            found = client.submit_validation(
                model,
                version,
                stored_data=stored_data,
                stored_reference=stored_reference,
                target=target,
                sensitive_features=[s.strip() for s in sensitive.split(",") if s.strip()],
                suite=suite,
            )
        else:
            found = client.submit_job(kind, model, version, **params)
        if no_wait:
            done.append(found)
        else:
            done.append(client.wait_job(found.id) if json_ else follow(client, found))

    output.run(go)
    if no_wait:
        if json_:
            output.emit_json(done[0])
        else:
            output.console().print(
                f"Queued job {done[0].id}; follow it with `steward job wait {done[0].id}`."
            )
        return
    finished(done[0], json_)


@app.command("result")
def result(
    ctx: typer.Context,
    job_id: JobArg,
    out: Annotated[Path, typer.Option("--out", help="File or folder to save it in.")] = Path(),
) -> None:
    """Save the file an evidence-pack or model-card job made."""

    def go() -> None:
        written = ctx.obj.client().job_result(job_id, out)
        output.console().print(f"Saved {written}")

    output.run(go)
