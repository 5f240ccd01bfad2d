"""`steward audit checkpoint|prove|consistency` and `verify --checkpoint`."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run

DOCS = Path(__file__).parents[2] / "docs" / "audit.md"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    where = tmp_path / "store"
    ok(where, "model", "create", "credit")
    ok(where, "model", "create", "churn")
    ok(where, "model", "update", "churn", "--title", "Churn — 流失", actor="bob")
    return where


def test_checkpoint_list_prove_and_consistency(home: Path, tmp_path: Path) -> None:
    out = flat(ok(home, "audit", "checkpoint").stdout)
    assert "Checkpoint 1: events 1-3" in out and "steward.local/audit 3" in out
    assert f"Published to {home / 'checkpoints'}" in out
    extra = tmp_path / "extra"
    ok(home, "model", "create", "fraud")
    out = flat(ok(home, "audit", "checkpoint", "--publish-to", str(extra)).stdout)
    assert "Checkpoint 2: events 1-5" in out and (extra / "checkpoints" / "5").is_file()
    listed = as_json(home, "audit", "checkpoint", "--list")
    assert [(c["id"], c["tree_size"]) for c in listed] == [(2, 5), (1, 3)]
    assert listed[0]["published_to"] == [str(extra)]
    table = flat(ok(home, "audit", "checkpoint", "--list").stdout)
    assert "id events root" in table
    assert "Event 3 is in checkpoint 2" in flat(ok(home, "audit", "prove", "3").stdout)
    assert "Event 2 is in checkpoint 1" in flat(
        ok(home, "audit", "prove", "2", "--checkpoint", "1").stdout
    )
    assert "Checkpoint 2 extends checkpoint 1 (3 -> 5 events)" in flat(
        ok(home, "audit", "consistency", "1", "2").stdout
    )
    bad = run(home, "audit", "prove", "6")
    assert bad.exit_code == 1 and "not covered by checkpoint 2" in flat(bad.output)
    bad = run(home, "audit", "consistency", "2", "1")
    assert bad.exit_code == 1 and "give the older checkpoint first" in flat(bad.output)


def test_the_stand_alone_script_in_the_docs_verifies_a_proof(home: Path, tmp_path: Path) -> None:
    ok(home, "audit", "checkpoint")
    script = DOCS.read_text().split("### Verifying a proof without Steward", 1)[1]
    code = re.search(r"```python\n(.*?)```", script, re.S)
    assert code is not None
    (tmp_path / "verify.py").write_text(code.group(1))
    vkey = home / "checkpoints" / "log-key.vkey"
    for seq in ("1", "3"):  # event 3 has non-ASCII text in its payload
        proof = tmp_path / f"proof{seq}.json"
        proof.write_text(ok(home, "audit", "prove", seq, "--json").stdout)
        done = subprocess.run(
            [sys.executable, str(tmp_path / "verify.py"), str(proof), str(vkey)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.strip() == f"event {seq} is in the log"
    # a tampered event is not proven
    data = json.loads(proof.read_text())
    data["event"]["actor"] = "mallory"
    proof.write_text(json.dumps(data))
    done = subprocess.run(
        [sys.executable, str(tmp_path / "verify.py"), str(proof), str(vkey)],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "event 3 is NOT proven"


def test_verify_against_a_kept_checkpoint_file_exits_1(home: Path, tmp_path: Path) -> None:
    ok(home, "audit", "checkpoint")
    kept = tmp_path / "kept"
    kept.write_text((home / "checkpoints" / "checkpoint").read_text())
    assert "Audit chain intact" in flat(
        ok(home, "audit", "verify", "--checkpoint", str(kept)).stdout
    )
    db = sqlite3.connect(home / "steward.db")
    with db:
        db.execute("DELETE FROM audit_events WHERE seq > 1")
        db.execute("DELETE FROM audit_tree WHERE level > 0 OR idx > 0")
        db.execute("DELETE FROM audit_checkpoints")
    db.close()
    for path in (home / "checkpoints" / "checkpoints").iterdir():
        path.unlink()
    assert run(home, "audit", "verify").exit_code == 0
    result = run(home, "audit", "verify", "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "(truncated)" in flat(result.output) and str(kept) in flat(result.output)
    missing = run(home, "audit", "verify", "--checkpoint", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "Cannot read the checkpoint file" in flat(missing.output)
