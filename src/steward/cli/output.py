"""Printing for the CLI: JSON for scripts, Rich tables for people, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from steward.domain.errors import StewardError


def console() -> Any:
    """Standard output. Markup is off: names, purposes and messages print as stored, so
    "Score loans [retail]" keeps its brackets. Style with :func:`styled` instead."""
    from rich.console import Console

    return Console(markup=False)


def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, markup=False)


def styled(text: str, style: str) -> Any:
    """A piece of text in a Rich style, never parsed as markup."""
    from rich.text import Text

    return Text(text, style=style)


def line(*parts: Any) -> Any:
    """One line from plain strings (shown verbatim) and :func:`styled` pieces."""
    from rich.text import Text

    return Text.assemble(*parts)


def _cell(value: Any) -> Any:
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return Text("" if value is None else str(value))


def emit_json(value: Any, tp: Any = None) -> None:
    from steward import wire

    data = wire.dump(value, tp) if not isinstance(value, dict | list) or tp else value
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    tbl = Table(
        title=None if title is None else _cell(title), show_lines=False, header_style="bold"
    )
    for col in columns:
        tbl.add_column(_cell(col), overflow="fold")
    for row in rows:
        tbl.add_row(*(_cell(v) for v in row))
    console().print(tbl)


def fields(title: str, items: Sequence[tuple[str, Any]]) -> None:
    from rich.table import Table

    tbl = Table(title=_cell(title), show_header=False, box=None, pad_edge=False)
    tbl.add_column(style="bold cyan", no_wrap=True)
    tbl.add_column(overflow="fold")
    for key, value in items:
        tbl.add_row(_cell(key), _cell(None if value == "" else value))
    console().print(tbl)


@contextmanager
def errors() -> Iterator[None]:
    """Turn Steward errors into a one-line message and exit status 1."""
    from steward import extras
    from steward.domain.errors import StewardError

    try:
        yield
    except StewardError as exc:
        fail(exc)
    except ModuleNotFoundError as exc:
        # An optional library this installation lacks: name the extra that adds it.
        found = extras.from_import_error(exc)
        if found is None:
            raise
        fail(found)


def fail(exc: StewardError) -> NoReturn:
    """Print ``exc`` as one line on stderr and exit 1."""
    # Details quote user input and requirement ids like "[checks.fairness]": not markup.
    err_console().print(line(styled("Error:", "bold red"), " ", exc.detail), highlight=False)
    raise typer.Exit(1) from None


def run(fn: Callable[[], None]) -> None:
    with errors():
        fn()


# Where `write_document` writes: the commands that export a document take this option.
DocumentOut = Annotated[
    Path | None,
    typer.Option("-o", "--out", help="File to write (default: its own name; - for stdout)."),
]


def write_document(rendered: Any, out: Path | None, json_: bool) -> None:
    """Write a rendered document (model card, OSCAL, BOM) to ``out`` ("-": stdout; default:
    its own file name), atomically, and say what was written."""
    if str(out) == "-":
        sys.stdout.buffer.write(rendered.content)
        return
    target = out or Path(rendered.filename)
    tmp = target.with_name(f".{target.name}.partial")
    tmp.write_bytes(rendered.content)
    tmp.replace(target)
    if json_:
        emit_json(
            {"file": str(target), "bytes": len(rendered.content), "media_type": rendered.media_type}
        )
        return
    console().print(
        f"Wrote {target} ({len(rendered.content)} bytes, {rendered.media_type}).",
        highlight=False,
    )
