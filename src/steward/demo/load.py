"""The demo inventory: real models on real data, governed the way Steward expects.

* ``credit-scoring`` — German Credit (UCI Statlog, CC BY 4.0), high risk from its
  questionnaire: logistic regression (replaced in production), random forest
  (production, ``champion``; validated, approved by two validators from different
  teams and a risk officer, signed), gradient boosting (``challenger``, validated,
  one approval in, waiting for a second validator) and a deliberately biased version
  that fails fairness validation, its failures open as findings;
* ``diabetes-progression`` — scikit-learn's bundled diabetes data (Efron et al. 2004),
  two regression versions, one under validation with a finding raised;
* ``wine-cultivar`` — scikit-learn's bundled wine data (UCI), low risk, one version
  in production after one validator's approval;
* ``fraud-rules-legacy`` — an opaque rules file, the kind of artifact Steward stores
  as plain bytes, waiting for its first risk assessment.

People (no passwords; give one with `steward user password NAME`): alice, bob, carol
and dave own models; victor (team model-risk) and wendy (model-validation), both second
line, validate; rita is the risk officer; audra the auditor (internal-audit, third line);
ada administers (users, teams, policy packs); dora, a data steward (data-office), approves
the German Credit dataset's versions (steward.demo.datagov).
The shipped policy pack is active, with its data requirements (version "…+data").
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steward.domain.errors import InvalidInput

TEAMS = {
    "retail-credit-risk": "Retail Credit Risk",
    "clinical-analytics": "Clinical Analytics",
    "quality-engineering": "Quality Engineering",
    "fraud-operations": "Fraud Operations",
    "model-risk": "Model Risk Management (second line)",
    "model-validation": "Independent Model Validation (second line)",
    "internal-audit": "Internal Audit (third line)",
    "risk-office": "Chief Risk Office",
    "it-platform": "IT Platform",
    "data-office": "Data Office (data governance committee)",
}
# Lines of defence: the shipped pack counts validators' approvals from the second line only
# and never an internal auditor's (third line). Teams not listed build or use models (first).
LINES = {
    "model-risk": "second",
    "model-validation": "second",
    "risk-office": "second",
    "internal-audit": "third",
}
PEOPLE: dict[str, tuple[str, tuple[str, ...], str]] = {
    # name: (display name, roles, team)
    "alice": ("Alice Chen", ("owner",), "retail-credit-risk"),
    "bob": ("Bob Okafor", ("owner",), "clinical-analytics"),
    "carol": ("Carol Lin", ("owner",), "quality-engineering"),
    "dave": ("Dave Wu", ("owner",), "fraud-operations"),
    "victor": ("Victor Hsu", ("validator",), "model-risk"),
    "wendy": ("Wendy Lee", ("validator",), "model-validation"),
    "rita": ("Rita Huang", ("risk_officer",), "risk-office"),
    "audra": ("Audra Kim", ("auditor",), "internal-audit"),
    # The administrator who signs in to the admin pages (users, teams, policies); an admin
    # owns no model and decides no request, so the governance story stays as told above.
    "ada": ("Ada Tsai", ("admin",), "it-platform"),
    # The data steward: approves dataset versions for use and reviews their personal data.
    "dora": ("Dora Chang", ("data_steward",), "data-office"),
}
CREDIT_ANSWERS = {
    "decision_impact": "significant",
    "autonomy": "human_oversight",
    "personal_data": "personal",
    "vulnerable_groups": "no",
    "scale": "under_100k",
    "financial_exposure": "material",
    "regulated_domain": ["credit"],
    "annex_iii": ["credit_scoring"],
    "prohibited_practices": ["none"],
    "transparency": ["none"],
    "third_party": "in_house",
}
# The credit model's AI impact assessment (ISO/IEC 42005 structure; EU AI Act Art. 27,
# which applies to it as an Annex III 5(b) high-risk system).
CREDIT_IMPACT = {
    "intended_purpose": (
        "Scores consumer loan applications for the retail lending desk; the score and its "
        "reasons go to a credit officer, who approves or refers the application."
    ),
    "period_and_frequency": "Every consumer loan application, continuously, while in production.",
    "affected_persons": (
        "Consumer loan applicants (up to 100,000 a year), including foreign workers and "
        "applicants of every age and sex; none targeted as vulnerable."
    ),
    "benefits": "Faster, more consistent decisions; fewer loans to applicants likely to default.",
    "harms": (
        "Refusal of credit to creditworthy applicants, more often for some groups (age, sex, "
        "foreign workers): likelihood medium, severity high for the person refused."
    ),
    "human_oversight": (
        "A credit officer sees the score and its reasons, decides every application and may "
        "override the model; the model can be switched off per product."
    ),
    "mitigations": (
        "Fairness checks by group at every validation (four-fifths rule), monitoring of "
        "drift and outcomes, the right to a human review and the complaint channel of the "
        "retail bank; findings are tracked to closure."
    ),
    "residual_impact": (
        "Medium: some disparity by age remains within the four-fifths rule; accepted by the "
        "risk office with quarterly review."
    ),
    "follow_up": "Reviewed quarterly and whenever the purpose or the affected population changes.",
}
RESEARCH_ANSWERS = {
    **CREDIT_ANSWERS,
    "decision_impact": "informs",
    "autonomy": "human_decides",
    "personal_data": "special_category",
    "scale": "under_1k",
    "financial_exposure": "negligible",
    "regulated_domain": ["healthcare"],
    "annex_iii": ["none"],
}
QUALITY_ANSWERS = {
    **CREDIT_ANSWERS,
    "decision_impact": "none",
    "autonomy": "human_decides",
    "personal_data": "none",
    "scale": "under_1k",
    "financial_exposure": "negligible",
    "regulated_domain": ["none"],
    "annex_iii": ["none"],
}
As = Callable[[str], Any]
# The owner's part of the champion's model card (EU AI Act Annex IV items 1-3, Arts 13-14).
CREDIT_NARRATIVE = {
    "intended_use": (
        "Scores consumer loan applications for the probability of default. Underwriters see the "
        "score with the application; scores above the cut-off are referred, never declined "
        "automatically."
    ),
    "out_of_scope": (
        "Business lending, credit-limit increases on existing accounts, collections and "
        "marketing; applicants outside the population the German Credit data describes."
    ),
    "limitations": (
        "Trained on 700 historical applications (German Credit, 1994) whose population and "
        "economy differ from today's; the personal_status_and_sex column is misaligned in the "
        "bundled copy and is not used. Thin-file and very young applicants are scarce."
    ),
    "human_oversight": (
        "An underwriter decides every referred application and may override any score; "
        "overrides are sampled monthly by model risk. The monitor's critical alerts send the "
        "model to review."
    ),
    "monitoring_plan": (
        "Weekly drift monitor on applicant features (PSI on age, two breaches in a row); "
        "accuracy once outcomes arrive; annual periodic review."
    ),
}


def _sklearn_metrics_regression(y: Any, pred: Any) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "mae": float(mean_absolute_error(y, pred)),
        "rmse": float(mean_squared_error(y, pred) ** 0.5),
        "r2": float(r2_score(y, pred)),
    }


def _credit(as_: As, step: Progress) -> None:
    from steward.demo.credit import TARGET, train_credit_model
    from steward.demo.monitoring import watch_credit
    from steward.demo.validation import SENSITIVE, SUITE, TRUSTED_TYPES, validate_demo

    alice, victor, wendy, rita = as_("alice"), as_("victor"), as_("wendy"), as_("rita")
    alice.create_model(
        "credit-scoring",
        title="Consumer credit scoring",
        description="Probability that a consumer loan applicant is a bad credit risk.",
        purpose="Approve or refer consumer loan applications",
        business_unit="Retail lending",
        owner="alice",
        team="retail-credit-risk",
        tags=["credit", "eu-ai-act-annex-iii", "pii"],
        positive_means="adverse",  # the model predicts bad risk: a positive is adverse
    )
    alice.assess_risk("credit-scoring", CREDIT_ANSWERS)
    # The owner writes the impact assessment; the risk officer, independent of the model,
    # approves it (segregation of duties).
    alice.submit_impact_assessment("credit-scoring", CREDIT_IMPACT)
    rita.decide_impact_assessment(
        "credit-scoring",
        approve=True,
        comment="Harms, oversight and remedies are adequate for an Annex III 5(b) system.",
    )
    step("credit scoring: training three models")
    kinds = [("logistic", 1), ("forest", 2), ("gbm", 3)]
    trained = {kind: train_credit_model(seed=42, model_kind=kind) for kind, _ in kinds}
    for kind, number in kinds:
        model = trained[kind]
        alice.log_version(
            "credit-scoring",
            model.model,
            training_data=model.train,
            evaluation_data=model.test,
            target=model.target,
            params=model.params,
            metrics=model.metrics,
            tags={"algorithm": kind, "dataset": "german-credit"},
            description=f"{kind} model on German Credit (70/30 stratified split, seed 42)",
            parent_version=number - 1 or None,
            capture_git=False,
        )
    step("credit scoring: validation, findings and approvals")
    for kind, number in kinds[:2]:
        _validate(
            victor, "credit-scoring", number, trained[kind], TARGET, SENSITIVE, SUITE, TRUSTED_TYPES
        )
        for finding in rita.findings("credit-scoring", version=number).items:
            # The logistic model loses 0.054 AUC when 10% of categorical values flip (limit
            # 0.05): the risk officer accepts it with a compensating control, on the record.
            rita.update_finding(
                finding.id,
                status="accepted",
                note="Marginal robustness breach accepted: applications with edited categorical "
                "fields are referred to an underwriter (compensating control).",
            )
        _approve(
            alice,
            [victor, wendy],
            "credit-scoring",
            number,
            "approved",
            f"{kind}: validation evidence complete",
        )
        watch_credit(as_, number)  # high tier: production needs a monitor first
        _approve(alice, [rita], "credit-scoring", number, "production", f"{kind}: go live")
    replaced = [m for m in alice.monitors("credit-scoring") if m.version == 1]
    for monitor in replaced:
        alice.delete_monitor(monitor.id, reason="version 1 replaced in production by version 2")
    alice.set_alias("credit-scoring", "champion", 2)
    alice.set_narrative("credit-scoring", 2, CREDIT_NARRATIVE)
    victor.complete_review(
        "credit-scoring",
        outcome="satisfactory",
        notes="Annual review: the forest champion performs as validated; no drift reported.",
    )
    # The challenger: validated, one validator has approved, the second is awaited.
    alice.transition(
        "credit-scoring", 3, to="validation", justification="gbm candidate ready for review"
    )
    rid = alice.request_transition(
        "credit-scoring", 3, to="approved", justification="gbm beats the champion on AUC"
    ).request.id
    # also logs the biased v4; reuses the models trained above (same seed, same results)
    validate_demo(victor, model="credit-scoring", version=3, trained=trained)
    victor.approve(rid, "Performance and fairness reviewed; second-line view needed.")
    alice.set_alias("credit-scoring", "challenger", 3)


def _validate(
    validator: Any,
    model: str,
    version: int,
    trained: Any,
    target: str,
    sensitive: tuple[str, ...],
    suite: str,
    trusted: tuple[str, ...],
) -> None:
    validator.validate(
        model,
        version,
        data=trained.test,
        target=target,
        sensitive_features=list(sensitive),
        suite=suite,
        reference_data=trained.train,
        trusted=trusted,
    )


def _approve(owner: Any, approvers: list[Any], model: str, version: int, to: str, why: str) -> None:
    """Move a version through its gate: the owner asks, each approver approves in turn."""
    stage = owner.get_version(model, version).stage.value
    if to == "approved" and stage == "development":
        owner.transition(model, version, to="validation", justification=f"{why} (to validation)")
    result = owner.request_transition(model, version, to=to, justification=why)
    for approver in approvers:
        if result.applied:
            break
        result = approver.approve(result.request.id, f"Reviewed: {why}.")
    if not result.applied:
        unmet = "; ".join(o.reason for o in result.gate.outcomes if not o.met)
        raise InvalidInput(f"The demo could not move {model} v{version} to {to}: {unmet}")


def _diabetes(as_: As) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

    st, victor = as_("bob"), as_("victor")
    frame = load_diabetes(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.25, random_state=0)
    x_train, y_train = train.drop(columns="target"), train["target"]
    x_test, y_test = test.drop(columns="target"), test["target"]
    st.create_model(
        "diabetes-progression",
        title="Diabetes progression (research)",
        description="One-year disease progression from baseline measurements.",
        purpose="Prioritise research-cohort follow-up visits (not for clinical decisions)",
        business_unit="Health research",
        owner="bob",
        team="clinical-analytics",
        tags=["health", "regression"],
    )
    st.assess_risk("diabetes-progression", RESEARCH_ANSWERS)
    models: list[tuple[str, Any]] = [
        ("ridge", Ridge(alpha=1.0)),
        ("gbr", GradientBoostingRegressor(random_state=0)),
    ]
    for number, (name, est) in enumerate(models, start=1):
        est.fit(x_train, y_train)
        st.log_version(
            "diabetes-progression",
            est,
            training_data=train,
            evaluation_data=test,
            target="target",
            params={"algorithm": name, **_simple(est.get_params())},
            metrics=_sklearn_metrics_regression(y_test, est.predict(x_test)),
            tags={"algorithm": name},
            parent_version=number - 1 or None,
            capture_git=False,
        )
    st.transition("diabetes-progression", 1, to="validation", justification="ridge baseline")
    victor.validate(
        "diabetes-progression",
        1,
        data=test,
        target="target",
        sensitive_features=["sex"],
        reference_data=train,
    )
    victor.open_finding(
        "diabetes-progression",
        version=1,
        title="Error not analysed for the over-65 cohort",
        severity="medium",
        description="Report MAE by age band before the cohort planning team relies on it.",
    )


def _wine(as_: As) -> None:
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    st, victor = as_("carol"), as_("victor")
    frame = load_wine(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    st.create_model(
        "wine-cultivar",
        title="Wine cultivar classifier",
        description="Cultivar of a wine from its chemical analysis.",
        purpose="Quality-control sampling in the bottling line",
        business_unit="Operations",
        owner="carol",
        team="quality-engineering",
        tags=["quality"],
    )
    st.assess_risk("wine-cultivar", QUALITY_ANSWERS)
    models: list[tuple[str, Any]] = [
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
    ]
    for number, (name, est) in enumerate(models, start=1):
        x, y = train.drop(columns="target"), train["target"]
        est.fit(x, y)
        pred = est.predict(test.drop(columns="target"))
        st.log_version(
            "wine-cultivar",
            est,
            training_data=train,
            evaluation_data=test,
            target="target",
            params={"algorithm": name},
            metrics={
                "accuracy": float(accuracy_score(test["target"], pred)),
                "f1_macro": float(f1_score(test["target"], pred, average="macro")),
            },
            tags={"algorithm": name},
            parent_version=number - 1 or None,
            capture_git=False,
        )
    _approve(st, [victor], "wine-cultivar", 2, "approved", "logistic: sampling accuracy")
    _approve(st, [], "wine-cultivar", 2, "production", "logistic: into the bottling line")
    st.set_alias("wine-cultivar", "champion", 2)


def _legacy(as_: As) -> None:
    st = as_("dave")
    st.create_model(
        "fraud-rules-legacy",
        title="Legacy card-fraud rules",
        description="Hand-written scoring rules inherited from the previous card platform.",
        purpose="Flag card transactions for manual fraud review",
        business_unit="Cards",
        owner="dave",
        team="fraud-operations",
        status="proposed",
        tags=["fraud", "legacy"],
    )
    rules = [
        {"rule": "amount_over_limit", "weight": 3},
        {"rule": "foreign_merchant_night", "weight": 2},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for number in (1, 2):
            path = Path(tmp) / "rules.json"
            path.write_text(json.dumps({"version": number, "rules": rules[:number]}, indent=2))
            st.log_version(
                "fraud-rules-legacy",
                artifact=path,
                tags={"format": "json-rules"},
                description=f"Rule set revision {number}",
                capture_git=False,
            )


def _simple(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if isinstance(v, str | int | float | bool | None)}


def _people(admin: Any) -> None:
    have_teams = {t.name: t for t in admin.list_teams()}
    for name, title in TEAMS.items():
        line = LINES.get(name, "first")
        if name not in have_teams:
            admin.create_team(name, title=title, line=line)
        elif have_teams[name].line != line:
            admin.update_team(name, line=line)
    have_users = {u.name for u in admin.list_users()}
    for name, (display, roles, team) in PEOPLE.items():
        if name not in have_users:
            admin.create_user(name, display_name=display, roles=roles, teams=[team])


# What load_demo reports as it goes (the CLI shows it as a progress bar): one call per step.
DEMO_STEPS = 9
Progress = Callable[[str], None]


def load_demo(st: Any, progress: Progress | None = None) -> str:
    """Load the demo people, policy and models into the embedded store (once).

    ``progress`` is called with a short description as each of ``DEMO_STEPS`` steps starts.
    """
    step: Progress = progress or (lambda _what: None)
    from steward.sdk.client import Steward
    from steward.sdk.local import LocalBackend

    backend = getattr(st, "_backend", None)
    if not isinstance(backend, LocalBackend):
        raise InvalidInput(
            "The demo acts as several people, so it loads into an embedded store: run "
            "`steward demo` on the server host without --url."
        )
    names = {m.name for m in st.list_models(limit=1000).items}
    if "credit-scoring" in names:
        return "Demo already loaded."
    step("people, teams and the default policy pack")
    _people(st)
    policy = st.load_default_policy(activate=True)

    def as_(name: str) -> Steward:
        return Steward(LocalBackend(backend.ctx, name))

    from steward.demo.datagov import challenger_on_faulty_extract, govern_credit_data

    # the data the credit models are trained on, governed; the pack that requires it
    policy = govern_credit_data(as_, step)
    _credit(as_, step)
    challenger_on_faulty_extract(as_)  # v5, on an extract that failed its rules: held
    step("diabetes progression: regression model")
    _diabetes(as_)
    step("wine cultivar: classifier")
    _wine(as_)
    step("legacy model")
    _legacy(as_)
    from steward.demo.monitoring import monitor_credit

    step("credit scoring: weeks of production monitoring")
    # Weeks of production data: the last ones from a younger population raise an alert,
    # its finding, and send the champion to under_review.
    monitor_credit(as_)
    from steward.demo.passwords import password_from_env, set_demo_passwords

    step("passwords for the web UI")
    password = password_from_env()
    if password:
        # `make run` sets STEWARD_DEMO_PASSWORD so the demo people can sign in to the web UI.
        set_demo_passwords(backend.ctx, password)
    return (
        f"Loaded the demo: 4 models, {len(PEOPLE)} people in {len(TEAMS)} teams, policy "
        f"{policy.name}@{policy.version} active. Try `steward --as wendy approvals inbox`, "
        "`steward gate check credit-scoring 3 --to approved`, `steward finding list`."
    )
