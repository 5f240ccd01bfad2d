"""Names, purposes and messages print exactly as stored: square brackets are not markup.

Rich read "[retail]" as a style tag and dropped it, so a purpose "Score loans [retail]
per policy [b]" printed as "Score loans  per policy" and the install hint lost
"steward[shap]"'s extra.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import flat, ok, run

PURPOSE = "Score loans [retail] per policy [b] and [bold red]not styled[/]"


def test_a_purpose_with_brackets_prints_verbatim_in_tables_and_fields(tmp_path: Path) -> None:
    created = ok(tmp_path, "model", "create", "loans", "--title", "[T] loans", "--purpose", PURPOSE)
    assert PURPOSE in flat(created.stdout)
    shown = flat(ok(tmp_path, "model", "show", "loans").stdout)
    assert PURPOSE in shown and "[T] loans" in shown
    listed = flat(ok(tmp_path, "model", "list").stdout)
    assert "[T] loans" in listed


def test_errors_quote_user_input_with_brackets_verbatim(tmp_path: Path) -> None:
    result = run(tmp_path, "model", "show", "[b]missing[/b]")
    assert result.exit_code == 1
    assert "[b]missing[/b]" in flat(result.stderr)
    assert flat(result.stderr).startswith("Error:")
