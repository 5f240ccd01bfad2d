"""`steward monitor schedule` from the command line: due monitors, a failing source that does
not stop the others, and `--worker` bounded by `--iterations`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.helpers import as_json, flat, ok, run

import steward
from steward.demo.credit import load_german_credit

COLUMNS = ["age_in_years", "credit_amount", "purpose"]


def _documents(text: str) -> list[Any]:
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(text, i)
        out.append(doc)
    return out


def _store(home: Path, tmp_path: Path) -> Path:
    credit = load_german_credit()
    reference = tmp_path / "reference.parquet"
    credit.iloc[:600].to_parquet(reference)
    batches = tmp_path / "batches"
    batches.mkdir()
    credit.iloc[600:800].to_parquet(batches / "week-1.parquet")
    credit.iloc[800:].to_parquet(batches / "week-2.parquet")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(home, "model", "create", "credit", "--owner", "alice")
    ok(home, "version", "create", "credit", str(artifact), "--no-git")
    client = steward.connect(home=str(home), actor="alice")
    try:
        for stage in ("validation", "approved", "production"):
            client.transition("credit", 1, to=stage, justification="test")
    finally:
        client.close()
    cols = [a for c in COLUMNS for a in ("--column", c)]
    ok(home, "monitor", "create", "credit", "1", "--name", "weekly", "--reference",
       str(reference), *cols, "--every", "7d", "--source", str(batches / "*.parquet"))
    ok(home, "monitor", "create", "credit", "1", "--name", "broken", "--reference",
       str(reference), *cols, "--every", "1d", "--source", str(tmp_path / "gone.parquet"))
    ok(home, "monitor", "create", "credit", "1", "--name", "manual", "--reference",
       str(reference), *cols)
    return batches


def test_schedule_runs_due_monitors_and_reports_failures(tmp_path: Path) -> None:
    home = tmp_path / "store"
    _store(home, tmp_path)
    first = run(home, "monitor", "schedule")
    assert first.exit_code == 0, first.output
    text = flat(first.output)
    assert "Ran 1 monitor(s); 0 not due; 1 failed." in text
    assert "gone.parquet" in text  # the failing monitor and why, on stderr
    monitors = {m["name"]: m for m in as_json(home, "monitor", "list")}
    weekly = monitors["weekly"]["id"]
    history = as_json(home, "monitor", "history", weekly, "--metric", "psi",
                      "--column", "age_in_years")
    assert len(history) == 1
    # Nothing is due now: both scheduled monitors wait for their next slot.
    again = as_json(home, "monitor", "schedule")
    assert (again["ran"], again["failed"], again["not_due"]) == ([], [], 2)


def test_worker_stops_after_the_given_number_of_passes(tmp_path: Path) -> None:
    home = tmp_path / "store"
    _store(home, tmp_path)
    done = ok(home, "monitor", "schedule", "--worker", "--iterations", "3", "--interval", "0",
              "--json")
    reports = _documents(done.stdout)
    assert [len(r["ran"]) for r in reports] == [1, 0, 0]
    assert [len(r["failed"]) for r in reports] == [1, 0, 0]
    bad = run(home, "monitor", "schedule", "--iterations", "2")
    assert bad.exit_code != 0 and "--worker" in flat(bad.output)
