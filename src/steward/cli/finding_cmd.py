"""`steward finding ...` — raise, list, show, update and comment on findings."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _show(f: Any, comments: list[Any] | None = None) -> None:
    rows: list[tuple[str, Any]] = [
        ("model", f.model if f.version is None else f"{f.model} version {f.version}"),
        ("severity", f.severity.value),
        (
            "scope",
            "model: holds every version" if f.scope == "model" else "this version only",
        ),
        ("status", f.status.value),
        ("owner", f.owner),
        ("due", f.due_date),
        ("source", f.source if not f.source_ref else f"{f.source} ({f.source_ref})"),
        ("description", f.description),
        ("opened", f"{f.opened_at:%Y-%m-%d %H:%M} UTC by {f.opened_by}"),
    ]
    if f.evidence:
        rows.append(("evidence", ", ".join(f"{k}={v}" for k, v in f.evidence.items())))
    if f.closed_at:
        rows.append(("closed", f"{f.closed_at:%Y-%m-%d %H:%M} UTC by {f.closed_by}"))
        rows.append(("resolution", f.resolution))
    output.fields(f"Finding {f.id}: {f.title}", rows)
    if comments:
        output.table(
            "Comments",
            ["when (UTC)", "by", "comment"],
            [(f"{c.at:%Y-%m-%d %H:%M}", c.author, c.body) for c in comments],
        )


@app.command("open")
def open_(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model the finding is about.")],
    title: Annotated[str, typer.Option(help="One line: what is wrong.")],
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")],
    version: Annotated[int | None, typer.Option(help="The version it concerns, if one.")] = None,
    description: Annotated[str, typer.Option(help="Details, evidence, impact.")] = "",
    owner: Annotated[
        str | None, typer.Option(help="Who remediates it (default: the model's owner).")
    ] = None,
    due: Annotated[
        str | None, typer.Option(help="Due date YYYY-MM-DD (default: set by severity).")
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(
            help="version (this version only; default with --version) or model (the model "
            "and every version serving its population, e.g. data or drift; default otherwise)."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Raise a finding on a model or one of its versions."""

    def go() -> None:
        f = _client(ctx).open_finding(
            model,
            title=title,
            severity=severity,
            description=description,
            version=version,
            owner=owner,
            due_date=due,
            scope=scope,
        )
        if json_:
            output.emit_json(f)
        else:
            where = "the whole model" if f.scope == "model" else f"version {f.version}"
            output.console().print(
                f"Opened finding {f.id} ({f.severity.value}) on {f.model}, scope {where}, "
                f"due {f.due_date}"
            )

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only this model's findings.")] = None,
    version: Annotated[int | None, typer.Option(help="Only this version (with --model).")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="active (default: open or in remediation), closed, all, or a status."),
    ] = None,
    severity_at_least: Annotated[
        str | None, typer.Option("--severity-at-least", help="low, medium, high or critical.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner's findings.")] = None,
    source: Annotated[str | None, typer.Option(help="manual, check, deploy, review...")] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="NAME or NAME@V: the findings a data recall of that dataset opened, and its "
            "data findings (failed quality rules)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 100,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Findings, oldest first; active ones unless --status says otherwise.

    Data findings — failed quality rules of a dataset version — follow in a second table
    (unless --model, --owner or --source narrow the list to model findings; --json lists
    model findings only: `steward finding data --json` lists the data findings)."""

    def go() -> None:
        from datetime import UTC, datetime

        from steward.domain.entities import Page
        from steward.domain.findings import Finding

        client = _client(ctx)
        page = client.findings(
            model,
            version=version,
            status=status,
            severity_at_least=severity_at_least,
            owner=owner,
            source=source,
            dataset=dataset,
            limit=limit,
            cursor=cursor,
        )
        if json_:
            output.emit_json(page, Page[Finding])
            return
        today = datetime.now(UTC).date()
        output.table(
            None,
            ["id", "model", "version", "severity", "status", "title", "owner", "due", "source"],
            [
                (
                    f.id,
                    f.model,
                    f.version,
                    f.severity.value,
                    f.status.value,
                    f.title,
                    f.owner,
                    f"{f.due_date} (overdue)" if f.overdue(today) else f.due_date,
                    # a recall's finding names its dataset version: "dataset (loans@2/…)"
                    f"{f.source} ({f.source_ref})" if f.source == "dataset" else f.source,
                )
                for f in page.items
            ],
        )
        if page.next_cursor:
            output.console().print(f"More: --cursor {page.next_cursor}")
        if model is None and owner is None and source is None:
            _data_table(
                client.data_findings(
                    dataset, status=status, severity_at_least=severity_at_least, limit=limit
                )
            )

    output.run(go)


def _data_table(found: list[Any]) -> None:
    if not found:
        return
    output.table(
        "Data findings (failed quality rules)",
        ["id", "dataset", "rule", "severity", "status", "title", "opened", "resolved by"],
        [
            (
                f.id,
                f"{f.dataset}@{f.version}",
                f.rule,
                f.severity,
                f.status,
                f.title,
                f.opened_at.date(),
                f"{f.dataset}@{f.resolved_by_version}" if f.resolved_by_version else "-",
            )
            for f in found
        ],
    )


@app.command("data")
def data(
    ctx: typer.Context,
    dataset: Annotated[
        str | None, typer.Option(help="NAME or NAME@V: only this dataset (version).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="active (default: open), closed (resolved) or all."),
    ] = None,
    severity_at_least: Annotated[
        str | None, typer.Option("--severity-at-least", help="low, medium, high or critical.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """Data findings: failed quality rules of dataset versions, newest first."""

    def go() -> None:
        from steward.domain.datasets import DataFinding

        found = _client(ctx).data_findings(
            dataset, status=status, severity_at_least=severity_at_least, limit=limit
        )
        if json_:
            output.emit_json(found, list[DataFinding])
            return
        if not found:
            output.console().print("No data findings match.")
        _data_table(found)

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    finding_id: Annotated[int, typer.Argument(help="Finding id, from `finding list`.")],
    json_: JsonOpt = False,
) -> None:
    """One finding with its comments."""

    def go() -> None:
        client = _client(ctx)
        f = client.finding(finding_id)
        comments = client.finding_comments(finding_id)
        if json_:
            from steward import wire

            output.emit_json({**wire.dump(f), "comment_list": [wire.dump(c) for c in comments]})
        else:
            _show(f, comments)

    output.run(go)


@app.command("update")
def update(
    ctx: typer.Context,
    finding_id: Annotated[int, typer.Argument(help="Finding id, from `finding list`.")],
    status: Annotated[
        str | None, typer.Option(help="open, in_remediation, resolved or accepted.")
    ] = None,
    severity: Annotated[str | None, typer.Option(help="low, medium, high or critical.")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date YYYY-MM-DD.")] = None,
    note: Annotated[
        str | None,
        typer.Option("--note", "-m", help="Why (required to resolve or accept)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Move a finding along its status flow or change its severity, owner or due date."""

    def go() -> None:
        f = _client(ctx).update_finding(
            finding_id, status=status, severity=severity, owner=owner, due_date=due, note=note
        )
        if json_:
            output.emit_json(f)
        else:
            _show(f)

    output.run(go)


@app.command("comment")
def comment(
    ctx: typer.Context,
    finding_id: Annotated[int, typer.Argument(help="Finding id, from `finding list`.")],
    text: Annotated[str, typer.Argument(help="The comment.")],
    json_: JsonOpt = False,
) -> None:
    """Add a comment to a finding."""

    def go() -> None:
        c = _client(ctx).comment_finding(finding_id, text)
        if json_:
            output.emit_json(c)
        else:
            output.console().print(f"Comment {c.id} added to finding {c.finding_id}")

    output.run(go)
