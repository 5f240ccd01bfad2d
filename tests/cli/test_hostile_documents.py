"""A hostile answers or policy file gets a one-line error and exit 1: no hang, no traceback.

A "billion laughs" file (aliases of aliases) grew to 1.6 GB in 40 s, and a list nested
20 000 deep raised RecursionError with a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.cli.helpers import flat, ok, run

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
DEEP = "decision_impact: " + "[" * 20_000 + "]" * 20_000 + "\n"


@pytest.mark.parametrize(("text", "needle"), [(LAUGHS, "aliases"), (DEEP, "nested more than")])
def test_risk_answers_files_that_would_explode_are_refused_quickly(
    tmp_path: Path, text: str, needle: str
) -> None:
    ok(tmp_path, "model", "create", "credit", "--title", "Credit")
    answers = tmp_path / "answers.yaml"
    answers.write_text(text, encoding="utf-8")
    started = time.monotonic()
    result = run(tmp_path, "risk", "assess", "credit", "--answers", str(answers))
    assert time.monotonic() - started < 10
    assert result.exit_code != 0
    message = flat(result.stderr)
    assert needle in message and "answers.yaml" in message
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize(("text", "needle"), [(LAUGHS, "aliases"), (DEEP, "nested more than")])
def test_policy_files_that_would_explode_are_refused(
    tmp_path: Path, text: str, needle: str
) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(text, encoding="utf-8")
    result = run(tmp_path, "policy", "load", str(pack), actor="admin")
    assert result.exit_code == 1
    assert needle in flat(result.stderr)
