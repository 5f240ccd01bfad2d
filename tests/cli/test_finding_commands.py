"""`steward finding|waiver|review ...` on an embedded store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.helpers import as_json, flat, ok, run

import steward
from steward.services.context import model_id


def _store(home: Path, tmp_path: Path) -> None:
    ok(home, "model", "create", "credit", "--owner", "bob")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(home, "version", "create", "credit", str(artifact), "--no-git")
    client = steward.connect(home=str(home), actor="alice")
    try:  # the tier normally comes from `steward risk assess`
        ctx = client._backend.ctx  # type: ignore[attr-defined]
        with ctx.uow.write() as uow:
            uow.models.update(model_id(uow, "credit"), {"risk_tier": "critical"})
            uow.commit()
    finally:
        client.close()


def test_finding_commands(tmp_path: Path) -> None:
    home = tmp_path / "store"
    _store(home, tmp_path)
    made = as_json(
        home,
        "finding",
        "open",
        "credit",
        "--title",
        "Proxy for age",
        "--severity",
        "high",
        "--version",
        "1",
        "--description",
        "postcode ranks 2nd",
    )
    assert (made["severity"], made["status"], made["owner"], made["version"]) == (
        "high",
        "open",
        "bob",
        1,
    )
    fid = str(made["id"])
    ok(home, "finding", "comment", fid, "checking mutual information")
    out = flat(ok(home, "finding", "show", fid).stdout)
    assert "Proxy for age" in out and "checking mutual information" in out
    listed = flat(ok(home, "finding", "list", "--model", "credit").stdout)
    assert "Proxy for age" in listed and "high" in listed
    bad = run(home, "finding", "update", fid, "--status", "resolved")
    assert bad.exit_code == 1 and "needs a note" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    done = as_json(home, "finding", "update", fid, "--status", "resolved", "-m", "dropped feature")
    assert (done["status"], done["resolution"]) == ("resolved", "dropped feature")
    assert as_json(home, "finding", "list")["items"] == []
    assert len(as_json(home, "finding", "list", "--status", "all")["items"]) == 1
    missing = run(home, "finding", "show", "99")
    assert missing.exit_code == 1 and "steward finding list" in missing.output


def test_waiver_and_review_commands(tmp_path: Path) -> None:
    home = tmp_path / "store"
    _store(home, tmp_path)
    expires = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
    w = as_json(
        home,
        "waiver",
        "grant",
        "credit",
        "1",
        "--requirement",
        "checks.fairness",
        "--reason",
        "vendor model",
        "--expires",
        expires,
    )
    assert w["requirement"] == "checks.fairness"
    listed = flat(ok(home, "waiver", "list", "credit", "--active").stdout)
    assert "checks.fairness" in listed and "active" in listed
    past = run(
        home,
        "waiver",
        "grant",
        "credit",
        "1",
        "--requirement",
        "checks.x",
        "--reason",
        "r",
        "--expires",
        "2001-01-01",
    )
    assert past.exit_code == 1 and "future" in past.output
    ok(home, "waiver", "revoke", str(w["id"]), "--reason", "fixed")
    assert as_json(home, "waiver", "list", "--active")["items"] == []

    due = as_json(home, "review", "due")
    assert [(d["model"], d["status"]) for d in due] == [("credit", "unscheduled")]
    assert "never scheduled" in flat(ok(home, "review", "due").stdout)
    own = run(
        home,
        "review",
        "complete",
        "credit",
        "--outcome",
        "satisfactory",
        "--notes",
        "x",
        actor="bob",
    )
    assert own.exit_code == 1 and "independent" in own.output
    text = flat(
        ok(
            home,
            "review",
            "complete",
            "credit",
            "--outcome",
            "satisfactory",
            "--notes",
            "annual revalidation",
        ).stdout
    )
    assert "every 6 months" in text
    history = as_json(home, "review", "list", "credit")
    assert [(r["outcome"], r["cadence_months"]) for r in history] == [("satisfactory", 6)]
    assert as_json(home, "review", "due", "--within", "30") == []


def test_finding_scope_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "store"
    _store(home, tmp_path)
    args = ("finding", "open", "credit", "--title", "t", "--severity", "low")
    made = as_json(home, *args, "--version", "1")
    assert made["scope"] == "version"  # a version is given: this version only
    wide = as_json(
        home,
        "finding",
        "open",
        "credit",
        "--title",
        "Applicants shifted younger",
        "--severity",
        "low",
        "--version",
        "1",
        "--scope",
        "model",
    )
    assert wide["scope"] == "model"
    assert "scope model: holds every version" in flat(
        ok(home, "finding", "show", str(wide["id"])).stdout
    )
    assert "scope the whole model" in flat(
        ok(home, "finding", "open", "credit", "--title", "t", "--severity", "low").stdout
    )
    odd = run(
        home, "finding", "open", "credit", "--title", "t", "--severity", "low", "--scope", "x"
    )
    assert odd.exit_code == 1 and "Unknown finding scope 'x'" in flat(odd.output)
