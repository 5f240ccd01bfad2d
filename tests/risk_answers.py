"""Risk questionnaire answers the tests share, so each answer set is written once.

The credit model's answers are the demo's own (Annex III 5(b), human oversight, material
exposure): the demo and the tests assess the same model the same way.
"""

from __future__ import annotations

from typing import Any

from steward.demo.load import CREDIT_ANSWERS, CREDIT_IMPACT

CREDIT: dict[str, Any] = CREDIT_ANSWERS
# An internal demand forecast: nothing about people.
FORECAST: dict[str, Any] = {
    "decision_impact": "none",
    "autonomy": "human_decides",
    "personal_data": "none",
    "vulnerable_groups": "no",
    "scale": "under_1k",
    "financial_exposure": "negligible",
    "regulated_domain": ["none"],
    "annex_iii": ["none"],
    "prohibited_practices": ["none"],
    "transparency": ["none"],
    "third_party": "in_house",
}
# A complete AI impact assessment (every field of the shipped form, Art. 27 ones included):
# the demo's credit model's own.
IMPACT: dict[str, str] = CREDIT_IMPACT
