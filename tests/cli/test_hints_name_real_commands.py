"""Every `steward ...` command a message, docstring or page suggests exists as written.

A hint that names a missing option (``evidence export --format html``) sends a user
from one error to the next; this parses each one against the real CLI.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import click
import pytest
import typer

import steward
from steward.cli.main import app
from steward.domain.errors import InvalidInput
from steward.services import evidence, modelcards

SOURCE = Path(steward.__file__).parent
HINT = re.compile(r"`(steward(?: [^`]*)?)`")


def hints() -> list[tuple[str, str]]:
    found = set()
    for path in sorted(SOURCE.rglob("*")):
        if path.suffix not in {".py", ".html", ".j2", ".yaml", ".md"}:
            continue
        text = path.read_text(encoding="utf-8")
        for match in HINT.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.add((f"{path.relative_to(SOURCE)}:{line}", match.group(1)))
    return sorted(found)


def problems(hint: str, root: Any) -> list[str]:
    # Typer vendors its own click: walk the tree by duck typing, not click's classes.
    words = iter(hint.split()[1:])
    chain: list[Any] = [root]
    wrong: list[str] = []
    for word in words:
        here = chain[-1]
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            if name == "--help":
                continue
            params = {
                o: p for cmd in chain for p in cmd.params for o in (*p.opts, *p.secondary_opts)
            }
            if name not in params:
                wrong.append(f"{' '.join(c.name or '' for c in chain)} has no option {name}")
            elif "=" not in word and not getattr(params[name], "is_flag", True):
                next(words, None)  # the option's value, not a command
            continue
        if hasattr(here, "list_commands") and not word.startswith(("-", "{")):
            if word == "...":
                continue
            names = word.split("|")
            subs = [here.get_command(click.Context(here), n) for n in names]
            missing = [n for n, s in zip(names, subs, strict=True) if s is None]
            if missing:
                wrong.append(f"{here.name or 'steward'} has no command {', '.join(missing)}")
                break
            chain.append(subs[0])
    return wrong


@cache
def cli() -> Any:
    return typer.main.get_command(app)


@pytest.mark.parametrize(("where", "hint"), hints())
def test_hint_names_a_real_command_and_real_options(where: str, hint: str) -> None:
    root = cli()
    assert problems(hint, root) == [], f"{where}: `{hint}`"


def test_the_checker_catches_the_hint_that_named_a_missing_option() -> None:
    root = cli()
    (wrong,) = problems("steward evidence export MODEL --format html", root)
    assert wrong.endswith("export has no option --format")
    assert problems("steward evidence export MODEL -o FILE --no-pdf", root) == []
    assert problems("steward modle list", root)


def test_without_weasyprint_each_command_suggests_its_own_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from steward.compliance import modelcard

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed
    for instead in (evidence.PDF_INSTEAD, modelcards.PDF_INSTEAD):
        with pytest.raises(InvalidInput) as caught:
            modelcard.render_pdf("<p>card</p>", instead=instead)
        (hint,) = HINT.findall(caught.value.detail)[-1:]
        assert problems(hint, cli()) == [], hint
