"""Validating a stored version: evidence in the artifact store, the run audited and bound to the
artifact and data, findings for failed checks — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json

import pytest

from steward.demo.credit import TARGET, train_credit_model
from steward.demo.validation import train_biased_credit_model
from steward.domain.checks import RunSource
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.permissions import Principal
from steward.lineage.datasets import fingerprint
from steward.sdk.client import Steward
from steward.services import validation
from steward.services.context import Context, model_id
from steward.validation.options import ValidateOptions

SENSITIVE = ["age_in_years", "foreign_worker"]


def _register(st: Steward) -> None:
    trained = train_credit_model(seed=42, model_kind="logistic")
    st.create_model("credit", title="Credit scoring", owner="alice")
    st.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    biased = train_biased_credit_model(seed=42)
    st.log_version(
        "credit",
        biased.model,
        training_data=biased.train,
        target=TARGET,
        parent_version=1,
        capture_git=False,
    )


def test_validate_stores_evidence_bound_to_artifact_and_data(local: Steward, ctx: Context) -> None:
    _register(local)
    trained = train_credit_model(seed=42, model_kind="logistic")
    steps: list[tuple[int, int, str]] = []
    run = local.validate(
        "credit",
        1,
        data=trained.test,
        target=TARGET,
        sensitive_features=SENSITIVE,
        suite="credit-default",
        reference_data=trained.train,
        progress=lambda done, total, label: steps.append((done, total, label)),
    )
    version = local.get_version("credit", 1)
    assert run.source is RunSource.STEWARD
    assert run.artifact_sha256 == version.artifact.sha256
    assert run.data_fingerprint == fingerprint(trained.test)
    assert run.summary["reference_fingerprint"] == fingerprint(trained.train)
    assert steps[-1] == (len(run.results), len(run.results), "done")
    # The version's signature and training profile were used.
    assert run.result("data_quality.schema").passed is True
    assert run.result("data_quality.out_of_range").value is not None
    assert run.result("fairness.four_fifths").passed is True
    # Every evidence file is in the artifact store under its hash.
    names = {e.name for e in run.evidence}
    assert {"summary.json", "fairness-selection-rate.svg"} <= names
    for evidence in run.evidence:
        with ctx.artifacts.open(evidence.sha256) as fh:
            content = fh.read()
        assert hashlib.sha256(content).hexdigest() == evidence.sha256
        assert len(content) == evidence.size
    # Audited, and readable again through the check-run API.
    events = local.audit_events(action="check_run.recorded")
    payloads = [json.loads(e.payload) if isinstance(e.payload, str) else e.payload for e in events]
    assert [p["run"] for p in payloads] == [run.id]
    assert payloads[0]["data_fingerprint"] == run.data_fingerprint
    assert local.check_run(run.id).results == run.results


def test_biased_version_fails_fairness_and_opens_findings(local: Steward, ctx: Context) -> None:
    _register(local)
    biased = train_biased_credit_model(seed=42)
    run = local.validate(
        "credit",
        2,
        data=biased.test,
        target=TARGET,
        sensitive_features=SENSITIVE,
        suite="credit-default",
    )
    assert not run.passed
    failed = {r.name for r in run.results if r.passed is False}
    assert {"fairness.four_fifths", "fairness.demographic_parity_ratio"} <= failed
    # Compared with its parent (version 1) on the same rows.
    vs = run.result("performance.vs_baseline")
    assert vs.details["baseline_label"] == "version 1" and vs.value is not None
    with ctx.uow.read() as uow:
        open_findings = uow.findings.open_for_model(model_id(uow, "credit"))
    titles = {f.title for f in open_findings}
    assert "Check failed: fairness.four_fifths" in titles
    four_fifths = next(f for f in open_findings if f.title.endswith("fairness.four_fifths"))
    assert four_fifths.version == 2 and four_fifths.severity == "high"


def test_permission_and_bad_input_are_refused_before_any_work(local: Steward, ctx: Context) -> None:
    _register(local)
    trained = train_credit_model(seed=42, model_kind="logistic")
    nobody = Principal(name="mallory", roles=frozenset())
    options = ValidateOptions(target=TARGET, sensitive=tuple(SENSITIVE))
    with pytest.raises(Forbidden):
        validation.validate(ctx, nobody, "credit", 1, trained.test, options)
    with pytest.raises(NotFound):
        local.validate("credit", 9, data=trained.test, target=TARGET)
    with pytest.raises(InvalidInput, match="target column 'risky' is not in the data"):
        local.validate("credit", 1, data=trained.test, target="risky")
    with pytest.raises(InvalidInput, match="y_pred has 3 values but the data has 300 rows"):
        local.validate("credit", 1, data=trained.test, target=TARGET, y_pred=[0, 1, 0])
    # A suite path never reaches the service: files travel as text.
    with pytest.raises(InvalidInput, match="neither a shipped suite name"):
        validation.validate(
            ctx,
            Principal(name="alice", roles=frozenset({"operator"})),
            "credit",
            1,
            trained.test,
            ValidateOptions(target=TARGET, suite="/etc/passwd"),
        )
    assert local.check_runs("credit", 1) == []


def test_predictions_mode_and_a_suite_file(local: Steward, tmp_path: object) -> None:
    _register(local)
    trained = train_credit_model(seed=42, model_kind="logistic")
    x = trained.test[trained.feature_columns]
    suite = tmp_path / "mine.yaml"  # type: ignore[operator]
    suite.write_text(
        'suite: mine\nversion: "7"\nsettings: {favorable_label: 0, min_group_size: 20}\n'
        "checks:\n  - check: performance.roc_auc\n    threshold: '>= 0.7'\n"
        "  - check: fairness.demographic_parity_ratio\n"
        "  - check: robustness.numeric_noise\n"
    )
    run = local.validate(
        "credit",
        1,
        data=trained.test[[TARGET, "age_in_years"]],
        target=TARGET,
        sensitive_features="age_in_years",
        y_pred=trained.model.predict(x),
        y_score=trained.model.predict_proba(x)[:, 1],
        suite=suite,
        settings={"bands": {"age_in_years": [25]}},
    )
    assert (run.suite, run.suite_version) == ("mine", "7")
    assert run.summary["mode"] == "predictions"
    assert run.result("performance.roc_auc").passed is True
    assert run.result("robustness.numeric_noise").passed is None  # needs a model
