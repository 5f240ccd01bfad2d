"""`steward version ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.parsing import metrics, pairs, params, version_ref

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _show_version(v: Any, transitions: list[Any] | None = None) -> None:
    rows: list[tuple[str, Any]] = [
        ("stage", v.stage.value),
        ("aliases", ", ".join(v.aliases)),
        (
            "artifact",
            f"{v.artifact.filename} ({v.artifact.flavor.value}, {v.artifact.size} bytes"
            f"{', folder' if v.artifact.is_directory else ''})",
        ),
        ("sha256", v.artifact.sha256),
        ("description", v.description),
        ("params", ", ".join(f"{k}={val}" for k, val in v.params.items())),
        ("metrics", ", ".join(f"{k}={val:g}" for k, val in v.metrics.items())),
        ("tags", ", ".join(f"{k}={val}" for k, val in v.tags.items())),
        ("parent version", v.parent_version),
    ]
    if v.code:
        dirty = " (uncommitted changes)" if v.code.dirty else ""
        rows.append(("code", f"{v.code.repo_url or 'local repo'} @ {v.code.commit}{dirty}"))
    for label, ds in (("training data", v.training_data), ("evaluation data", v.evaluation_data)):
        if ds:
            rows.append(
                (label, f"{ds.rows} rows x {ds.columns} cols, fingerprint {ds.fingerprint[:16]}...")
            )
    if v.signature:
        rows.append(("inputs", ", ".join(f"{c.name}:{c.type}" for c in v.signature.inputs)))
        rows.append(("outputs", ", ".join(f"{c.name}:{c.type}" for c in v.signature.outputs)))
    rows.append(("created", f"{v.created_at:%Y-%m-%d %H:%M:%S} UTC by {v.created_by}"))
    output.fields(f"{v.model} version {v.version}", rows)
    if transitions:
        output.table(
            "Lifecycle",
            ["when (UTC)", "from", "to", "by", "justification"],
            [
                (
                    f"{t.at:%Y-%m-%d %H:%M:%S}",
                    t.from_stage.value,
                    t.to_stage.value,
                    t.actor,
                    t.justification,
                )
                for t in transitions
            ],
        )


@app.command("create")
def create(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    artifact: Annotated[Path, typer.Argument(help="Model file or folder to store.")],
    flavor: Annotated[str | None, typer.Option(help="Override the detected flavor.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="key=value")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="key=number")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value")] = None,
    description: Annotated[str, typer.Option(help="What changed in this version.")] = "",
    training_data: Annotated[Path | None, typer.Option(help="CSV or Parquet file.")] = None,
    evaluation_data: Annotated[Path | None, typer.Option(help="CSV or Parquet file.")] = None,
    target: Annotated[str | None, typer.Option(help="Target column in the data.")] = None,
    parent: Annotated[int | None, typer.Option(help="Parent version.")] = None,
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="Capture the git commit of the current folder.")
    ] = True,
    json_: JsonOpt = False,
) -> None:
    """Store a new version of a model from a file or folder."""

    def go() -> None:
        v = _client(ctx).log_version(
            model,
            artifact=artifact,
            flavor=flavor,
            params=params(param),
            metrics=metrics(metric),
            tags=pairs(tag, "Tag"),
            description=description,
            training_data=training_data,
            evaluation_data=evaluation_data,
            target=target,
            parent_version=parent,
            capture_git=git,
            code_path=Path.cwd(),
        )
        if json_:
            output.emit_json(v)
        else:
            _show_version(v)

    output.run(go)


@app.command("amend")
def amend(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    justification: Annotated[
        str, typer.Option("--justification", "-m", help="Why the version is amended.")
    ],
    artifact: Annotated[
        Path | None, typer.Option(help="A replacement model file or folder.")
    ] = None,
    training_data: Annotated[Path | None, typer.Option(help="CSV or Parquet file.")] = None,
    evaluation_data: Annotated[Path | None, typer.Option(help="CSV or Parquet file.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Correct a version before production (artifact or data); its approvals lapse."""

    def go() -> None:
        v = _client(ctx).amend_version(
            model,
            version,
            justification=justification,
            artifact=artifact,
            training_data=training_data,
            evaluation_data=evaluation_data,
        )
        if json_:
            output.emit_json(v)
        else:
            _show_version(v)

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model; omit to search all.")] = None,
    stage: Annotated[str | None, typer.Option(help="Versions in this stage.")] = None,
    tag: Annotated[str | None, typer.Option(help="key or key=value")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Versions of a model (or of every model), newest first."""

    def go() -> None:
        from steward.domain.entities import ModelVersion, Page

        client = _client(ctx)
        page = (
            client.list_versions(model, stage=stage, tag=tag, limit=limit, cursor=cursor)
            if model
            else client.search_versions(stage=stage, tag=tag, limit=limit, cursor=cursor)
        )
        if json_:
            output.emit_json(page, Page[ModelVersion])
            return
        output.table(
            None,
            ["model", "version", "stage", "flavor", "aliases", "metrics", "created", "by"],
            [
                (
                    v.model,
                    v.version,
                    v.stage.value,
                    v.artifact.flavor.value,
                    ", ".join(v.aliases),
                    ", ".join(f"{k}={val:.3g}" for k, val in list(v.metrics.items())[:3]),
                    f"{v.created_at:%Y-%m-%d %H:%M}",
                    v.created_by,
                )
                for v in page.items
            ],
        )
        if page.next_cursor:
            output.console().print(f"More: --cursor {page.next_cursor}")

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Number or alias.")],
    json_: JsonOpt = False,
) -> None:
    """One version: artifact, lineage, data, signature and lifecycle."""

    def go() -> None:
        client = _client(ctx)
        v = client.get_version(model, version_ref(version))
        transitions = client.transitions(model, v.version)
        if json_:
            from steward import wire

            output.emit_json({**wire.dump(v), "transitions": [wire.dump(t) for t in transitions]})
        else:
            _show_version(v, transitions)

    output.run(go)


@app.command("download")
def download(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Number or alias.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="File or folder to write.")] = Path(),
) -> None:
    """Write the exact stored bytes, verified against their sha256."""

    def go() -> None:
        path = _client(ctx).download(model, version_ref(version), out)
        output.console().print(f"Wrote {path}")

    output.run(go)


@app.command("bom")
def bom(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    format: Annotated[
        str, typer.Option("--format", help="cyclonedx (1.6 ML-BOM) or spdx (3.0 JSON-LD).")
    ] = "cyclonedx",
    sign: Annotated[
        bool,
        typer.Option(
            "--sign",
            help="Embed a JSF signature by the governance key (CycloneDX allows it; SPDX not).",
        ),
    ] = False,
    out: output.DocumentOut = None,
    json_: JsonOpt = False,
) -> None:
    """The version's bill of materials: model with its sha256, data with fingerprints,
    metrics, fairness by group and intended use, as CycloneDX or SPDX 3."""

    def go() -> None:
        rendered = _client(ctx).version_bom(model, version, format=format, sign=sign)
        output.write_document(rendered, out, json_)

    output.run(go)


@app.command("alias")
def alias(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    name: Annotated[str, typer.Argument(help="Alias, e.g. champion.")],
    version: Annotated[int | None, typer.Argument(help="Version to point the alias at.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Point an alias (e.g. champion) at a version, move it, or delete it."""

    def go() -> None:
        client = _client(ctx)
        if delete:
            client.delete_alias(model, name)
            output.console().print(f"Deleted alias {name} of {model}")
            return
        if version is None:
            raise typer.BadParameter("Give the version to point the alias at, or --delete.")
        v = client.set_alias(model, name, version)
        if json_:
            output.emit_json(v)
        else:
            output.console().print(f"{model}@{name} -> version {v.version}")

    output.run(go)


@app.command("transition")
def transition(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    to: Annotated[str, typer.Option("--to", help="Target stage.")],
    justification: Annotated[
        str, typer.Option("--justification", "-m", help="Why this move (recorded).")
    ],
    json_: JsonOpt = False,
) -> None:
    """Move a version along its lifecycle (illegal moves are refused with the allowed ones)."""

    def go() -> None:
        result = _client(ctx).transition(model, version, to=to, justification=justification)
        if json_:
            output.emit_json(result)
            return
        t = result.transition
        output.console().print(
            f"{model} version {version}: {t.from_stage.value} -> {t.to_stage.value}"
        )
        for d in result.displaced:
            output.console().print(
                f"  version {d.version}: {d.from_stage.value} -> {d.to_stage.value} (replaced)"
            )

    output.run(go)
