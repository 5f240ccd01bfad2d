"""Names, purposes and messages print exactly as stored: square brackets are not markup.

Rich read "[retail]" as a style tag and dropped it, so a purpose "Score loans [retail]
per policy [b]" printed as "Score loans  per policy" and the install hint lost
"steward[shap]"'s extra.
"""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_alert_messages_keep_their_rule_id(tmp_path: Path) -> None:
    """The reported case: an alert's "[rule dataset-drift]" was read as markup and vanished."""
    from tests.cli.test_monitor_drift_command import _frames, _production

    home = tmp_path / "store"
    ref, cur = _frames(tmp_path)
    _production(home, tmp_path)
    ok(home, "monitor", "create", "credit", "1", "--reference", str(ref), "--column", "income",
       "--column", "grade")
    ok(home, "monitor", "run", "credit", "--data", str(cur))
    listed = flat(ok(home, "monitor", "alerts", "credit").stdout)
    assert "[ruledataset-drift]" in listed.replace(" ", "")


def test_an_install_hint_keeps_its_extra(capsys: pytest.CaptureFixture[str]) -> None:
    """`pip install 'steward[shap]'` printed as `pip install 'steward'`."""
    from steward.cli import output
    from steward.validation.checks.base import REQUIREMENTS

    hint = f"skipped: needs {REQUIREMENTS['shap']}"
    output.table("Checks", ["check", "message"], [("shap", hint)])
    assert "steward[shap]" in flat(capsys.readouterr().out).replace(" ", "")
