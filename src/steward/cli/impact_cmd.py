"""`steward impact ...` — AI impact assessments: the form, submit, decide, show, history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.parsing import pairs

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("form")
def form(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The impact assessment form: ISO/IEC 42005 sections and EU AI Act Art. 27 fields."""

    def go() -> None:
        found = _client(ctx).impact_form()
        if json_:
            output.emit_json(found)
            return
        output.table(
            f"{found.title} ({found.id} {found.version})",
            ["field", "section", "asks", "required", "references"],
            [
                (
                    f.id,
                    f.section,
                    f.text,
                    "high-risk (Art. 27)" if f.fria else ("yes" if f.required else "no"),
                    "; ".join(f.refs),
                )
                for f in found.fields
            ],
        )

    output.run(go)


def _show(a: Any) -> None:
    output.fields(
        f"Impact assessment {a.id} of {a.model}, revision {a.revision}",
        [
            ("status", f"{a.status} — STALE: {a.stale}" if a.stale else a.status),
            ("form", f"{a.form} {a.form_version}"),
            ("submitted", f"{a.submitted_at:%Y-%m-%d %H:%M:%S} UTC by {a.submitted_by}"),
            (
                "decided",
                f"{a.decided_at:%Y-%m-%d %H:%M:%S} UTC by {a.decided_by}: {a.comment}"
                if a.decided_at
                else "",
            ),
        ],
    )
    output.table(None, ["field", "answer"], sorted(a.answers.items()))


@app.command("submit")
def submit(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    answers: Annotated[
        Path | None, typer.Option("--answers", help="YAML file: field: text.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="field=text; repeat; overrides the file."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Submit a new revision of a model's impact assessment (someone else decides it)."""
    if answers is None and not set_:
        raise typer.BadParameter(
            "Give the answers with --answers FILE or --set field=text (see `steward impact form`)."
        )

    def go() -> None:
        import yaml

        merged: dict[str, Any] = {}
        if answers is not None:
            try:
                loaded = yaml.safe_load(answers.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise typer.BadParameter(f"Cannot read {answers}: {exc}") from None
            if not isinstance(loaded, dict):
                raise typer.BadParameter(f"{answers} must map field ids to text.")
            merged.update(loaded)
        merged.update(pairs(set_, "Answer"))
        found = _client(ctx).submit_impact_assessment(model, merged)
        if json_:
            output.emit_json(found)
        else:
            _show(found)

    output.run(go)


@app.command("decide")
def decide(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    approve: Annotated[
        bool, typer.Option("--approve/--reject", help="Approve or reject the revision.")
    ],
    comment: Annotated[str, typer.Option("-c", "--comment", help="Why (required).")],
    revision: Annotated[
        int | None, typer.Option("--revision", help="The revision you read (refused if newer).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Approve or reject the revision awaiting a decision (not by its submitter or the
    model's owner)."""

    def go() -> None:
        found = _client(ctx).decide_impact_assessment(
            model, approve=approve, comment=comment, revision=revision
        )
        if json_:
            output.emit_json(found)
        else:
            _show(found)

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    history: Annotated[bool, typer.Option("--history", help="Every revision.")] = False,
    json_: JsonOpt = False,
) -> None:
    """The approved impact assessment that counts (and whether it is stale), or history."""

    def go() -> None:
        from steward.domain.impact import ImpactAssessment

        client = _client(ctx)
        if history:
            found = client.impact_history(model)
            if json_:
                output.emit_json(found, list[ImpactAssessment])
                return
            output.table(
                f"Impact assessments of {model}",
                ["revision", "id", "status", "submitted by", "decided by", "comment"],
                [
                    (a.revision, a.id, a.status, a.submitted_by, a.decided_by or "", a.comment)
                    for a in found
                ],
            )
            return
        current = client.impact_assessment(model)
        if json_:
            output.emit_json(current, ImpactAssessment | None)
            return
        if current is None:
            output.console().print(
                f"{model} has no approved impact assessment "
                f"(`steward impact show {model} --history` lists what was submitted)."
            )
            return
        _show(current)

    output.run(go)
