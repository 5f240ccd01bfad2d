"""`steward model ...`"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.parsing import moment

app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _model_fields(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _show_model(model: Any) -> None:
    output.fields(
        f"Model {model.name}",
        [
            ("title", model.title),
            ("purpose", model.purpose),
            ("description", model.description),
            ("owner", model.owner),
            ("team", model.team),
            ("business unit", model.business_unit),
            ("risk tier", model.risk_tier.value),
            ("regulatory category", model.regulatory_category.value),
            ("status", model.status.value),
            ("tags", ", ".join(model.tags)),
            ("next review", model.next_review_date),
            ("several in production", "yes" if model.allow_multiple_production else "no"),
            ("positive prediction", model.positive_means.value),
            ("latest version", model.latest_version or "-"),
            ("created", f"{model.created_at:%Y-%m-%d %H:%M} UTC by {model.created_by}"),
            ("updated", f"{model.updated_at:%Y-%m-%d %H:%M} UTC"),
        ],
    )


TitleOpt = Annotated[str | None, typer.Option(help="Human-readable title.")]
DescOpt = Annotated[str | None, typer.Option(help="What the model is.")]
PurposeOpt = Annotated[str | None, typer.Option(help="Intended purpose / use case.")]
BuOpt = Annotated[str | None, typer.Option("--business-unit", help="Business unit.")]
OwnerOpt = Annotated[str | None, typer.Option(help="Accountable owner (default: you).")]
TeamOpt = Annotated[str | None, typer.Option(help="Owning team.")]
TierOpt = Annotated[
    str | None, typer.Option("--risk-tier", help="unassessed, low, medium, high or critical.")
]
CatOpt = Annotated[
    str | None,
    typer.Option(
        "--regulatory-category", help="EU AI Act: unassessed, prohibited, high, limited, minimal."
    ),
]
OverrideOpt = Annotated[
    str | None,
    typer.Option(
        "--override-reason",
        help="Why --risk-tier/--regulatory-category are set by hand instead of by "
        "`steward risk assess` (required with them; needs the risk:assess permission).",
    ),
]
StatusOpt = Annotated[str | None, typer.Option(help="proposed, active or retired.")]
ReviewOpt = Annotated[str | None, typer.Option("--next-review-date", help="YYYY-MM-DD.")]
MultiOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-multiple-production/--single-production",
        help="Allow several production versions at once (champion/challenger).",
    ),
]
PositiveOpt = Annotated[
    str | None,
    typer.Option(
        "--positive-means",
        help="What a positive prediction means for the person: favourable (approve, hire) or "
        "adverse (deny, default, high risk). Fairness is measured on the favourable outcome.",
    ),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique slug.")],
    title: TitleOpt = None,
    description: DescOpt = None,
    purpose: PurposeOpt = None,
    business_unit: BuOpt = None,
    owner: OwnerOpt = None,
    team: TeamOpt = None,
    tag: Annotated[list[str] | None, typer.Option(help="Label; repeat for several.")] = None,
    risk_tier: TierOpt = None,
    regulatory_category: CatOpt = None,
    override_reason: OverrideOpt = None,
    status: StatusOpt = None,
    next_review_date: ReviewOpt = None,
    allow_multiple_production: MultiOpt = None,
    positive_means: PositiveOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Register a model in the inventory."""

    def go() -> None:
        model = _client(ctx).create_model(
            name,
            **_model_fields(
                title=title,
                description=description,
                purpose=purpose,
                business_unit=business_unit,
                owner=owner,
                team=team,
                tags=tag,
                risk_tier=risk_tier,
                regulatory_category=regulatory_category,
                status=status,
                next_review_date=next_review_date,
                allow_multiple_production=allow_multiple_production,
                positive_means=positive_means,
                risk_override_reason=override_reason,
            ),
        )
        if json_:
            output.emit_json(model)
        else:
            _show_model(model)

    output.run(go)


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    title: TitleOpt = None,
    description: DescOpt = None,
    purpose: PurposeOpt = None,
    business_unit: BuOpt = None,
    owner: OwnerOpt = None,
    team: TeamOpt = None,
    add_tag: Annotated[
        list[str] | None, typer.Option("--add-tag", help="Label to add; repeat for several.")
    ] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--remove-tag", help="Label to remove; repeat for several.")
    ] = None,
    risk_tier: TierOpt = None,
    regulatory_category: CatOpt = None,
    override_reason: OverrideOpt = None,
    status: StatusOpt = None,
    next_review_date: ReviewOpt = None,
    allow_multiple_production: MultiOpt = None,
    positive_means: PositiveOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change fields of a model; each change is recorded field by field in the journal."""

    def go() -> None:
        client = _client(ctx)
        changes = _model_fields(
            title=title,
            description=description,
            purpose=purpose,
            business_unit=business_unit,
            owner=owner,
            team=team,
            risk_tier=risk_tier,
            regulatory_category=regulatory_category,
            status=status,
            next_review_date=next_review_date,
            allow_multiple_production=allow_multiple_production,
            positive_means=positive_means,
            risk_override_reason=override_reason,
        )
        if add_tag or remove_tag:
            current = set(client.get_model(name).tags)
            changes["tags"] = sorted((current | set(add_tag or [])) - set(remove_tag or []))
        model = client.update_model(name, **changes)
        if json_:
            output.emit_json(model)
        else:
            _show_model(model)

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Models owned by this person.")] = None,
    team: Annotated[str | None, typer.Option(help="Models of this team.")] = None,
    risk_tier: TierOpt = None,
    regulatory_category: CatOpt = None,
    status: StatusOpt = None,
    stage: Annotated[str | None, typer.Option(help="Models with a version in this stage.")] = None,
    tag: Annotated[str | None, typer.Option(help="Models with this label.")] = None,
    query: Annotated[str | None, typer.Option("-q", "--query", help="Text search.")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List models, filtered, one page at a time."""

    def go() -> None:
        from steward.domain.entities import Model, Page

        page = _client(ctx).list_models(
            owner=owner,
            team=team,
            risk_tier=risk_tier,
            regulatory_category=regulatory_category,
            status=status,
            stage=stage,
            tag=tag,
            q=query,
            limit=limit,
            cursor=cursor,
        )
        if json_:
            output.emit_json(page, Page[Model])
            return
        output.table(
            None,
            [
                "name",
                "title",
                "owner",
                "team",
                "risk",
                "EU AI Act",
                "latest",
                "tags",
                "next review",
            ],
            [
                (
                    m.name,
                    m.title,
                    m.owner,
                    m.team,
                    m.risk_tier.value,
                    m.regulatory_category.value,
                    m.latest_version or "-",
                    ", ".join(m.tags),
                    m.next_review_date,
                )
                for m in page.items
            ],
        )
        if page.next_cursor:
            output.console().print(f"More: --cursor {page.next_cursor}")

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    json_: JsonOpt = False,
) -> None:
    """A model with its versions and aliases."""

    def go() -> None:
        client = _client(ctx)
        model = client.get_model(name)
        page = client.list_versions(name, limit=20)
        if json_:
            from steward import wire

            output.emit_json(
                {"model": wire.dump(model), "versions": [wire.dump(v) for v in page.items]}
            )
            return
        _show_model(model)
        output.table(
            "Versions (newest first)",
            ["version", "stage", "flavor", "size", "aliases", "created", "by"],
            [
                (
                    v.version,
                    v.stage.value,
                    v.artifact.flavor.value,
                    v.artifact.size,
                    ", ".join(v.aliases),
                    f"{v.created_at:%Y-%m-%d %H:%M}",
                    v.created_by,
                )
                for v in page.items
            ],
        )

    output.run(go)


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Model; omit for every model.")] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Moment, ISO 8601 with zone, e.g. 2026-03-01T00:00Z (default now)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """What was in production, and which version held each alias, at a moment."""

    def go() -> None:
        from steward.domain.entities import HistoryEntry

        entries = _client(ctx).history(name, at=moment(at))
        if json_:
            output.emit_json(entries, list[HistoryEntry])
            return
        when = entries[0].at if entries else moment(at)
        output.table(
            f"As of {when:%Y-%m-%d %H:%M:%S} UTC" if when else None,
            ["model", "production", "aliases", "stages"],
            [
                (
                    e.model,
                    ", ".join(map(str, e.production)) or "-",
                    ", ".join(f"{k}={v}" for k, v in e.aliases.items()) or "-",
                    ", ".join(f"v{v}:{s.value}" for v, s in e.stages.items()),
                )
                for e in entries
            ],
        )

    output.run(go)
