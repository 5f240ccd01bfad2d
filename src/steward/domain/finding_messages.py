"""Message keys of the findings Steward writes itself (a failed check, a monitoring alert, a
foreign artifact in production, an adverse periodic review, a data recall, an MLflow alias
moved by hand, a dataset quality rule failing).

The stored ``title`` and ``description`` stay English (the CLI, REST and the journal carry
them verbatim); beside them the finding keeps ``message_key`` (one of :data:`KEYS`) and
``message_params`` (the facts the English was built from), so a page or an e-mail in another
language words the finding itself. A finding a person wrote has no key and is shown as
typed; a key whose parameters do not cover a sentence falls back to the stored English.
"""

from __future__ import annotations

from typing import Any

CHECK_FAILED = "check.failed"  # check, message, value, op, limit
MONITOR_ALERT = "monitor.alert"  # metric, column (None: the dataset), monitor, monitor_id, ...
DEPLOY_UNAPPROVED = "deploy.unapproved"  # environment, reporter, model, sha256, reason
REVIEW_ADVERSE = "review.adverse"  # outcome (the description is the reviewer's notes)
DATA_RECALL = "data.recall"  # dataset, role (the description is the recall's reason)
MLFLOW_MOVED = "mlflow.moved"  # what, source, mlflow_name, mlflow_version, model, ...
DATASET_RULE_FAILED = "dataset.rule_failed"  # ref, rule, detail (dataset findings)

KEYS: frozenset[str] = frozenset(
    {
        CHECK_FAILED,
        MONITOR_ALERT,
        DEPLOY_UNAPPROVED,
        REVIEW_ADVERSE,
        DATA_RECALL,
        MLFLOW_MOVED,
        DATASET_RULE_FAILED,
    }
)


def message(key: str, **params: Any) -> dict[str, Any]:
    """The ``message_key``/``message_params`` pair a service stores with a finding."""
    assert key in KEYS, key
    return {"message_key": key, "message_params": dict(params)}
