# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
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


# -- titles in each language ----------------------------------------------------------------
#
# A generated finding's title, per page or e-mail language, from its key and parameters: the
# web pages and the notification e-mails word it from here. English is what the services
# store (and the CLI and REST return); the English templates below reproduce it.

_CHECK_FAMILY_TITLES: dict[str, dict[str, str]] = {
    "en": {},  # English keeps the stored "Check failed: NAME"
    "zh-TW": {
        "performance": "效能檢查未通過：{check}",
        "fairness": "公平性檢查未通過：{check}",
        "data_quality": "資料品質檢查未通過：{check}",
        "robustness": "穩健性檢查未通過：{check}",
        "explainability": "可解釋性檢查未通過：{check}",
        "fairness.four_fifths": "公平性檢查未通過（五分之四規則）：{check}",
    },
}
_TITLES: dict[str, dict[str, str]] = {
    "en": {
        CHECK_FAILED: "Check failed: {check}",
        MONITOR_ALERT: "Monitoring alert: {metric} on {column}",
        MONITOR_ALERT + "/dataset": "Monitoring alert: {metric} on the dataset",
        DEPLOY_UNAPPROVED: "Unapproved artifact reported in {environment}",
        REVIEW_ADVERSE: "Periodic review {outcome}",
        DATA_RECALL: "Data recall: {dataset} ({role} data)",
        MLFLOW_MOVED: "MLflow {what} moved outside Steward",
        DATASET_RULE_FAILED: "{ref} fails {rule}: {detail}",
    },
    "zh-TW": {
        CHECK_FAILED: "檢查未通過：{check}",
        MONITOR_ALERT: "監控警示：欄位 {column} 的 {metric}",
        MONITOR_ALERT + "/dataset": "監控警示：資料集的 {metric}",
        DEPLOY_UNAPPROVED: "{environment} 回報載入了未經核准的模型檔",
        REVIEW_ADVERSE: "定期審查：{outcome}",
        DATA_RECALL: "資料召回：{dataset}（{role}資料）",
        MLFLOW_MOVED: "MLflow 的 {what} 在 Steward 之外被變更",
        DATASET_RULE_FAILED: "{ref} 未通過規則 {rule}：{detail}",
    },
}
# Values that are words: a review's outcome, a dataset's role in a version.
_VALUES: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "outcome": {"needs_improvement": "needs improvement"},
    },
    "zh-TW": {
        "outcome": {
            "satisfactory": "滿意",
            "needs_improvement": "需改善",
            "unsatisfactory": "不滿意",
        },
        "role": {"training": "訓練", "evaluation": "評估"},
    },
}
LANGUAGES: tuple[str, ...] = tuple(_TITLES)


def title(key: str | None, params: Any, language: str) -> str | None:
    """The title of a finding with message ``key`` and ``params`` in ``language``; None when
    the key, the language or the parameters do not give one (show the stored title then)."""
    if key not in KEYS or language not in _TITLES or not isinstance(params, dict):
        return None
    words = _VALUES[language]
    values = {name: words.get(name, {}).get(str(value), value) for name, value in params.items()}
    template = _TITLES[language][key]
    if key == MONITOR_ALERT and params.get("column") is None:
        template = _TITLES[language][MONITOR_ALERT + "/dataset"]
    if key == CHECK_FAILED:
        check = str(params.get("check", ""))
        families = _CHECK_FAMILY_TITLES[language]
        template = families.get(check) or families.get(check.split(".", 1)[0]) or template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return None
