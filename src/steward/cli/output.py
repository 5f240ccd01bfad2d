"""Printing for the CLI: JSON for scripts, Rich tables for people, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer


def console() -> Any:
    from rich.console import Console

    return Console()


def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def emit_json(value: Any, tp: Any = None) -> None:
    from steward import wire

    data = wire.dump(value, tp) if not isinstance(value, dict | list) or tp else value
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    tbl = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        tbl.add_column(col, overflow="fold")
    for row in rows:
        tbl.add_row(*("" if v is None else str(v) for v in row))
    console().print(tbl)


def fields(title: str, items: Sequence[tuple[str, Any]]) -> None:
    from rich.table import Table

    tbl = Table(title=title, show_header=False, box=None, pad_edge=False)
    tbl.add_column(style="bold cyan", no_wrap=True)
    tbl.add_column(overflow="fold")
    for key, value in items:
        tbl.add_row(key, "" if value is None or value == "" else str(value))
    console().print(tbl)


@contextmanager
def errors() -> Iterator[None]:
    """Turn Steward errors into a one-line message and exit status 1."""
    from steward.domain.errors import StewardError

    try:
        yield
    except StewardError as exc:
        from rich.markup import escape

        # Details quote user input and requirement ids like "[checks.fairness]": not markup.
        err_console().print(f"[bold red]Error:[/] {escape(exc.detail)}", highlight=False)
        raise typer.Exit(1) from None


def run(fn: Callable[[], None]) -> None:
    with errors():
        fn()
