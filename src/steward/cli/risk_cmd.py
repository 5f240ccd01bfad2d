"""`steward risk ...` — the questionnaire, assessing a model, its assessment and history."""

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


def _effects(option: Any) -> str:
    parts = []
    if option.points:
        parts.append(f"+{option.points}")
    if option.tier:
        parts.append(f"tier>={option.tier}")
    if option.category:
        parts.append(f"EU {option.category}")
    # parentheses, not brackets: Rich would read [..] as markup
    return f" ({', '.join(parts)})" if parts else ""


@app.command("questionnaire")
def questionnaire(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Show the risk questionnaire: each question, its answers and what they score."""

    def go() -> None:
        form = _client(ctx).risk_questionnaire()
        if json_:
            output.emit_json(form)
            return
        output.fields(
            f"Questionnaire {form.id} version {form.version}",
            [
                ("title", form.title),
                ("tiers", ", ".join(f"{k} from {v} points" for k, v in form.thresholds.items())),
            ],
        )
        output.table(
            None,
            ["question", "type", "asks", "answers: value (effect)"],
            [
                (
                    q.id,
                    ("one" if q.type == "choice" else "all that apply")
                    + (" (optional)" if q.optional else ""),
                    q.text,
                    "\n".join(f"{o.value}{_effects(o)}: {o.label}" for o in q.options),
                )
                for q in form.questions
            ],
        )

    output.run(go)


def _show_assessment(a: Any, problem: str | None = None) -> None:
    status = "superseded" if a.superseded_at else ("STALE: " + problem if problem else "current")
    output.fields(
        f"Risk assessment {a.id} of {a.model}",
        [
            ("risk tier", a.tier),
            ("EU AI Act", a.category),
            ("score", a.score),
            ("status", status),
            ("questionnaire", f"{a.questionnaire} {a.questionnaire_version}"),
            ("assessed", f"{a.assessed_at:%Y-%m-%d %H:%M:%S} UTC by {a.assessed_by}"),
        ],
    )
    output.table(
        "Reasons",
        ["outcome", "answer", "why", "reference"],
        [
            (
                f"{r.outcome} {r.value}",
                f"{r.question}={r.answer}" if r.question else "(result)",
                r.text,
                "; ".join(x for x in (r.ref, ", ".join(r.controls)) if x),
            )
            for r in a.reasons
        ],
    )


def _answers(
    client: Any, answers_file: Path | None, answer: list[str] | None
) -> dict[str, Any] | Path:
    if answers_file is not None and not answer:
        return answers_file
    merged: dict[str, Any] = {}
    if answers_file is not None:
        from steward.domain import risk

        try:
            text = answers_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"Cannot read {answers_file}: {exc}") from None
        merged.update(risk.load_answers(text, answers_file.name))
    form = client.risk_questionnaire()
    for key, value in pairs(answer, "Answer").items():
        question = form.question(key)
        if question is not None and question.type == "multi":
            merged[key] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            merged[key] = value
    return merged


@app.command("assess")
def assess(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers", help="YAML file: question: value (a list for all-that-apply questions)."
        ),
    ] = None,
    answer: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            help="question=value; a,b for all-that-apply questions; repeat; overrides the file.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Answer the risk questionnaire for a model: sets its risk tier and EU AI Act category."""
    if answers is None and not answer:
        raise typer.BadParameter(
            "Give the answers with --answers FILE or --answer question=value "
            "(see `steward risk questionnaire`)."
        )

    def go() -> None:
        client = _client(ctx)
        result = client.assess_risk(model, _answers(client, answers, answer))
        if json_:
            output.emit_json(result)
        else:
            _show_assessment(result)

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    json_: JsonOpt = False,
) -> None:
    """Show a model's current risk assessment, its reasons and whether it is still current."""

    def go() -> None:
        status = _client(ctx).risk_assessment(model)
        if json_:
            output.emit_json(status)
        elif status.assessment is None:
            output.console().print(status.problem, highlight=False)
        else:
            _show_assessment(status.assessment, status.problem)
            answers = status.assessment.answers
            output.table(
                "Answers",
                ["question", "answer"],
                [(k, ", ".join(v) if isinstance(v, list) else v) for k, v in answers.items()],
            )

    output.run(go)


@app.command("history")
def history(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    json_: JsonOpt = False,
) -> None:
    """List every risk assessment of a model, newest first."""

    def go() -> None:
        found = _client(ctx).risk_history(model)
        if json_:
            from steward.domain.risk import RiskAssessment

            output.emit_json(found, list[RiskAssessment])
            return
        output.table(
            f"Risk assessments of {model}",
            ["id", "assessed (UTC)", "by", "questionnaire", "tier", "EU AI Act", "score", "status"],
            [
                (
                    a.id,
                    f"{a.assessed_at:%Y-%m-%d %H:%M:%S}",
                    a.assessed_by,
                    f"{a.questionnaire} {a.questionnaire_version}",
                    a.tier,
                    a.category,
                    a.score,
                    f"superseded by {a.superseded_by}" if a.superseded_at else "current",
                )
                for a in found
            ],
        )

    output.run(go)
