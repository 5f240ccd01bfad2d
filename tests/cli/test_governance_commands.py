"""The governance flow from a shell, as the docs and the CI example run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.cli.helpers import as_json, flat, ok, run
from tests.risk_answers import CREDIT as ANSWERS

from steward.cli.gate_cmd import GATE_REFUSED


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "store"
    ok(home, "policy", "load", "--default", "--activate", actor="admin")
    for team, line in (
        ("retail", "first"),
        ("model-risk", "second"),
        ("model-validation", "second"),
        ("risk-office", "second"),
    ):
        ok(home, "team", "create", team, "--line", line, actor="admin")
    for name, role, team in (
        ("dev", "owner", "retail"),
        ("val1", "validator", "model-risk"),
        ("val2", "validator", "model-validation"),
        ("rita", "risk_officer", "risk-office"),
    ):
        ok(home, "user", "create", name, "--role", role, "--team", team, actor="admin")
    return home


def test_gate_check_exits_3_until_evidence_and_approvals_are_in(home: Path, tmp_path: Path) -> None:
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"credit weights")
    evaluation = tmp_path / "holdout.csv"
    evaluation.write_text("age,income,risk\n31,4.2,0\n45,3.1,1\n27,2.2,0\n")
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(ANSWERS))

    ok(
        home,
        "model",
        "create",
        "credit",
        "--title",
        "Credit",
        "--description",
        "PD model",
        "--purpose",
        "Approve loans",
        "--business-unit",
        "Retail",
        "--owner",
        "dev",
        "--team",
        "retail",
        actor="dev",
    )
    ok(
        home,
        "version",
        "create",
        "credit",
        str(artifact),
        "--evaluation-data",
        str(evaluation),
        "--no-git",
        actor="dev",
    )
    ok(home, "risk", "assess", "credit", "--answers", str(answers), actor="dev")
    ok(
        home,
        "version",
        "transition",
        "credit",
        "1",
        "--to",
        "validation",
        "-m",
        "ready",
        actor="dev",
    )

    refused = run(home, "gate", "check", "credit", "1", "--to", "approved", actor="dev")
    assert refused.exit_code == GATE_REFUSED
    text = flat(refused.stdout)
    assert "REFUSED" in text and "policy: steward-default@2026.12" in text
    for requirement in ("checks.performance", "checks.fairness", "approvals.validation"):
        assert f"{requirement} unmet" in text
    report = json.loads(
        run(home, "gate", "check", "credit", "1", "--to", "approved", "--json", actor="dev").stdout
    )
    statuses = {o["requirement"]: o["status"] for o in report["outcomes"]}
    assert statuses["risk.assessed"] == "met" and statuses["checks.fairness"] == "unmet"
    assert "nist-ai-rmf:MEASURE 2.11" in {c for o in report["outcomes"] for c in o["controls"]}

    # moving directly is refused the same way, and the refusal is journaled
    direct = run(
        home, "version", "transition", "credit", "1", "--to", "approved", "-m", "now", actor="dev"
    )
    assert direct.exit_code == 1
    assert "[approvals.validation] Approvals missing" in flat(direct.stderr)

    shown = as_json(home, "version", "show", "credit", "1", actor="val1")
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "suite": "bank-suite",
                "data_fingerprint": shown["evaluation_data"]["fingerprint"],
                "results": [
                    {
                        "name": "performance.roc_auc",
                        "family": "performance",
                        "passed": True,
                        "value": 0.8,
                        "threshold": {"op": ">=", "limit": 0.7},
                    },
                    {
                        "name": "fairness.demographic_parity_ratio",
                        "family": "fairness",
                        "passed": True,
                        "value": 0.9,
                        "threshold": {"op": ">=", "limit": 0.8},
                    },
                ],
            }
        )
    )
    run_ = as_json(home, "check", "record", "credit", "1", "--file", str(results), actor="val1")
    assert run_["source"] == "external" and run_["passed"] is True
    assert flat(ok(home, "check", "show", run_["id"], actor="val1").stdout).count("pass") >= 2

    asked = as_json(
        home,
        "approvals",
        "request",
        "credit",
        "1",
        "--to",
        "approved",
        "-m",
        "evidence complete",
        actor="dev",
    )
    rid = asked["request"]["id"]
    assert asked["applied"] is False
    own = run(home, "approvals", "approve", rid, actor="dev")
    assert own.exit_code == 1
    assert "dev may not approval:decide" in flat(own.stderr) or "Segregation" in flat(own.stderr)
    inbox = as_json(home, "approvals", "inbox", actor="val1")
    assert [i["request"]["id"] for i in inbox] == [rid]
    assert as_json(home, "approvals", "approve", rid, "-c", "ok", actor="val1")["applied"] is False
    assert as_json(home, "approvals", "approve", rid, "-c", "ok", actor="val2")["applied"] is True
    again = run(home, "approvals", "approve", rid, actor="rita")
    assert again.exit_code == 1 and "already applied" in flat(again.stderr)

    prod = as_json(
        home,
        "approvals",
        "request",
        "credit",
        "1",
        "--to",
        "production",
        "-m",
        "go live",
        actor="dev",
    )
    blocked = run(home, "gate", "check", "credit", "1", "--to", "production")
    assert blocked.exit_code == 3 and "monitoring.configured unmet" in flat(blocked.stdout)
    ok(
        home,
        "monitor",
        "create",
        "credit",
        "1",
        "--reference",
        str(evaluation),
        "--column",
        "age",
        "--column",
        "income",
        actor="dev",
    )
    ok(home, "approvals", "approve", prod["request"]["id"], "-c", "accepted", actor="rita")
    assert as_json(home, "version", "show", "credit", "1")["stage"] == "production"

    # The deploy job of docs/ci/github-actions-gate.yml: pin the key, fetch, verify offline.
    sig, pub = tmp_path / "sig", tmp_path / "steward.pub"
    ok(home, "signature", "key", "-o", str(pub), actor="val1")
    ok(home, "signature", "export", "credit", "1", "-o", str(sig), actor="val1")
    ok(home, "version", "download", "credit", "1", "-o", str(sig), actor="val1")
    downloaded = sig / "model.bin"
    assert downloaded.read_bytes() == b"credit weights"
    verified = ok(home, "verify", str(downloaded), "--public-key", str(pub))
    assert "ok" in flat(verified.stdout).lower()
    downloaded.write_bytes(b"other weights")
    assert run(home, "verify", str(downloaded), "--public-key", str(pub)).exit_code == 1

    log = as_json(home, "audit", "log", "--limit", "500", actor="val1")
    actions = [e["action"] for e in log]
    assert {"policy.activated", "gate.failed", "approval.denied", "version.signed"} <= set(actions)
    assert ok(home, "audit", "verify").exit_code == 0


def test_a_malformed_policy_names_file_and_line(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ours.yaml"
    bad.write_text(
        "pack: ours\nversion: '1'\nrequirements:\n  - id: approvals.x\n    kind: approvals\n"
        "    roles: [boss]\n    count: 1\n    to: [approved]\n"
        "    controls: ['nist-ai-rmf:GOVERN 2.1']\n"
    )
    refused = run(home, "policy", "load", str(bad), actor="admin")
    assert refused.exit_code == 1
    assert f"{bad} line 6: requirement approvals.x: unknown role(s) boss" in flat(refused.stderr)
    listed = as_json(home, "policy", "list", actor="admin")
    assert [(p["name"], p["active"]) for p in listed] == [("steward-default", True)]
    assert run(home, "policy", "load", actor="admin").exit_code == 1  # neither FILE nor --default
