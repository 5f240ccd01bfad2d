"""`steward risk ...` on an embedded store."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import as_json, flat, ok, run
from tests.risk_answers import CREDIT


def _answers_file(path: Path, **changes: str) -> Path:
    answers = {**CREDIT, **changes}
    path.write_text(
        "\n".join(
            f"{k}: {v if isinstance(v, str) else '[' + ', '.join(v) + ']'}"
            for k, v in answers.items()
        )
        + "\n"
    )
    return path


def test_questionnaire_table_and_json(tmp_path: Path) -> None:
    shown = flat(ok(tmp_path, "risk", "questionnaire").stdout)
    assert "Questionnaire steward-risk version 2026.11" in shown
    assert "medium from 5 points, high from 10 points, critical from 18 points" in shown
    assert "credit_scoring (tier>=high, EU high): 5(b) Creditworthiness" in shown
    assert "social_scoring (tier>=critical, EU prohibited)" in shown
    form = as_json(tmp_path, "risk", "questionnaire")
    assert form["id"] == "steward-risk"
    assert len(form["questions"]) == 13
    # Optional: the fairness direction (not every model classifies people) and whether the
    # system is generative (unanswered: not generative, so NIST AI 600-1 does not apply).
    optional = [q["id"] for q in form["questions"] if q["optional"]]
    assert sorted(optional) == ["generative", "positive_prediction"]


def test_assess_show_and_history(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit", "--purpose", "Approve loans")
    answers = _answers_file(tmp_path / "answers.yaml")
    shown = flat(ok(tmp_path, "risk", "assess", "credit", "--answers", str(answers)).stdout)
    assert "risk tier high" in shown
    assert "EU AI Act high" in shown
    assert "score 17" in shown
    assert "tier high annex_iii=credit_scoring" in shown
    assert "Tier high: the total score 17 reaches the high threshold (10)." in shown

    # --answer overrides the file; an all-that-apply answer takes a,b
    made = as_json(
        tmp_path,
        "risk",
        "assess",
        "credit",
        "--answers",
        str(answers),
        "--answer",
        "autonomy=fully_automated",
        "--answer",
        "regulated_domain=credit,insurance",
    )
    assert (made["tier"], made["score"]) == ("critical", 22)
    assert made["answers"]["regulated_domain"] == ["credit", "insurance"]

    shown_model = as_json(tmp_path, "model", "show", "credit")
    model = shown_model.get("model", shown_model)
    assert (model["risk_tier"], model["regulatory_category"]) == ("critical", "high")

    status = as_json(tmp_path, "risk", "show", "credit")
    assert status["assessment"]["id"] == made["id"] and status["problem"] is None
    shown = flat(ok(tmp_path, "risk", "show", "credit").stdout)
    assert f"Risk assessment {made['id']} of credit" in shown
    assert "status current" in shown
    assert "regulated_domain credit, insurance" in shown

    history = as_json(tmp_path, "risk", "history", "credit")
    assert history[0]["id"] == made["id"] and len(history) == 2
    table = flat(ok(tmp_path, "risk", "history", "credit").stdout)
    assert f"superseded by {made['id']}" in table

    # changing the purpose makes the assessment stale
    ok(tmp_path, "model", "update", "credit", "--purpose", "Approve and price loans")
    shown = flat(ok(tmp_path, "risk", "show", "credit").stdout)
    assert "STALE: The model's purpose changed after risk assessment" in shown

    events = as_json(tmp_path, "audit", "log", "--model", "credit", "--action", "risk.assessed")
    assert len(events) == 2


def test_errors_are_one_line_with_the_file_line(tmp_path: Path) -> None:
    ok(tmp_path, "model", "create", "credit")
    answers = _answers_file(tmp_path / "answers.yaml", scale="lots")
    result = run(tmp_path, "risk", "assess", "credit", "--answers", str(answers))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: answers.yaml line 5: scale: 'lots' is not one of its answers; valid answers: "
        "under_1k, under_100k, under_1m, over_1m"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("scale: under_1k\n  autonomy: x: y\n")
    result = run(tmp_path, "risk", "assess", "credit", "--answers", str(broken))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: broken.yaml line 2: ")

    result = run(tmp_path, "risk", "assess", "nope", "--answers", str(_answers_file(answers)))
    assert result.exit_code == 1
    assert "Model 'nope' does not exist" in result.stderr
    result = run(tmp_path, "risk", "assess", "credit")
    assert result.exit_code == 2
    assert "--answers FILE or --answer question=value" in result.output

    shown = ok(tmp_path, "risk", "show", "credit").stdout
    assert "'credit' has no risk assessment" in shown
    assert as_json(tmp_path, "risk", "history", "credit") == []

    result = run(tmp_path, "model", "update", "credit", "--risk-tier", "high")
    assert result.exit_code == 1
    assert "--override-reason" in result.stderr
    updated = as_json(
        tmp_path,
        "model",
        "update",
        "credit",
        "--risk-tier",
        "high",
        "--override-reason",
        "vendor model tiered by the committee",
    )
    assert updated["risk_tier"] == "high"
    (event,) = as_json(tmp_path, "audit", "log", "--model", "credit", "--action", "risk.overridden")
    assert '"reason":"vendor model tiered by the committee"' in event["payload"]
