"""`steward compliance ...` from a shell: catalogs, controls, crosswalk, coverage, dashboard."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import as_json, flat, ok, run


def test_catalogs_and_controls(tmp_path: Path) -> None:
    home = tmp_path / "store"
    listed = as_json(home, "compliance", "catalogs")
    assert [c["id"] for c in listed] == [
        "nist-ai-rmf",
        "nist-ai-600-1",
        "iso-42001",
        "eu-ai-act",
        "sr-26-2",
        "sr-11-7",
        "tw-fsc",
        "tw-ba-ai",
        "tw-ai-basic-act",
    ]
    assert "tw-fsc" in flat(ok(home, "compliance", "catalogs").stdout)
    nist = as_json(home, "compliance", "controls", "nist-ai-rmf")
    assert len(nist) == 72
    one = flat(ok(home, "compliance", "controls", "iso-42001", "A.6.2.8").stdout)
    assert "AI system recording of event logs" in one and "audit_journal" in one
    walk = as_json(home, "compliance", "crosswalk", "nist-ai-rmf", "iso-42001")
    assert walk["pairs"] and walk["published_source"]
    bad = run(home, "compliance", "controls", "cobit")
    assert bad.exit_code != 0 and "No control catalog 'cobit'" in flat(bad.output)


def test_coverage_and_dashboard(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ok(home, "model", "create", "credit", "--title", "Credit", "--owner", "olivia")
    cov = as_json(home, "compliance", "coverage", "credit", "-f", "eu-ai-act")
    assert {c["framework"] for c in cov["controls"]} == {"eu-ai-act"}
    gaps = flat(ok(home, "compliance", "coverage", "credit", "--gaps").stdout)
    assert "missing" in gaps and "steward risk assess credit" in gaps
    # no risk assessment yet: the Taiwanese dates are shown, no EU row is guessed
    assert "Obligations and the dates they apply from" in gaps
    assert "2026-01-14" in gaps and "2027-12-02" not in gaps
    org = flat(ok(home, "compliance", "coverage", "--gaps", "-f", "sr-26-2").stdout)
    assert "Coverage over 1 models" in org and "SR26-2.materiality" in org
    board = as_json(home, "compliance", "dashboard")
    assert board["models"] == 1 and board["by_tier_and_stage"] == {"unassessed": {"no_version": 1}}
    assert "models by risk tier and stage" in flat(ok(home, "compliance", "dashboard").stdout)


def test_nist_600_1_suggested_actions_listed_and_counted_per_risk(tmp_path: Path) -> None:
    from tests.risk_answers import CREDIT

    home = tmp_path / "store"
    listed = as_json(home, "compliance", "controls", "nist-ai-600-1")
    kinds = [c["kind"] for c in listed]
    assert kinds.count("gai_risk") == 12 and kinds.count("gai_action") == 211
    action = next(c for c in listed if c["id"] == "MS-2.12-003")
    assert action["parent"] == "MEASURE 2.12" and action["addresses"] == ["GAI-5"]
    risk = flat(ok(home, "compliance", "controls", "nist-ai-600-1", "GAI-5").stdout)
    assert "addressed by (4)" in risk and "MS-2.12-004" in risk and "carbon capture" in risk
    # A generative model: each GAI risk row counts its actions and says how to list them.
    ok(home, "model", "create", "assistant", "--title", "Assistant", "--owner", "olivia")
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "\n".join(
            f"{k}: {v if isinstance(v, str) else '[' + ', '.join(v) + ']'}"
            for k, v in {**CREDIT, "generative": "yes"}.items()
        )
        + "\n"
    )
    ok(home, "risk", "assess", "assistant", "--answers", str(answers))
    cov = as_json(home, "compliance", "coverage", "assistant", "-f", "nist-ai-600-1")
    rows = {c["control"]: c for c in cov["controls"]}
    assert len(rows) == 12 and len(rows["GAI-2"]["actions"]) == 18
    shown = flat(ok(home, "compliance", "coverage", "assistant", "-f", "nist-ai-600-1").stdout)
    assert "18 NIST suggested actions" in shown
    assert "steward compliance controls nist-ai-600-1 GAI-2" in shown
