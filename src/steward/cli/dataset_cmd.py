"""`steward dataset create|update|list|show|snapshot|rules|approve|impact|card` — datasets as
governed assets (docs/datasets.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TitleOpt = Annotated[str | None, typer.Option(help="A short title.")]
DescriptionOpt = Annotated[str | None, typer.Option(help="What the data is.")]
OwnerOpt = Annotated[str | None, typer.Option(help="The user accountable for it.")]
TeamOpt = Annotated[str | None, typer.Option(help="The team that stewards it.")]
SourceOpt = Annotated[
    str | None,
    typer.Option(help="conn:NAME#table=schema.t, conn:NAME#path=glob, s3://… or a file path."),
]
ClassOpt = Annotated[str | None, typer.Option(help="public, internal, confidential or restricted.")]
LegalOpt = Annotated[str | None, typer.Option(help="Legal basis for holding the data.")]
ConsentOpt = Annotated[str | None, typer.Option(help="Reference to the consent record.")]
RetentionOpt = Annotated[str | None, typer.Option(help="How long it is kept, e.g. 7y or 90d.")]
LicenceOpt = Annotated[str | None, typer.Option(help="Licence or terms of use.")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="A label (repeatable).")]
StatusOpt = Annotated[str | None, typer.Option(help="proposed, active or retired.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _values(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


def _fields(found: Any) -> list[tuple[str, Any]]:
    return [
        ("title", found.title),
        ("owner", found.owner),
        ("steward team", found.steward_team),
        ("source", found.source),
        ("classification", found.classification.value),
        ("legal basis", found.legal_basis),
        ("consent", found.consent_ref),
        ("retention", found.retention),
        ("licence", found.licence),
        ("tags", ", ".join(found.tags)),
        ("status", found.status.value),
        ("versions", found.latest_version),
        ("description", found.description),
    ]


# The record's fields as `create` and `update` take them (the CLI's --tag is `tags`).
_FIELD_PARAMS = {
    "title": "title",
    "description": "description",
    "owner": "owner",
    "steward_team": "steward_team",
    "source": "source",
    "classification": "classification",
    "legal_basis": "legal_basis",
    "consent_ref": "consent_ref",
    "retention": "retention",
    "licence": "licence",
    "tag": "tags",
    "status": "status",
}


def _edit(ctx: typer.Context, method: str, name: str, json_: bool, given: dict[str, Any]) -> None:
    """`create` and `update`: send the given fields, print the record as it now is."""

    def go() -> None:
        fields = _values(**{key: given[param] for param, key in _FIELD_PARAMS.items()})
        found = getattr(_client(ctx), method)(name, **fields)
        if json_:
            output.emit_json(found)
            return
        output.fields(f"Dataset {found.name}", _fields(found))

    output.run(go)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. loan-applications.")],
    title: TitleOpt = None,
    description: DescriptionOpt = None,
    owner: OwnerOpt = None,
    steward_team: TeamOpt = None,
    source: SourceOpt = None,
    classification: ClassOpt = None,
    legal_basis: LegalOpt = None,
    consent_ref: ConsentOpt = None,
    retention: RetentionOpt = None,
    licence: LicenceOpt = None,
    tag: TagOpt = None,
    status: StatusOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Register a dataset with its owner, steward team, source and classification."""
    _edit(ctx, "create_dataset", name, json_, locals())


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    title: TitleOpt = None,
    description: DescriptionOpt = None,
    owner: OwnerOpt = None,
    steward_team: TeamOpt = None,
    source: SourceOpt = None,
    classification: ClassOpt = None,
    legal_basis: LegalOpt = None,
    consent_ref: ConsentOpt = None,
    retention: RetentionOpt = None,
    licence: LicenceOpt = None,
    tag: TagOpt = None,
    status: StatusOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change fields of a dataset (each change is journalled with before and after)."""
    _edit(ctx, "update_dataset", name, json_, locals())


@app.command("list")
def list_(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Only this owner's datasets.")] = None,
    steward_team: Annotated[str | None, typer.Option(help="Only this team's datasets.")] = None,
    classification: ClassOpt = None,
    status: StatusOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """The dataset inventory."""

    def go() -> None:
        page = _client(ctx).list_datasets(
            limit=limit,
            **_values(
                owner=owner,
                steward_team=steward_team,
                classification=classification,
                status=status,
            ),
        )
        if json_:
            output.emit_json(page.items, list[Any])
            return
        output.table(
            None,
            ["name", "classification", "owner", "steward team", "versions", "status", "source"],
            [
                (
                    d.name,
                    d.classification.value,
                    d.owner,
                    d.steward_team,
                    d.latest_version,
                    d.status.value,
                    d.source,
                )
                for d in page
            ],
        )

    output.run(go)


def _version_rows(found: Any) -> list[tuple[Any, ...]]:
    return [
        (
            f"{v.dataset}@{v.version}",
            v.fingerprint[:12],
            v.rows,
            v.columns,
            v.quality.value,
            ", ".join(a.approver for a in v.approvals) or "-",
            f"{v.created_at:%Y-%m-%d %H:%M} by {v.created_by}",
        )
        for v in found
    ]


_VERSION_COLUMNS = [
    "version",
    "fingerprint",
    "rows",
    "columns",
    "quality",
    "approved by",
    "created",
]


def _print_results(found: Any) -> None:
    output.table(
        "Quality rules" + (f" (revision {found.rules_revision})" if found.rules_revision else ""),
        ["rule", "line", "result", "failing rows", "detail", "samples"],
        [
            (
                r.rule,
                r.line or "",
                "pass" if r.passed else "FAIL",
                r.failing_rows,
                r.detail,
                "; ".join(str(s) for s in r.samples[:3]),
            )
            for r in found.results
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, or NAME@VERSION for one version.")],
    json_: JsonOpt = False,
) -> None:
    """A dataset with its versions, or one version with its rule results and approvals."""

    def go() -> None:
        client = _client(ctx)
        if "@" in ref:
            found = client.get_dataset_version(ref)
            if json_:
                output.emit_json(found)
                return
            output.table(None, _VERSION_COLUMNS, _version_rows([found]))
            output.table("Schema", ["column", "type"], [(c.name, c.type) for c in found.schema])
            _print_results(found)
            for a in found.approvals:
                output.console().print(
                    f"approved by {a.approver} at {a.at:%Y-%m-%d %H:%M}: {a.comment}",
                    highlight=False,
                )
            return
        dataset = client.get_dataset(ref)
        versions = client.dataset_versions(ref)
        if json_:
            output.emit_json({"dataset": dataset, "versions": versions}, dict[str, Any])
            return
        output.fields(f"Dataset {dataset.name}", _fields(dataset))
        output.table("Versions", _VERSION_COLUMNS, _version_rows(versions))
        findings = [f for f in client.dataset_findings(ref) if f.status == "open"]
        if findings:
            output.table(
                "Open findings",
                ["id", "severity", "title"],
                [(f.id, f.severity, f.title) for f in findings],
            )

    output.run(go)


@app.command("snapshot")
def snapshot(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    data: Annotated[
        Path | None,
        typer.Option(
            help="A CSV or Parquet file to snapshot; without it, the dataset's recorded source."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """A new dataset version: fingerprint, schema, profile and the quality rules' results."""

    def go() -> None:
        found = _client(ctx).snapshot_dataset(name, data)
        if json_:
            output.emit_json(found)
            return
        output.table(None, _VERSION_COLUMNS, _version_rows([found]))
        if found.results:
            _print_results(found)
        if found.quality.value == "failed":
            raise typer.Exit(1)

    output.run(go)


@app.command("rules")
def rules(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="A YAML rules file to store as the next revision."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Set the dataset's quality rules from a YAML file, or list their revisions."""

    def go() -> None:
        client = _client(ctx)
        if file is not None:
            if not file.is_file():
                from steward.domain.errors import InvalidInput

                raise InvalidInput(f"No rules file {str(file)!r}: pass an existing YAML file.")
            found = client.set_dataset_rules(name, file)
            if json_:
                output.emit_json(found)
                return
            output.console().print(
                f"Stored revision {found.revision} of {name}'s rules ({found.rules} rules); "
                f"they run on the next `steward dataset snapshot {name}`.",
                highlight=False,
            )
            return
        revisions = client.dataset_rules(name)
        if json_:
            output.emit_json(revisions, list[Any])
            return
        output.table(
            None,
            ["revision", "file", "rules", "sha256", "created"],
            [
                (
                    r.revision,
                    r.filename,
                    r.rules,
                    r.sha256[:12],
                    f"{r.created_at:%Y-%m-%d %H:%M} by {r.created_by}",
                )
                for r in revisions
            ],
        )

    output.run(go)


@app.command("approve")
def approve(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why it is fit for use.")] = "",
    json_: JsonOpt = False,
) -> None:
    """Approve a dataset version for use (a data steward; never the dataset's owner)."""

    def go() -> None:
        found = _client(ctx).approve_dataset(ref, comment)
        if json_:
            output.emit_json(found)
            return
        output.console().print(
            f"Approved {found.dataset}@{found.version} "
            f"({', '.join(a.approver for a in found.approvals)})",
            highlight=False,
        )

    output.run(go)


@app.command("impact")
def impact(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    open_findings: Annotated[
        bool,
        typer.Option(
            "--open-findings",
            help="A data recall: open a finding on every model version built on it.",
        ),
    ] = False,
    severity: Annotated[
        str, typer.Option(help="The recall findings' severity: low, medium, high, critical.")
    ] = "high",
    message: Annotated[
        str, typer.Option("--message", "-m", help="Why the data is unfit (with --open-findings).")
    ] = "",
    json_: JsonOpt = False,
) -> None:
    """Model versions trained or evaluated on a dataset version, and where they run;
    with --open-findings, a data recall that opens a finding on each of them."""

    def go() -> None:
        if open_findings:
            _recall(ctx, ref, severity, message, json_)
            return
        found = _client(ctx).dataset_impact(ref)
        if json_:
            output.emit_json(found)
            return
        if not found.models:
            output.console().print(
                f"No model version was built on {found.dataset}@{found.version}.",
                highlight=False,
            )
            return
        output.table(
            f"Built on {found.dataset}@{found.version}",
            ["model", "version", "stage", "as", "deployments"],
            [
                (m.model, m.version, m.stage, m.role, ", ".join(m.deployments) or "-")
                for m in found.models
            ],
        )

    output.run(go)


@app.command("card")
def card(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    format: Annotated[str, typer.Option("--format", "-f", help="html, md or pdf.")] = "html",
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="File to write (default: NAME-dataset-card.EXT; - for stdout)."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """The dataset card (datasheet): inventory, versions, quality results, personal data,
    approvals and the model versions built on it. PDF needs the `pdf` extra."""

    def go() -> None:
        output.write_document(_client(ctx).dataset_card(name, format), out, json_)

    output.run(go)


def _recall(ctx: typer.Context, ref: str, severity: str, message: str, json_: bool) -> None:
    recalled = _client(ctx).recall_dataset(ref, message, severity)
    if json_:
        output.emit_json(recalled)
        return
    title = f"Data recall of {recalled.dataset}@{recalled.version}"
    if not recalled.findings:
        output.console().print(f"{title}: no model version was built on it.", highlight=False)
        return
    output.table(
        f"{title}: {recalled.opened} finding(s) opened, "
        f"{len(recalled.findings) - recalled.opened} already open",
        ["finding", "model", "version", "severity", "deployments"],
        [
            (
                f.id,
                f.model,
                f.version,
                f.severity.value,
                ", ".join(f.evidence.get("deployments", [])) or "-",
            )
            for f in recalled.findings
        ],
    )


@app.command("discover")
def discover(
    ctx: typer.Context,
    connection: Annotated[str, typer.Argument(help="conn:NAME, a registered data connection.")],
    json_: JsonOpt = False,
) -> None:
    """Tables and files behind a connection that no registered dataset covers (data
    stewards and admins)."""

    def go() -> None:
        found = _client(ctx).discover_datasets(connection)
        if json_:
            output.emit_json(found)
            return
        output.table(
            f"Ungoverned in {found.connection} ({found.kind}): {len(found.ungoverned)} of "
            f"{len(found.ungoverned) + len(found.governed)}",
            ["object", "kind", "rows"],
            [(o.name, o.kind, "?" if o.rows is None else o.rows) for o in found.ungoverned],
        )
        if found.truncated:
            output.console().print(
                "The catalogue lists more objects than one discovery reads; the first "
                "ones are shown.",
                highlight=False,
            )

    output.run(go)
