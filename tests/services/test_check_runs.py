"""Check runs are evidence: bound to the version's artifact, audited, failures open findings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from steward.domain.checks import CheckFamily, CheckResult, Threshold
from steward.domain.errors import InvalidInput, NotFound
from steward.sdk.client import Steward

MakeFile = Callable[[bytes, str], Path]

RESULTS = [
    CheckResult(
        "performance.roc_auc", CheckFamily.PERFORMANCE, True, 0.81, Threshold(">=", 0.7)
    ),
    CheckResult(
        "fairness.demographic_parity_ratio",
        CheckFamily.FAIRNESS,
        False,
        0.62,
        Threshold(">=", 0.8),
        "Selection rate of foreign workers is 62% of the others'.",
    ),
    CheckResult("fairness.group_table", CheckFamily.FAIRNESS, None, details={"groups": 2}),
]


def setup(client: Steward, make_file: MakeFile) -> None:
    client.create_model("credit", owner="olivia")
    client.log_version("credit", artifact=make_file(b"weights", "model.bin"))


def test_recorded_results_are_bound_to_the_artifact_and_audited(
    client: Steward, make_file: MakeFile
) -> None:
    setup(client, make_file)
    run = client.record_checks("credit", 1, RESULTS, suite="bank-suite", suite_version="3")
    version = client.get_version("credit", 1)
    assert run.id.startswith("run_")
    assert run.artifact_sha256 == version.artifact.sha256
    assert run.source.value == "external"
    assert run.passed is False  # one check failed; the informational one does not count
    assert run.result("performance.roc_auc").value == pytest.approx(0.81)
    assert run.result("fairness.demographic_parity_ratio").threshold == Threshold(">=", 0.8)
    assert client.check_run(run.id) == run
    assert [r.id for r in client.check_runs("credit", 1)] == [run.id]
    event = client.audit_events(action="check_run.recorded")[-1]
    assert event.subject_id == "credit/1"
    assert event.payload_dict()["failed"] == ["fairness.demographic_parity_ratio"]


def test_a_failed_check_opens_a_finding_with_its_evidence(
    client: Steward, make_file: MakeFile
) -> None:
    setup(client, make_file)
    run = client.record_checks("credit", 1, RESULTS)
    found = client.findings(model="credit").items
    assert len(found) == 1
    assert found[0].title == "Check failed: fairness.demographic_parity_ratio"
    assert found[0].severity == "high"
    assert found[0].source == "check"
    assert found[0].version == 1
    assert "62%" in found[0].description and ">= 0.8" in found[0].description
    assert run.id in (found[0].source_ref or "")


@pytest.mark.parametrize(
    ("results", "words"),
    [
        ([], "at least one result"),
        ([CheckResult("AUC", CheckFamily.PERFORMANCE, True, 0.8)], "'<family>.<check>'"),
        (
            [CheckResult("performance.auc", CheckFamily.PERFORMANCE, True, float("nan"))],
            "non-finite value",
        ),
        (
            [
                CheckResult("performance.auc", CheckFamily.PERFORMANCE, True, 0.8),
                CheckResult("performance.auc", CheckFamily.PERFORMANCE, True, 0.8),
            ],
            "appears twice",
        ),
        (
            [CheckResult("performance.auc", CheckFamily.PERFORMANCE, True, 0.8, Threshold("~", 1))],
            "threshold op",
        ),
    ],
)
def test_bad_results_are_refused_and_nothing_is_stored(
    client: Steward, make_file: MakeFile, results: list[CheckResult], words: str
) -> None:
    setup(client, make_file)
    before = len(client.audit_events(limit=1000))
    with pytest.raises(InvalidInput, match=words.replace("(", r"\(").replace("*", r"\*")):
        client.record_checks("credit", 1, results)
    assert client.check_runs("credit", 1) == []
    assert len(client.audit_events(limit=1000)) == before


def test_times_and_fingerprints_are_checked(client: Steward, make_file: MakeFile) -> None:
    setup(client, make_file)
    future = datetime.now(UTC) + timedelta(hours=2)
    with pytest.raises(InvalidInput, match="in the future"):
        client.record_checks("credit", 1, RESULTS[:1], finished_at=future)
    with pytest.raises(InvalidInput, match="64 hex digits"):
        client.record_checks("credit", 1, RESULTS[:1], data_fingerprint="abc")


def test_unknown_versions_and_runs_are_not_found(client: Steward, make_file: MakeFile) -> None:
    setup(client, make_file)
    with pytest.raises(NotFound, match="has no version 9"):
        client.record_checks("credit", 9, RESULTS[:1])
    with pytest.raises(NotFound, match="No check run 'run_nope'"):
        client.check_run("run_nope")
