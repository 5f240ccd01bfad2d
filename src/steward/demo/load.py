"""The demo inventory: real models on real data bundled with the package.

* ``credit-scoring`` — German Credit (UCI Statlog, CC BY 4.0), three scikit-learn
  versions: logistic regression (retired from production), random forest
  (production, ``champion``) and gradient boosting (in validation, ``challenger``);
* ``diabetes-progression`` — scikit-learn's bundled diabetes data (Efron et al. 2004),
  two regression versions;
* ``wine-cultivar`` — scikit-learn's bundled wine data (UCI), two classifiers;
* ``fraud-rules-legacy`` — an opaque rules file, the kind of artifact Steward
  stores as plain bytes, waiting for its first risk assessment.

Risk tiers and EU AI Act categories here are recorded directly; the governance
module's questionnaire will compute them.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from steward.domain.errors import AlreadyExists


def _sklearn_metrics_regression(y: Any, pred: Any) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "mae": float(mean_absolute_error(y, pred)),
        "rmse": float(mean_squared_error(y, pred) ** 0.5),
        "r2": float(r2_score(y, pred)),
    }


def _credit(st: Any) -> None:
    from steward.demo.credit import train_credit_model

    st.create_model(
        "credit-scoring",
        title="Consumer credit scoring",
        description="Probability that a consumer loan applicant is a bad credit risk.",
        purpose="Approve or refer consumer loan applications",
        business_unit="Retail lending",
        owner="alice",
        team="Retail Credit Risk",
        risk_tier="high",
        regulatory_category="high",
        tags=["credit", "eu-ai-act-annex-iii", "pii"],
        next_review_date=date(2027, 3, 31).isoformat(),
    )
    kinds = [("logistic", 1), ("forest", 2), ("gbm", 3)]
    for kind, number in kinds:
        trained = train_credit_model(seed=42, model_kind=kind)
        st.log_version(
            "credit-scoring",
            trained.model,
            training_data=trained.train,
            evaluation_data=trained.test,
            target=trained.target,
            params=trained.params,
            metrics=trained.metrics,
            tags={"algorithm": kind, "dataset": "german-credit"},
            description=f"{kind} model on German Credit (70/30 stratified split, seed 42)",
            parent_version=number - 1 or None,
            capture_git=False,
        )
    for to in ("validation", "approved", "production"):
        st.transition("credit-scoring", 1, to=to, justification=f"Demo: v1 {to}")
    for to in ("validation", "approved", "production"):
        st.transition(
            "credit-scoring",
            2,
            to=to,
            justification=f"Demo: forest beats logistic on held-out AUC ({to})",
        )
    st.transition(
        "credit-scoring",
        3,
        to="validation",
        justification="Demo: gradient boosting candidate ready for independent review",
    )
    st.set_alias("credit-scoring", "champion", 2)
    st.set_alias("credit-scoring", "challenger", 3)


def _diabetes(st: Any) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

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
        team="Clinical Analytics",
        risk_tier="critical",
        regulatory_category="high",
        tags=["health", "regression"],
        next_review_date=date(2026, 12, 15).isoformat(),
    )
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
    for to in ("validation", "approved"):
        st.transition("diabetes-progression", 1, to=to, justification=f"Demo: ridge {to}")


def _wine(st: Any) -> None:
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    frame = load_wine(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    st.create_model(
        "wine-cultivar",
        title="Wine cultivar classifier",
        description="Cultivar of a wine from its chemical analysis.",
        purpose="Quality-control sampling in the bottling line",
        business_unit="Operations",
        owner="carol",
        team="Quality Engineering",
        risk_tier="low",
        regulatory_category="minimal",
        tags=["quality"],
    )
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
    for to in ("validation", "approved", "production"):
        st.transition("wine-cultivar", 2, to=to, justification=f"Demo: logistic {to}")
    st.set_alias("wine-cultivar", "champion", 2)


def _legacy(st: Any) -> None:
    st.create_model(
        "fraud-rules-legacy",
        title="Legacy card-fraud rules",
        description="Hand-written scoring rules inherited from the previous card platform.",
        purpose="Flag card transactions for manual fraud review",
        business_unit="Cards",
        owner="dave",
        team="Fraud Operations",
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


def load_demo(st: Any) -> str:
    """Load the demo models; models that already exist are left as they are."""
    loaded, skipped = [], []
    for name, loader in (
        ("credit-scoring", _credit),
        ("diabetes-progression", _diabetes),
        ("wine-cultivar", _wine),
        ("fraud-rules-legacy", _legacy),
    ):
        try:
            loader(st)
            loaded.append(name)
        except AlreadyExists:
            skipped.append(name)
    parts = [f"Loaded demo models: {', '.join(loaded)}." if loaded else "Demo already loaded."]
    if skipped:
        parts.append(f"Already present: {', '.join(skipped)}.")
    return " ".join(parts)
