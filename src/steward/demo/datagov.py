"""The demo's data governance: the German Credit applications as a governed dataset.

``german-credit`` is registered by its owner (alice, retail credit risk) with the data
office as its steward team, classified ``confidential`` with a legal basis, and given
quality rules (:data:`RULES`, YAML) before its first snapshot. Its versions are extracts
of the bundled file (``data/german_credit.csv``, UCI Statlog, CC BY 4.0):

* ``german-credit@1`` — the training extract: the 700 applications the credit models are
  trained on (the 70/30 split stratified on ``risk``, seed 42, that
  :func:`steward.demo.credit.train_credit_model` makes);
* ``german-credit@2`` — the holdout extract: the other 300, the models' evaluation data;
* ``german-credit@3`` — a **faulty re-extract** of the training applications, derived
  here from ``@1`` to stand for a broken migration of the application system: every
  tenth application lost its age (null) and every 25th amount was written in pfennig
  (x100). It is not real data; the rules catch both.

Each snapshot's personal-data scan runs for real. On these columns it detects one:
``telephone``, by its name (its values are ``yes, registered under the customers name``
or ``none``: no number matches). dora, a data steward, reviews it as no personal data,
with the reason. Age, sex / marital status and foreign-worker status are not identifiers
or special categories under the scan's rules (docs/datasets.md); they are the fairness
validation's sensitive features instead.

dora approves ``@1`` and ``@2``; ``@3`` fails its rules, so it cannot be approved, and its
failures open data findings. The credit models' versions link to ``@1`` and ``@2`` by
fingerprint (lineage); a gbm challenger retrained on ``@3`` (``credit-scoring`` v5) is
held at the approval gate by ``data.quality`` and ``data.approved``: requirements of the
demo's policy, the shipped pack plus :data:`DATA_REQUIREMENTS` (version ``…+data``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

DATASET = "german-credit"
STEWARD = "dora"
OWNER = "alice"
SEED = 42
TEST_SIZE = 0.3
RULES = """\
# Quality rules for the German Credit applications (docs/datasets.md, "Quality rules").
rules:
  - kind: row_count
    min: 250
  - kind: not_null
    column: age_in_years
  - kind: range
    column: age_in_years
    min: 18
    max: 100
  - kind: range
    column: credit_amount          # Deutsche Mark
    min: 100
    max: 50000
  - kind: range
    column: duration_in_month
    min: 1
    max: 72
  - kind: allowed_values
    column: foreign_worker
    values: ["yes", "no"]
  - kind: not_null
    column: personal_status_and_sex
    severity: medium
"""
TELEPHONE_REASON = (
    "A yes/none flag saying whether a telephone is registered in the applicant's name; "
    "the column holds no telephone numbers."
)

As = Callable[[str], Any]
Progress = Callable[[str], None]

# The demo's policy: the shipped pack plus its data requirements for material models. The
# shipped pack leaves them opt-in (docs/datasets.md, "Gates"): stores whose models log
# unregistered data would otherwise be blocked. The demo's credit data is governed, so it
# opts in, as a new version of the pack (`steward policy show` shows the whole text).
PACK_SUFFIX = "+data"
DATA_REQUIREMENTS = """
  # --- the data a material model rests on (added by the demo; docs/datasets.md) ---------
  - id: data.registered
    kind: data_registered
    description: The training and evaluation data are registered dataset versions.
    to: [approved, production]
    tiers: [high, critical]
    controls: ["eu-ai-act:Art. 10", "iso-42001:A.7.2", "iso-42001:A.7.5", "tw-fsc:TW-FSC-5"]

  - id: data.quality
    kind: data_quality_passed
    description: That data passed its dataset's quality rules.
    to: [approved, production]
    tiers: [high, critical]
    controls: ["eu-ai-act:Art. 10", "iso-42001:A.7.4", "tw-fsc:TW-FSC-4"]

  - id: data.approved
    kind: data_approved
    description: A data steward who does not own the dataset approved that data for use.
    to: [approved, production]
    tiers: [high, critical]
    controls: ["eu-ai-act:Art. 10", "iso-42001:A.7.3", "tw-fsc:TW-FSC-5"]

  - id: data.personal
    kind: personal_data_reviewed
    description: The training data's personal-data columns were reviewed by a person.
    to: [production]
    tiers: [high, critical]
    controls: ["eu-ai-act:Art. 10", "iso-42001:A.7.3", "tw-fsc:TW-FSC-3"]
"""


def demo_pack_text() -> str:
    """The shipped pack with :data:`DATA_REQUIREMENTS` appended (its requirements list is
    the file's last key) as version ``<shipped>+data``."""
    import re

    from steward.domain.policy import default_pack_text

    text = default_pack_text()
    # the top-level version line (loading the result parses and checks the whole pack)
    found = re.search(r'^version: "([^"]+)"$', text, re.MULTILINE)
    if found is None:
        raise ValueError('the shipped pack has no top-level line version: "…"')
    head, tail = text[: found.start()], text[found.end() :]
    return (
        f'{head}version: "{found.group(1)}{PACK_SUFFIX}"{tail}'.rstrip("\n")
        + "\n"
        + DATA_REQUIREMENTS
    )


def extracts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and holdout extracts: the exact split the credit models use."""
    from sklearn.model_selection import train_test_split

    from steward.demo.credit import TARGET, load_german_credit

    data = load_german_credit()
    train, test = train_test_split(
        data, test_size=TEST_SIZE, random_state=SEED, stratify=data[TARGET]
    )
    assert isinstance(train, pd.DataFrame) and isinstance(test, pd.DataFrame)
    return train, test


def faulty_extract(train: pd.DataFrame) -> pd.DataFrame:
    """``@3``: the training applications after a simulated broken migration — every
    tenth age missing, every 25th amount in pfennig (x100)."""
    out = train.copy()
    position = np.arange(len(out))
    out["age_in_years"] = out["age_in_years"].astype("float64").mask(position % 10 == 0)
    out["credit_amount"] = out["credit_amount"].mask(position % 25 == 0, out["credit_amount"] * 100)
    return out


def govern_credit_data(as_: As, step: Progress) -> Any:
    """Register the German Credit data, its rules, its training and holdout extracts, the
    review of its personal data and a data steward's approvals — before the credit models
    are trained on it — and activate the pack whose data requirements guard their gates.
    Returns that pack's record."""
    step("German Credit data: dataset, quality rules, personal-data scan, approval")
    from steward.demo.credit import DATA_PATH

    alice, dora = as_(OWNER), as_(STEWARD)
    policy = as_("ada").load_policy(text=demo_pack_text(), activate=True)
    alice.create_dataset(
        DATASET,
        title="Consumer loan applications (German Credit)",
        description=(
            "1,000 consumer loan applications with their credit outcome (Statlog German "
            "Credit Data, Prof. Hans Hofmann, UCI Machine Learning Repository). The demo's "
            "credit models are trained and evaluated on extracts of it."
        ),
        owner=OWNER,
        steward_team="data-office",
        source=str(DATA_PATH),
        classification="confidential",
        legal_basis="contract: assessing a loan application (PDPA Art. 19, GDPR Art. 6(1)(b))",
        retention="7y",
        licence="CC BY 4.0",
        tags=["credit", "applicants"],
    )
    alice.set_dataset_rules(DATASET, RULES)
    train, test = extracts()
    alice.snapshot_dataset(
        DATASET, train, source="training extract: 70% stratified on risk, seed 42"
    )
    alice.snapshot_dataset(DATASET, test, source="holdout extract: the other 30%")
    # The scan flags `telephone` by its name; the data steward looks and decides.
    dora.classify_column(f"{DATASET}@1", "telephone", [], TELEPHONE_REASON)
    for version, comment in (
        (1, "Fit for training credit models: rules passed, personal data reviewed."),
        (2, "Fit as holdout data for credit models."),
    ):
        dora.approve_dataset(f"{DATASET}@{version}", comment)
    return policy


def challenger_on_faulty_extract(as_: As) -> int:
    """Snapshot the faulty re-extract (``@3``: its rules fail, opening data findings) and
    log a gbm challenger trained on it; the approval gate holds it. Returns its version."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from steward.demo.credit import TARGET

    alice = as_(OWNER)
    train, test = extracts()
    faulty = faulty_extract(train)
    alice.snapshot_dataset(
        DATASET,
        faulty,
        source="re-extract of the training applications after the (simulated) migration",
    )
    features = [c for c in faulty.columns if c != TARGET]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(faulty[c])]
    params: dict[str, Any] = {
        "learning_rate": 0.05,
        "max_iter": 150,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 20,
        "l2_regularization": 1.0,
        "early_stopping": False,
        "random_state": SEED,
    }
    model = Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            [c for c in features if c not in numeric],
                        ),
                        ("numeric", StandardScaler(), numeric),
                    ]
                ),
            ),
            ("classifier", HistGradientBoostingClassifier(**params)),
        ]
    )
    model.fit(faulty[features], faulty[TARGET])
    p_bad = model.predict_proba(test[features])[:, list(model.classes_).index(1)]
    logged = alice.log_version(
        "credit-scoring",
        model,
        training_data=faulty,
        evaluation_data=test,
        target=TARGET,
        params={**params, "seed": SEED, "model_kind": "gbm"},
        metrics={
            "accuracy": float(accuracy_score(test[TARGET], model.predict(test[features]))),
            "roc_auc": float(roc_auc_score(test[TARGET], p_bad)),
        },
        tags={"algorithm": "gbm", "dataset": f"{DATASET}@3"},
        description=(
            "gbm challenger retrained on the re-extract german-credit@3, which failed its "
            "quality rules: the approval gate holds it (data.quality, data.approved)"
        ),
        parent_version=3,
        capture_git=False,
    )
    number = int(logged.version)
    alice.transition(
        "credit-scoring",
        number,
        to="validation",
        justification="gbm retrained on the latest extract, for review",
    )
    return number
