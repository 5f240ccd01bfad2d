"""`steward audit witness keygen|add|list|remove|cosign|submit` end to end, as files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.helpers import ENV, as_json, flat, ok, run
from typer.testing import CliRunner

from steward.cli.main import app


def _offline(*args: str) -> tuple[int, str]:
    """A witness command run with no store at all (the witness has no database)."""
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def home(tmp_path: Path) -> Path:
    where = tmp_path / "store"
    ok(where, "model", "create", "credit")
    ok(where, "model", "create", "churn")
    return where


def test_witness_lifecycle_cosign_submit_and_list(home: Path, tmp_path: Path) -> None:
    key = tmp_path / "witness" / "key.pem"
    vkey = ok(home, "audit", "witness", "keygen", "auditor.example", "-o", str(key)).stdout
    vkey = vkey.strip()
    assert vkey.startswith("auditor.example+") and key.is_file()
    bad = run(home, "audit", "witness", "keygen", "auditor.example", "-o", str(key))
    assert bad.exit_code == 1 and "never overwritten" in flat(bad.output)
    ok(home, "audit", "witness", "add", "auditor.example", "--public-key", vkey)
    listed = as_json(home, "audit", "witness", "list")
    assert [w["name"] for w in listed] == ["auditor.example"]

    published = home / "checkpoints"
    ok(home, "audit", "checkpoint")
    seen = tmp_path / "seen.txt"
    seen.write_text((published / "checkpoint").read_text())
    # first checkpoint: no previous one to be consistent with; log key read from the folder
    cosigned = tmp_path / "cosigned1.txt"
    code, out = _offline(
        "audit", "witness", "cosign", "--checkpoint", str(published / "checkpoint"),
        "--key", str(key), "--name", "auditor.example", "-o", str(cosigned),
    )  # fmt: skip
    assert code == 0, out
    assert "steward audit witness submit" in flat(out)
    out = flat(ok(home, "audit", "witness", "submit", str(cosigned)).stdout)
    assert "Checkpoint 1 (3 events) is cosigned by auditor.example" in out

    ok(home, "model", "create", "fraud")
    ok(home, "audit", "checkpoint")
    proof = tmp_path / "proof.json"
    proof.write_text(ok(home, "audit", "consistency", "1", "2", "--json").stdout)
    code, out = _offline(
        "audit", "witness", "cosign", "--checkpoint", str(published / "checkpoint"),
        "--previous", str(seen), "--proof", str(proof), "--key", str(key),
        "--name", "auditor.example",
        "--log-key", str(published / "log-key.vkey"),
    )  # fmt: skip
    assert code == 0, out
    assert out.startswith((published / "checkpoint").read_text())
    (tmp_path / "cosigned2.txt").write_text(out)
    ok(home, "audit", "witness", "submit", str(tmp_path / "cosigned2.txt"), "--checkpoint", "2")
    table = flat(ok(home, "audit", "checkpoint", "--list").stdout)
    assert "cosigners" in table and table.count("auditor.example") == 2
    assert [c["cosigners"] for c in as_json(home, "audit", "checkpoint", "--list")] == [
        ["auditor.example"],
        ["auditor.example"],
    ]
    ok(home, "audit", "witness", "remove", "auditor.example")
    assert as_json(home, "audit", "witness", "list") == []
    gone = run(home, "audit", "witness", "remove", "auditor.example")
    assert gone.exit_code == 1 and "steward audit witness list" in flat(gone.output)


def test_cosign_over_an_inconsistent_proof_is_refused(home: Path, tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    ok(home, "audit", "witness", "keygen", "w", "-o", str(key))
    published = home / "checkpoints"
    ok(home, "audit", "checkpoint")
    seen = tmp_path / "seen.txt"
    seen.write_text((published / "checkpoint").read_text())
    ok(home, "model", "create", "fraud")
    ok(home, "audit", "checkpoint")
    proof = json.loads(ok(home, "audit", "consistency", "1", "2", "--json").stdout)
    proof["proof"][0] = "00" * 32
    bad = tmp_path / "proof.json"
    bad.write_text(json.dumps(proof))
    out_file = tmp_path / "out.txt"
    code, out = _offline(
        "audit", "witness", "cosign", "--checkpoint", str(published / "checkpoint"),
        "--previous", str(seen), "--proof", str(bad), "--key", str(key), "--name", "w",
        "-o", str(out_file),
    )  # fmt: skip
    assert code == 1 and "does not show that the new tree" in flat(out)
    assert not out_file.exists()
    code, out = _offline(
        "audit", "witness", "cosign", "--checkpoint", str(published / "checkpoint"),
        "--previous", str(seen), "--key", str(key), "--name", "w",
    )  # fmt: skip
    assert code == 1 and "--previous and --proof together" in flat(out)
    code, out = _offline(
        "audit", "witness", "cosign", "--checkpoint", str(seen), "--key", str(key),
        "--name", "w",
    )  # fmt: skip
    assert code == 1 and "Give --log-key" in flat(out)


def test_submitting_a_cosignature_by_an_unregistered_key_fails(home: Path, tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    ok(home, "audit", "witness", "keygen", "stranger", "-o", str(key))
    ok(home, "audit", "checkpoint")
    kept = tmp_path / "kept-checkpoint"  # away from log-key.vkey: the key given as text
    kept.write_text((home / "checkpoints" / "checkpoint").read_text())
    log_vkey = (home / "checkpoints" / "log-key.vkey").read_text().strip()
    code, out = _offline(
        "audit", "witness", "cosign", "--checkpoint", str(kept), "--log-key", log_vkey,
        "--key", str(key), "--name", "stranger",
    )  # fmt: skip
    assert code == 0
    note = tmp_path / "note.txt"
    note.write_text(out)
    bad = run(home, "audit", "witness", "submit", str(note))
    assert bad.exit_code == 1 and "steward audit witness add" in flat(bad.output)
