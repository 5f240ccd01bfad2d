"""The standalone verification procedure in docs/audit.md works on a real export.

The Python block is taken from the document itself and run as a separate
process with nothing but the standard library, the way a third party would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from steward.sdk.client import Steward

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
MakeFile = Callable[[bytes, str], Path]


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    section = DOC.read_text(encoding="utf-8").split("## Verifying an export yourself", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "that section should hold exactly one Python block: the verifier"
    code = blocks[0]
    imported = set(re.findall(r"^(?:import|from) (\w+)", code, re.MULTILINE))
    assert imported <= {"hashlib", "json", "sys"}, f"not stdlib-only: {imported}"
    path = tmp_path_factory.mktemp("doc") / "verify_export.py"
    path.write_text(code, encoding="utf-8")
    return path


def run(script: Path, export: Path, *anchors: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(script), str(export), *anchors],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fill(client: Steward, make_file: MakeFile) -> None:
    client.create_model("credit-scoring", title="Crédit à la consommation 💶")
    client.log_version(
        "credit-scoring",
        artifact=make_file(b"weights", "m.bin"),
        params={"C": 0.5, "penalty": "l2", "nested": {"b": [1, 2.25], "a": None}},
        metrics={"auc": 0.8125, "gini": 0.1 + 0.2},
        tags={"owner": "Zoë"},
        capture_git=False,
    )
    client.log_version("credit-scoring", artifact=make_file(b"w2", "m.bin"), capture_git=False)
    for stage in ("validation", "approved", "production"):
        client.transition("credit-scoring", 1, to=stage, justification=f"« {stage} » ✓")
    client.set_alias("credit-scoring", "champion", 1)
    for stage in ("validation", "approved", "production"):
        client.transition("credit-scoring", 2, to=stage, justification='quote " backslash \\')
    client.set_alias("credit-scoring", "champion", 2)
    client.delete_alias("credit-scoring", "champion")
    client.update_model("credit-scoring", team="risk\tteam", tags=["retail", "eu"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_documented_script_verifies_an_export(
    client: Steward, script: Path, make_file: MakeFile, tmp_path: Path
) -> None:
    already = client.verify_audit().head_seq  # the remote face's token was journalled
    fill(client, make_file)
    head = client.verify_audit()
    n = already + 14
    assert head.ok and head.head_seq == n
    export = tmp_path / "audit.jsonl"
    assert client.export_audit(export) == n
    lines = export.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, n + 1))

    intact = run(script, export)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.strip() == f"OK: {n} events, head {n}:{head.head_hash}"

    anchored = run(script, export, f"{n}:{head.head_hash}", f"3:{json.loads(lines[2])['hash']}")
    assert anchored.returncode == 0, anchored.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_documented_script_detects_tampering(
    local: Steward, script: Path, make_file: MakeFile, tmp_path: Path
) -> None:
    fill(local, make_file)
    head = local.verify_audit().head_hash
    export = tmp_path / "audit.jsonl"
    local.export_audit(export)
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)

    def variant(name: str, new_lines: list[str]) -> Path:
        path = tmp_path / name
        path.write_text("".join(new_lines), encoding="utf-8")
        return path

    event = json.loads(lines[5])
    assert event["action"] == "version.transitioned"
    event["payload"]["justification"] = "approved by the board"
    edited = variant("edited.jsonl", [*lines[:5], json.dumps(event) + "\n", *lines[6:]])
    result = run(script, edited)
    assert result.returncode == 1
    assert result.stdout.strip() == "BROKEN at line 6 (seq 6): it does not continue the chain"

    removed = variant("removed.jsonl", lines[:9] + lines[10:])
    result = run(script, removed)
    assert (result.returncode, result.stdout.split(":")[0]) == (1, "BROKEN at line 10 (seq 11)")

    swapped = variant("swapped.jsonl", [*lines[:3], lines[4], lines[3], *lines[5:]])
    assert run(script, swapped).stdout.startswith("BROKEN at line 4 (seq 5)")

    # Truncation keeps a valid chain: only the recorded head hash reveals it.
    truncated = variant("truncated.jsonl", lines[:12])
    assert run(script, truncated).returncode == 0
    result = run(script, truncated, f"14:{head}")
    assert result.returncode == 1
    assert result.stdout.strip() == "BROKEN: recorded event(s) [14] are missing (truncated?)"

    # A consistent rewrite of the newest event: caught by the anchor only.
    last = json.loads(lines[-1])
    assert last["seq"] == 14
    wrong = run(script, export, f"14:{'0' * 64}")
    assert wrong.stdout.strip() == "BROKEN: event 14 no longer has the recorded hash"
