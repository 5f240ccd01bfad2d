"""Demo: monitor the production credit model on weekly batches of real German Credit rows.

``credit-scoring`` version 2 (the random forest, in production as ``champion``) gets a
monitor whose reference is its own training split. Four weekly batches follow, scored by
the model itself: two drawn from the held-out applicants (no shift) and two resampled
from applicants aged 30 or younger — a genuinely different age population. The age PSI
rule (critical, two breaches in a row) fires on the fourth week: an alert, its finding,
and — because the default policy sends critical alerts to review — the move of version 2
to ``under_review``. Labels for the first two weeks arrive later and give performance.

A drift finding is model-wide: the challenger (version 3) serves the same applicants, so the
open finding would hold its approval too. The risk officer accepts it on the record with a
compensating control (young applicants referred to an underwriter), which lets the challenger
be judged on its own evidence while version 2 stays under review.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

MODEL = "credit-scoring"
VERSION = 2
COLUMNS = [
    "age_in_years",
    "credit_amount",
    "duration_in_month",
    "installment_rate_in_percentage_of_disposable_income",
    "purpose",
    "housing",
    "foreign_worker",
    "status_of_existing_checking_account",
]
RULES = [
    {
        "id": "age-shift",
        "metric": "psi",
        "column": "age_in_years",
        "op": ">=",
        "threshold": 0.25,
        "severity": "critical",
        "consecutive": 2,
    },
    {"id": "dataset-drift", "metric": "drift_share", "op": ">=", "threshold": 0.5},
    {"id": "accuracy", "metric": "accuracy", "op": "<", "threshold": 0.65, "severity": "high"},
]
BATCH_ROWS = 150
YOUNG_UP_TO = 30


def _scored(model: Any, features: list[str], rows: Any, week: int) -> Any:
    batch = rows.copy()
    proba = model.predict_proba(batch[features])[:, list(model.classes_).index(1)]
    batch["score"] = proba.round(4)
    batch["decision"] = (proba >= 0.5).astype(int)
    batch["application_id"] = [f"w{week}-{i:03d}" for i in range(len(batch))]
    return batch


KINDS = {1: "logistic", 2: "forest", 3: "gbm"}  # how the demo trained each version


def watch_credit(as_: Callable[[str], Any], version: int) -> Any:
    """Alice configures the weekly monitor of a credit version (before it goes live).

    The reference is the version's own training split; personal_status_and_sex is not
    watched nor used for fairness (misaligned in the bundled data, see data/NOTICE.md).
    """
    from steward.demo.credit import train_credit_model

    trained = train_credit_model(seed=42, model_kind=KINDS[version])
    return as_("alice").create_monitor(
        MODEL,
        version,
        reference=trained.train,
        name="weekly-applications",
        columns=COLUMNS,
        prediction="decision",
        score="score",
        id_column="application_id",
        sensitive=["foreign_worker"],
        window="weekly",
        rules=RULES,
    )


def monitor_credit(as_: Callable[[str], Any], *, now: datetime | None = None) -> str:
    """Feed four weeks to the production version's monitor; returns a one-line summary."""
    from steward.demo.credit import TARGET, load_german_credit, train_credit_model

    alice, victor = as_("alice"), as_("victor")
    trained = train_credit_model(seed=42, model_kind=KINDS[VERSION])  # version 2's exact split
    found = [m for m in alice.monitors(MODEL) if m.version == VERSION]
    monitor = found[0] if found else watch_credit(as_, VERSION)
    everyone = load_german_credit()
    young = everyone[everyone.age_in_years <= YOUNG_UP_TO]
    held_out = trained.test.sample(frac=1.0, random_state=11)
    weeks = [
        held_out.iloc[:BATCH_ROWS],
        held_out.iloc[BATCH_ROWS : 2 * BATCH_ROWS],
        young.sample(BATCH_ROWS, replace=True, random_state=3),
        young.sample(BATCH_ROWS, replace=True, random_state=4),
    ]
    moment = (now or datetime.now(UTC)) - timedelta(days=7 * (len(weeks) - 1))
    batches = []
    for week, rows in enumerate(weeks, 1):
        batch = _scored(trained.model, trained.feature_columns, rows, week)
        batches.append(batch)
        victor.run_monitor(
            monitor.id,
            batch.drop(columns=[TARGET]),
            engine="duckdb",
            observed_at=moment + timedelta(days=7 * (week - 1)),
        )
    for batch in batches[:2]:  # outcomes of the first two weeks are known by now
        victor.monitor_labels(
            monitor.id, dict(zip(batch.application_id, batch[TARGET].astype(float), strict=True))
        )
    rita = as_("rita")
    for finding in rita.findings(MODEL, version=VERSION, source="monitor").items:
        if finding.scope == "model" and finding.status.is_open:
            rita.update_finding(
                finding.id,
                status="accepted",
                note="Age shift accepted with a compensating control: applicants aged 30 or "
                "younger are referred to an underwriter until the champion is replaced.",
            )
    alerts = victor.alerts(model=MODEL)
    stage = alice.get_version(MODEL, VERSION).stage.value
    return (
        f"Monitor {monitor.id} on {MODEL} v{VERSION}: {len(weeks)} weekly batches, "
        f"{len(alerts)} open alert(s); version {VERSION} is {stage}."
    )
