"""AI impact assessments: a versioned form, answered per model, decided by someone else.

The form is YAML (``policies/impact-assessment.yaml`` ships with Steward): ISO/IEC 42005
structure, with the EU AI Act Art. 27 fundamental-rights elements (``fria: true``) that
are required when the model is in the EU AI Act high-risk category, and the Taiwan FSC
guideline's impact considerations. Each submission is a new revision; a revision counts
once it is approved by someone who is neither its submitter nor the model's owner
(segregation of duties, :func:`check_decider`).

An approved assessment goes stale (:func:`staleness`) when the form's version changed,
or when what it assessed changed: the model's purpose, or its affected population — the
answers of the current risk assessment about who is affected and how widely
(:data:`POPULATION_QUESTIONS`).

Pure: no I/O but reading the shipped form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from steward.domain.errors import Forbidden, InvalidInput

SHIPPED = "impact-assessment.yaml"
# Risk-questionnaire answers that describe the affected population.
POPULATION_QUESTIONS = ("decision_impact", "vulnerable_groups", "scale")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_ANSWER = 20_000


class ImpactStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class FormField:
    id: str
    section: str
    text: str
    refs: tuple[str, ...]
    required: bool = True
    fria: bool = False  # EU AI Act Art. 27: required for high-risk systems


@dataclass(frozen=True)
class ImpactForm:
    id: str
    version: str
    title: str
    fields: tuple[FormField, ...]

    def required_for(self, category: str) -> list[FormField]:
        """The fields an assessment must answer for a model in EU AI Act ``category``."""
        return [f for f in self.fields if f.required and (not f.fria or category == "high")]


@dataclass(frozen=True)
class ImpactAssessment:
    id: str
    model: str
    revision: int
    form: str
    form_version: str
    answers: dict[str, str]
    purpose: str  # the model's purpose when submitted
    population: dict[str, Any]  # the risk answers about who is affected, when submitted
    status: ImpactStatus
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""
    audit_seq: int = 0
    stale: str | None = field(default=None, compare=False)  # why it no longer counts


def shipped_text() -> str:
    return resources.files("steward.policies").joinpath(SHIPPED).read_text("utf-8")


@cache
def shipped() -> ImpactForm:
    return parse(shipped_text())


def parse(text: str) -> ImpactForm:
    """Read a form; a malformed one raises :class:`InvalidInput` naming the problem."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("fields"), list):
        raise InvalidInput("An impact assessment form maps 'form', 'version' and 'fields'.")
    fields: list[FormField] = []
    for raw in doc["fields"]:
        if not isinstance(raw, dict) or not _ID.match(str(raw.get("id", ""))):
            raise InvalidInput(f"Form field {raw!r} needs an id of lower-case letters and '_'.")
        fields.append(
            FormField(
                id=str(raw["id"]),
                section=" ".join(str(raw.get("section", "")).split()),
                text=" ".join(str(raw.get("text", "")).split()),
                refs=tuple(str(r) for r in raw.get("refs") or ()),
                required=bool(raw.get("required", True)),
                fria=bool(raw.get("fria", False)),
            )
        )
    ids = [f.id for f in fields]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Form field ids must be unique.")
    return ImpactForm(
        id=str(doc.get("form", "")),
        version=str(doc.get("version", "")),
        title=str(doc.get("title", "")),
        fields=tuple(fields),
    )


def check_answers(form: ImpactForm, answers: Mapping[str, Any], category: str) -> dict[str, str]:
    """Answers as text per field; every field the model's category requires is answered."""
    if not isinstance(answers, Mapping):
        raise InvalidInput(
            "Answers map form field ids to text, e.g. {'intended_purpose': '...'}; see the "
            "fields with `steward impact form`.",
            field="answers",
        )
    known = {f.id for f in form.fields}
    unknown = sorted(str(k) for k in answers if k not in known)
    if unknown:
        raise InvalidInput(
            f"Unknown impact assessment field(s) {', '.join(unknown)}; the fields are "
            f"{', '.join(sorted(known))} (`steward impact form`).",
            field="answers",
        )
    out: dict[str, str] = {}
    for key, value in answers.items():
        if not isinstance(value, str):
            raise InvalidInput(f"The answer to {key!r} must be text.", field=str(key))
        text = value.strip()
        if len(text) > MAX_ANSWER:
            raise InvalidInput(
                f"The answer to {key!r} is {len(text)} characters; at most {MAX_ANSWER}.",
                field=str(key),
            )
        if text:
            out[str(key)] = text
    missing = [f.id for f in form.required_for(category) if f.id not in out]
    if missing:
        why = " (EU AI Act Art. 27 applies to this high-risk model)" if category == "high" else ""
        raise InvalidInput(
            f"The impact assessment leaves {', '.join(missing)} unanswered{why}; answer "
            "every required field (`steward impact form` lists them).",
            field="answers",
        )
    return out


def population(risk_answers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The risk answers that describe who is affected (empty without an assessment)."""
    if not risk_answers:
        return {}
    return {q: risk_answers[q] for q in POPULATION_QUESTIONS if q in risk_answers}


def check_decider(assessment: ImpactAssessment, decider: str, owner: str) -> None:
    """Segregation of duties: neither the submitter nor the model's owner decides."""
    if decider == assessment.submitted_by:
        raise Forbidden(
            f"{decider} submitted impact assessment {assessment.id}; someone else must "
            "approve or reject it (segregation of duties).",
        )
    if decider == owner:
        raise Forbidden(
            f"{decider} owns model {assessment.model!r}; the impact assessment of one's own "
            "model is decided by someone independent of it (segregation of duties).",
        )


def staleness(
    assessment: ImpactAssessment,
    form_version: str,
    purpose: str,
    current_population: Mapping[str, Any],
) -> str | None:
    """Why an approved assessment no longer counts, or None while it is current."""
    model = assessment.model
    again = f"Submit a new one with `steward impact submit {model}`."
    if assessment.form_version != form_version:
        return (
            f"Impact assessment {assessment.id} used form version {assessment.form_version}; "
            f"the current version is {form_version}. {again}"
        )
    if (assessment.purpose or "") != (purpose or ""):
        return (
            f"The model's purpose changed after impact assessment {assessment.id} "
            f"({assessment.submitted_at:%Y-%m-%d}). {again}"
        )
    if dict(assessment.population) != dict(current_population):
        changed = sorted(
            q
            for q in set(assessment.population) | set(current_population)
            if assessment.population.get(q) != current_population.get(q)
        )
        return (
            f"The affected population changed after impact assessment {assessment.id} "
            f"(risk answers {', '.join(changed)}). {again}"
        )
    return None
