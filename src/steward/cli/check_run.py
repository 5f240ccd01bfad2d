"""`steward check run|suites` — run a validation suite (registered on check_cmd.app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
FAILED_EXIT = 2  # the run was stored but did not pass (errors exit 1)


def _label(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _privileged(items: list[str]) -> dict[str, str]:
    from steward.domain.errors import InvalidInput

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(
                f"--privileged {item!r} must be FEATURE=VALUE, e.g. "
                "--privileged 'age_in_years=>= 25'.",
                field="privileged",
            )
        out[key.strip()] = value.strip()
    return out


def _bands(items: list[str]) -> dict[str, list[float]]:
    from steward.domain.errors import InvalidInput

    out: dict[str, list[float]] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key.strip()] = [float(v) for v in value.split(",") if v.strip()]
        except ValueError:
            out[key.strip()] = []
        if not key.strip() or not out[key.strip()]:
            raise InvalidInput(
                f"--band {item!r} must be FEATURE=CUT,CUT,..., e.g. --band age_in_years=25,40,60.",
                field="bands",
            )
    return out


def _background(
    client: Any, model: str, version: int, kwargs: dict[str, Any], *, no_wait: bool, json_: bool
) -> None:
    """Queue the run; unless ``no_wait``, follow it and print the stored run."""
    from steward.cli import job_cmd
    from steward.cli.check_records import print_run
    from steward.domain.errors import StewardError

    job = client.submit_validation(model, version, **kwargs)
    if no_wait:
        if json_:
            output.emit_json(job)
        else:
            output.console().print(
                f"Queued job {job.id}; follow it with `steward job wait {job.id}`."
            )
        return
    done = client.wait_job(job.id) if json_ else job_cmd.follow(client, job)
    if done.status.value != "succeeded":
        raise StewardError(f"Job {done.id} {done.status.value}: {done.error or done.stage}")
    run = client.check_run(done.result["check_run"])
    if json_:
        output.emit_json(run)
    else:
        print_run(run)
    if not run.passed:
        raise typer.Exit(FAILED_EXIT)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        ctx: typer.Context,
        model: Annotated[str, typer.Argument(help="Model name.")],
        version: Annotated[int, typer.Argument(help="Version number.")],
        data: Annotated[
            Path | None, typer.Option("--data", help="Evaluation data: Parquet or CSV file.")
        ] = None,
        target: Annotated[
            str | None,
            typer.Option("--target", help="Label column (predictions mode: the true labels)."),
        ] = None,
        sensitive: Annotated[
            str, typer.Option("--sensitive", help="Sensitive columns, comma-separated.")
        ] = "",
        suite: Annotated[
            str | None,
            typer.Option("--suite", help="Suite name (`steward check suites`) or a .yaml file."),
        ] = None,
        reference: Annotated[
            Path | None,
            typer.Option("--reference", help="Training data, for drift and leakage checks."),
        ] = None,
        y_pred: Annotated[
            str | None,
            typer.Option("--y-pred", help="Predictions mode: column of predicted labels."),
        ] = None,
        y_score: Annotated[
            str | None,
            typer.Option("--y-score", help="Predictions mode: column of positive-class scores."),
        ] = None,
        id_column: Annotated[
            list[str] | None,
            typer.Option(
                "--id-column",
                help="Predictions mode: a row-identifier column, not a feature (repeatable).",
            ),
        ] = None,
        positive_label: Annotated[
            str | None, typer.Option("--positive-label", help="Label of the positive class.")
        ] = None,
        positive_means: Annotated[
            str | None,
            typer.Option(
                "--positive-means",
                help="What a positive prediction means: favourable (approve) or adverse (deny, "
                "default, high risk). Default: the model's own setting.",
            ),
        ] = None,
        favorable_label: Annotated[
            str | None,
            typer.Option("--favorable-label", help="Favourable outcome fairness is measured on."),
        ] = None,
        privileged: Annotated[
            list[str] | None,
            typer.Option("--privileged", help="Privileged group, FEATURE=VALUE (repeatable)."),
        ] = None,
        band: Annotated[
            list[str] | None,
            typer.Option(
                "--band", help="Bands of a continuous feature, FEATURE=25,40,60 (repeatable)."
            ),
        ] = None,
        min_group_size: Annotated[
            int | None, typer.Option("--min-group-size", help="Smaller groups are flagged.")
        ] = None,
        trust_type: Annotated[
            list[str] | None,
            typer.Option("--trust-type", help="A skops type you reviewed and trust (repeatable)."),
        ] = None,
        trust_pickle: Annotated[
            bool,
            typer.Option(
                "--trust-pickle", help="Allow a pickle/joblib artifact (it can run any code)."
            ),
        ] = False,
        baseline: Annotated[
            int | None,
            typer.Option(
                "--baseline", help="Compare with this version (default: parent/champion)."
            ),
        ] = None,
        background: Annotated[
            bool,
            typer.Option(
                "--background",
                help="Queue the run as a job for `steward worker` and follow its progress.",
            ),
        ] = False,
        no_wait: Annotated[
            bool,
            typer.Option("--no-wait", help="With --background: print the job id and return."),
        ] = False,
        stored_data: Annotated[
            str | None,
            typer.Option(
                "--stored-data",
                help="With --background, instead of --data: data the server holds — "
                "NAME@VERSION of a dataset, or training / evaluation (the version's own).",
            ),
        ] = None,
        stored_reference: Annotated[
            str | None,
            typer.Option(
                "--stored-reference",
                help="With --background, instead of --reference: NAME@VERSION, training or "
                "evaluation.",
            ),
        ] = None,
        json_: JsonOpt = False,
    ) -> None:
        """Validate a version on data with a suite; store the results as evidence.

        Exit status 2 when the run was stored but a check failed (findings were opened).
        With --background the worker runs it (`steward job wait JOB` follows it later).
        """
        from steward.cli.check_records import print_run

        failed = False

        def go() -> None:
            nonlocal failed
            settings: dict[str, Any] = {}
            if positive_label is not None:
                settings["positive_label"] = _label(positive_label)
            if favorable_label is not None:
                settings["favorable_label"] = _label(favorable_label)
            if privileged:
                settings["privileged"] = _privileged(privileged)
            if band:
                settings["bands"] = _bands(band)
            if min_group_size is not None:
                settings["min_group_size"] = min_group_size
            kwargs: dict[str, Any] = {
                "data": data,
                "target": target,
                "sensitive_features": [s.strip() for s in sensitive.split(",") if s.strip()],
                "suite": suite,
                "reference_data": reference,
                "y_pred": y_pred,
                "y_score": y_score,
                "id_columns": list(id_column or []),
                "trusted": list(trust_type or []),
                "trust": trust_pickle,
                "baseline": baseline,
                "settings": settings,
                "positive_means": positive_means,
            }
            client = ctx.obj.client()
            from steward.domain.errors import InvalidInput

            if no_wait and not background:
                raise InvalidInput("--no-wait goes with --background.", field="no_wait")
            if (stored_data or stored_reference) and not background:
                raise InvalidInput(
                    "--stored-data and --stored-reference go with --background: the worker "
                    "reads data the server holds.",
                    field="stored_data",
                )
            if data is None and stored_data is None:
                raise InvalidInput(
                    "Give the evaluation data: --data FILE, or --background --stored-data "
                    "NAME@VERSION (or training / evaluation).",
                    field="data",
                )
            if stored_data is not None:
                kwargs["stored_data"] = stored_data
            if stored_reference is not None:
                kwargs["stored_reference"] = stored_reference
            if background:
                _background(client, model, version, kwargs, no_wait=no_wait, json_=json_)
                return
            if json_:
                result = client.validate(model, version, **kwargs)
                output.emit_json(result)
            else:
                from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

                with Progress(
                    TextColumn("{task.description:<45}", style="bold", markup=False),
                    BarColumn(),
                    TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(),
                    console=output.err_console(),
                    transient=True,
                ) as bar:
                    task = bar.add_task("loading model and data", total=None)

                    def progress(done: int, total: int, label: str) -> None:
                        bar.update(task, completed=done, total=total, description=label)

                    result = client.validate(model, version, progress=progress, **kwargs)
                print_run(result)
            failed = not result.passed

        output.run(go)
        if failed:
            raise typer.Exit(FAILED_EXIT)

    @app.command("suites")
    def suites(ctx: typer.Context, json_: JsonOpt = False) -> None:
        """The shipped validation suites and their checks."""

        def go() -> None:
            found = ctx.obj.client().validation_suites()
            if json_:
                output.emit_json(found)
                return
            output.table(
                "Validation suites",
                ["suite", "version", "task", "checks", "description"],
                [
                    (s["name"], s["version"], s["task"], len(s["checks"]), s["description"])
                    for s in found
                ],
            )

        output.run(go)
