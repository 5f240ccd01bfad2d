"""`steward dataset scan|classify` — personal data in a dataset version's columns and a
person's review of each (docs/datasets.md, "Personal data")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _shares(column: Any) -> str:
    return ", ".join(
        f"{d.category.value} {d.share:.0%}" + (" (name)" if d.evidence == "name" else "")
        for d in column.scan.detections
    )


def _state(column: Any) -> str:
    if column.review is None:
        return "-" if not column.scan.detections else "UNREVIEWED"
    state = f"{column.review.decision} by {column.review.reviewed_by}"
    return state if column.reviewed else f"{state}; UNREVIEWED (new detection)"


def scan(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    data: Annotated[
        Path | None,
        typer.Option(help="The version's rows (CSV or Parquet) to scan again.", exists=True),
    ] = None,
    rescan: Annotated[
        bool, typer.Option("--rescan", help="Scan the dataset's recorded source again.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Personal data per column of a dataset version: detected categories, the share of
    matching values, masked examples, and whether a person reviewed them."""

    def go() -> None:
        found = ctx.obj.client().scan_dataset(ref, data, rescan=rescan)
        if json_:
            output.emit_json(found)
            return
        output.table(
            f"Personal data in {found.dataset}@{found.version}",
            ["column", "detected", "examples", "decided", "review"],
            [
                (
                    c.column,
                    _shares(c) or "-",
                    ", ".join(c.scan.examples) or "-",
                    ", ".join(c.categories) or "-",
                    _state(c),
                )
                for c in found.columns
            ],
        )
        open_ = [c.column for c in found.unreviewed]
        if open_:
            output.console().print(
                f"{len(open_)} column(s) to review: `steward dataset classify {ref} COLUMN "
                '--confirm`, or --category … --reason "…" to override.',
                highlight=False,
            )

    output.run(go)


def classify(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    column: Annotated[str, typer.Argument(help="The column.")],
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Confirm what the scan detected.")
    ] = False,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="What the column holds, overriding the scan (repeatable; 'none' for no "
            "personal data).",
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (required for an override).")] = "",
    json_: JsonOpt = False,
) -> None:
    """Confirm or override a column's personal-data classification (its dataset's owner,
    steward team or a data steward); journalled."""

    def go() -> None:
        if confirm == bool(category):
            from steward.domain.errors import InvalidInput

            raise InvalidInput(
                'Give either --confirm (the scan is right) or --category … --reason "…" '
                "(what the column really holds, and why).",
                field="category",
            )
        found = ctx.obj.client().classify_column(
            ref, column, None if confirm else list(category or []), reason
        )
        if json_:
            output.emit_json(found)
            return
        assert found.review is not None
        output.console().print(
            f"{found.review.decision.capitalize()} {ref} {found.column}: "
            f"{', '.join(found.categories) or 'no personal data'}.",
            highlight=False,
        )

    output.run(go)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("classify")(classify)
