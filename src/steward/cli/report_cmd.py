"""`steward report model-card|narrative|history|fields` — model cards and their narrative."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("model-card")
def model_card(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    format: Annotated[str, typer.Option("--format", "-f", help="html, md, pdf or json.")] = "html",
    out: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="File to write (default: MODEL-vN-model-card.EXT)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Generate the model card (EU AI Act Annex IV technical documentation) of a version.

    Everything but the owner's narrative fields comes from the evidence Steward holds:
    inventory record, data fingerprints and profile, validation results and plots,
    fairness by group, risk assessment, findings, approvals, monitoring.
    """

    def go() -> None:
        rendered = _client(ctx).render_model_card(model, version, format=format)
        output.write_document(rendered, out, json_)

    output.run(go)


def _parse_sets(sets: list[str], files: list[str]) -> dict[str, str]:
    from steward.domain.errors import InvalidInput

    values: dict[str, str] = {}
    for item, from_file in [(s, False) for s in sets] + [(f, True) for f in files]:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            option = "--from-file FIELD=PATH" if from_file else "--set FIELD=TEXT"
            raise InvalidInput(f"{item!r} is not FIELD=VALUE; use {option}.", field="field")
        if from_file:
            try:
                text = Path(text).read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(
                    f"Cannot read {text} for {key}: {exc.strerror}.", field=key
                ) from None
        values[key.strip()] = text
    return values


@app.command("narrative")
def narrative(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=TEXT to write (repeatable)."),
    ] = None,
    from_file: Annotated[
        list[str] | None,
        typer.Option("--from-file", help="FIELD=PATH: the text of a file (repeatable)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Show the narrative fields of a version's card, or write some with --set/--from-file."""

    def go() -> None:
        from steward.compliance.modelcard import Narrative

        client = _client(ctx)
        values = _parse_sets(set_ or [], from_file or [])
        found = (
            client.set_narrative(model, version, values)
            if values
            else client.narratives(model, version)
        )
        if json_:
            output.emit_json(found, list[Narrative])
            return
        have = {n.field: n for n in found}
        rows = []
        for spec in client.narrative_fields():
            n = have.get(spec["key"])
            if n is None:
                rows.append((spec["key"], "(not written)", "", spec["prompt"]))
            else:
                origin = f"r{n.revision} {n.written_by} {n.written_at:%Y-%m-%d}"
                if n.from_version != n.version:
                    origin += f" (from v{n.from_version})"
                rows.append((spec["key"], origin, n.audit_seq, n.text[:300]))
        output.table(
            f"Narrative of {model} version {version}",
            ["field", "revision", "audit seq", "text"],
            rows,
        )

    output.run(go)


@app.command("history")
def history(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    field: Annotated[str | None, typer.Option(help="Only this field.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Every revision of the narrative fields written for a version."""

    def go() -> None:
        from steward.compliance.modelcard import Narrative

        found = _client(ctx).narrative_history(model, version, field)
        if json_:
            output.emit_json(found, list[Narrative])
            return
        output.table(
            f"Narrative revisions of {model} version {version}",
            ["field", "revision", "written", "by", "current", "audit seq", "text"],
            [
                (
                    n.field,
                    n.revision,
                    f"{n.written_at:%Y-%m-%d %H:%M}",
                    n.written_by,
                    "yes" if n.superseded_at is None else "no",
                    n.audit_seq,
                    n.text[:200],
                )
                for n in found
            ],
        )

    output.run(go)


@app.command("fields")
def fields(json_: JsonOpt = False) -> None:
    """The narrative fields an owner writes, and what each should say."""
    from steward.sdk.client import Steward

    found = Steward.narrative_fields()
    if json_:
        output.emit_json(found)
        return
    output.table(
        "Model card narrative fields",
        ["field", "title", "card section", "what to write"],
        [(f["key"], f["title"], f["section"], f["prompt"]) for f in found],
    )
