"""Model cards / EU AI Act Annex IV technical documentation, built from evidence.

A card is a list of sections (Model Cards, Mitchell et al. 2019, in the order of
Annex IV). Each section is a list of *blocks* — facts, tables, plots, the owner's
narrative — so the same card renders as Markdown, HTML and PDF from one structure
(``templates/model-card.md.j2`` and ``model-card.html.j2``). Everything except the
narrative fields is generated from what Steward holds: the inventory record, the
version and its datasets, check runs with their plots, the risk assessment,
transitions, approvals, signatures, findings, waivers, reviews and monitoring.

The narrative fields are what only the owner can say (intended use, out-of-scope
uses, limitations...). They are stored per version, every change a new revision
journalled as ``modelcard.narrative_set``; a version without its own text for a
field shows the text of the closest earlier version, marked as carried over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from steward.compliance.catalogs import control_index
from steward.compliance.coverage import ModelCoverage
from steward.domain.audit import format_time
from steward.domain.checks import CheckFamily, CheckResult, CheckRun
from steward.domain.entities import DatasetVersion, Model, ModelVersion, Transition
from steward.domain.errors import InvalidInput
from steward.domain.findings import Finding, Waiver
from steward.domain.impact import ImpactAssessment
from steward.domain.requests import TransitionRequest
from steward.domain.reviews import Review
from steward.domain.risk import RiskAssessment
from steward.domain.trust import SignatureRecord

CARD_FORMAT = "steward.model-card/v1"
FORMATS = ("json", "md", "html", "pdf")
MEDIA_TYPES = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
MAX_NARRATIVE = 20_000


@dataclass(frozen=True)
class NarrativeField:
    key: str
    title: str
    prompt: str  # what the owner is asked to write
    section: str  # the card section it appears in


NARRATIVE_FIELDS: tuple[NarrativeField, ...] = (
    NarrativeField(
        "intended_use",
        "Intended use",
        "What the model is for, who uses its output and in which decision.",
        "intended_use",
    ),
    NarrativeField(
        "out_of_scope",
        "Out-of-scope uses",
        "Uses the model was not designed or validated for and must not be put to.",
        "intended_use",
    ),
    NarrativeField(
        "accountable_people",
        "Accountable people",
        "Who is accountable for the model beyond its owner (sponsor, validators, contacts).",
        "people",
    ),
    NarrativeField(
        "data_notes",
        "Data notes",
        "How the data was obtained and selected, labelling and cleaning, known gaps.",
        "data",
    ),
    NarrativeField(
        "method",
        "Method and design choices",
        "Algorithm, key design choices and their rationale, optimisation objective.",
        "method",
    ),
    NarrativeField(
        "limitations",
        "Limitations",
        "Known limitations: populations, conditions or inputs where it performs worse.",
        "limitations",
    ),
    NarrativeField(
        "residual_risks",
        "Residual risks",
        "Risks that remain after the controls, and why they are accepted.",
        "limitations",
    ),
    NarrativeField(
        "human_oversight",
        "Human oversight",
        "How people oversee, interpret and can override the output (EU AI Act Art. 14).",
        "oversight",
    ),
    NarrativeField(
        "monitoring_plan",
        "Monitoring plan",
        "What is monitored in production, how often, and what happens on an alert.",
        "monitoring",
    ),
)
FIELDS_BY_KEY = {f.key: f for f in NARRATIVE_FIELDS}


def narrative_field(key: str) -> NarrativeField:
    """The field named ``key``, or a refusal listing the fields."""
    found = FIELDS_BY_KEY.get((key or "").strip().lower().replace("-", "_"))
    if found is None:
        raise InvalidInput(
            f"Unknown model card field {key!r}; the narrative fields are: "
            f"{', '.join(FIELDS_BY_KEY)} (`steward report fields` describes them).",
            field="field",
        )
    return found


def narrative_text(key: str, text: str) -> str:
    """Validated text of a narrative field: not blank, at most 20 000 characters."""
    if not isinstance(text, str):
        raise InvalidInput(f"The text of {key!r} must be a string.", field=key)
    value = text.strip()
    if not value:
        raise InvalidInput(
            f"The text of {key!r} is empty; write the field, or leave it out of the call.",
            field=key,
        )
    if len(value) > MAX_NARRATIVE:
        raise InvalidInput(
            f"The text of {key!r} has {len(value)} characters; the limit is {MAX_NARRATIVE}. "
            "Link to a longer document from the text instead.",
            field=key,
        )
    return value


@dataclass(frozen=True)
class Narrative:
    """One revision of a narrative field, as it applies to ``version``."""

    model: str
    version: int  # the version whose card shows it
    field: str
    text: str
    revision: int
    written_by: str
    written_at: datetime
    audit_seq: int
    from_version: int  # the version it was written for (earlier when carried over)
    superseded_at: datetime | None = None

    @property
    def carried_over(self) -> bool:
        return self.from_version != self.version


@dataclass(frozen=True)
class CardSection:
    key: str
    title: str
    refs: str  # e.g. "Annex IV 2(d); Art. 10"
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class ModelCard:
    format: str
    model: str
    version: int
    title: str
    generated_at: datetime
    generated_by: str
    sections: list[CardSection]
    # What the card was built from: run ids, fingerprints, the journal head, etc.
    evidence: dict[str, Any] = field(default_factory=dict)
    # Plots the card shows: file name -> sha256 in the artifact store.
    plots: dict[str, str] = field(default_factory=dict)

    def section(self, key: str) -> CardSection:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


@dataclass(frozen=True)
class RenderedCard:
    filename: str
    media_type: str
    content: bytes


@dataclass
class CardEvidence:
    """Everything a card is generated from, gathered by ``services.modelcards``."""

    model: Model
    version: ModelVersion
    previous: ModelVersion | None
    assessment: RiskAssessment | None
    assessment_problem: str | None
    runs: list[CheckRun]  # this version's runs, newest first
    previous_runs: list[CheckRun]
    transitions: list[Transition]
    requests: list[TransitionRequest]
    findings: list[Finding]  # of the model: this version's and model-wide
    waivers: list[Waiver]
    reviews: list[Review]
    signatures: list[SignatureRecord]
    narratives: dict[str, Narrative]
    previous_narratives: dict[str, Narrative]
    monitoring: dict[str, Any] | None
    policy: str | None
    journal_head: tuple[int, str] | None
    generated_at: datetime
    generated_by: str
    impact: ImpactAssessment | None = None  # the approved AI impact assessment, if any
    impact_problem: str | None = None  # why there is none, or why it is stale
    # The coverage service's result for the model (``services.compliance``), shown as is.
    coverage: ModelCoverage | None = None


# -- blocks ---------------------------------------------------------------------------


def _facts(*items: tuple[str, Any]) -> dict[str, Any]:
    return {
        "kind": "facts",
        "items": [[label, _text(value)] for label, value in items if value not in (None, "")],
    }


def _table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str = "",
    *,
    word_columns: Sequence[int] = (),
    caption_text: str = "",
    caption_args: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A table block. ``word_columns``: the columns whose cells are Steward's own fixed words
    (statuses), translated on a zh-TW card like the headings; the other cells are evidence
    and stay as recorded. ``caption_text`` % ``caption_args``: a caption with a value in it,
    translated as a sentence (``caption`` keeps the English for the JSON card)."""
    table: dict[str, Any] = {
        "kind": "table",
        "caption": caption,
        "columns": list(columns),
        "rows": [[_text(v) for v in row] for row in rows],
    }
    if word_columns:
        table["word_columns"] = list(word_columns)
    if caption_text:
        table["caption_text"] = caption_text
        table["caption_args"] = dict(caption_args or {})
    return table


def _para(text: str) -> dict[str, Any]:
    return {"kind": "text", "text": text}


def _missing(text: str) -> dict[str, Any]:
    return {"kind": "missing", "text": text}


def _plot(name: str, sha256: str, caption: str) -> dict[str, Any]:
    return {"kind": "plot", "name": name, "sha256": sha256, "caption": caption}


def _narrative(key: str, found: Narrative | None) -> dict[str, Any]:
    spec = FIELDS_BY_KEY[key]
    if found is None:
        return {
            "kind": "narrative",
            "field": key,
            "title": spec.title,
            "text": "",
            "missing": True,
            "note": f"Not written yet — the owner adds it with "
            f"`steward report narrative MODEL VERSION --set {key}=...` ({spec.prompt})",
        }
    note = f"revision {found.revision}, {found.written_by}, {found.written_at:%Y-%m-%d}"
    if found.carried_over:
        note += f"; carried over from version {found.from_version} — review it for this version"
    return {
        "kind": "narrative",
        "field": key,
        "title": spec.title,
        "text": found.text,
        "missing": False,
        "note": note,
    }


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return format_time(value)[:19].replace("T", " ") + " UTC"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "—"
    if hasattr(value, "value") and not isinstance(value, int | str):
        return str(value.value)
    return str(value)


def _threshold(result: CheckResult) -> str:
    if result.threshold is None:
        return "informational" if result.passed is None else "—"
    return f"{result.threshold.op} {result.threshold.limit:g}"


def _status(result: CheckResult) -> str:
    if result.passed is None:
        return "info" if result.value is not None else "skipped"
    return "pass" if result.passed else "FAIL"


# -- the sections --------------------------------------------------------------------


def _latest_runs(runs: list[CheckRun]) -> list[CheckRun]:
    """The newest run of each suite (runs come newest first)."""
    seen: set[str] = set()
    out = []
    for run in runs:
        if run.suite not in seen:
            seen.add(run.suite)
            out.append(run)
    return out


def latest_results(runs: list[CheckRun], family: CheckFamily) -> list[tuple[CheckRun, CheckResult]]:
    """The results of ``family`` in the newest run of each suite (what the card reports)."""
    return [(run, r) for run in _latest_runs(runs) for r in run.results if r.family is family]


_results = latest_results


def _result_table(pairs: list[tuple[CheckRun, CheckResult]], caption: str) -> dict[str, Any]:
    return _table(
        ["check", "value", "threshold", "result", "note", "run"],
        [(r.name, r.value, _threshold(r), _status(r), _note(r), run.id) for run, r in pairs],
        caption,
    )


def _note(result: CheckResult) -> str:
    """The message, led by the confidence interval when the check has one (fairness)."""
    found = (result.details or {}).get("interval")
    if not isinstance(found, dict):
        return result.message[:160]
    lead = f"{found['level']:.0%} CI {found['low']:.3g} to {found['high']:.3g}"
    if found.get("straddles_threshold"):
        lead += ", straddles the threshold: uncertain"
    return f"{lead}. {result.message[:160]}"


def _plots(runs: list[CheckRun], prefix: str, plots: dict[str, str]) -> list[dict[str, Any]]:
    blocks = []
    for run in _latest_runs(runs):
        for ev in run.evidence:
            if ev.media_type == "image/svg+xml" and ev.name.startswith(prefix):
                plots[ev.name] = ev.sha256
                blocks.append(_plot(ev.name, ev.sha256, f"{ev.name} — run {run.id}"))
    return blocks


def _dataset_blocks(role: str, ds: DatasetVersion | None) -> list[dict[str, Any]]:
    if ds is None:
        return [_missing(f"No {role} dataset was recorded with this version.")]
    blocks = [
        _facts(
            (f"{role.capitalize()} data", ds.name),
            ("location", ds.uri),
            ("rows, columns", f"{ds.rows} rows, {ds.columns} columns"),
            ("fingerprint (sha256)", ds.fingerprint),
        )
    ]
    rows = []
    for column, prof in list(ds.profile.items())[:60]:
        summary = ""
        if "mean" in prof:
            summary = (
                f"mean {_text(prof.get('mean'))}, min {_text(prof.get('min'))}, "
                f"max {_text(prof.get('max'))}"
            )
        elif isinstance(prof.get("top"), dict):
            top = list(prof["top"].items())[:3]
            summary = "; ".join(f"{k}: {v}" for k, v in top)
        rows.append(
            (column, prof.get("type"), prof.get("null_fraction"), prof.get("distinct"), summary)
        )
    if rows:
        blocks.append(
            _table(
                ["column", "type", "missing share", "distinct", "summary"],
                rows,
                f"Profile of the {role} data (computed by the client when the version was logged)",
            )
        )
    return blocks


def _impact_blocks(ev: CardEvidence) -> list[dict[str, Any]]:
    """The approved AI impact assessment (ISO/IEC 42005; EU AI Act Art. 27), or why none."""
    found = ev.impact
    if found is None:
        return [_missing(ev.impact_problem or "The model has no approved AI impact assessment.")]
    return [
        _facts(
            ("AI impact assessment", f"revision {found.revision} (id {found.id})"),
            ("Form", f"{found.form} v{found.form_version}"),
            ("Submitted", f"{_text(found.submitted_at)} by {found.submitted_by}"),
            ("Approved", f"{_text(found.decided_at)} by {found.decided_by}: {found.comment}"),
            ("Currency", ev.impact_problem or "current"),
        ),
        _table(
            ["field", "answer"],
            sorted(found.answers.items()),
            "AI impact assessment answers (ISO/IEC 42005; EU AI Act Art. 27)",
        ),
    ]


def _in_effect(flag: bool) -> str:
    return "applies" if flag else "not yet"


# The frameworks whose items the card lists one by one: Taiwan's, and the EU AI Act.
CARD_FRAMEWORKS = ("tw-fsc", "tw-ba-ai", "tw-ai-basic-act", "eu-ai-act")


def _compliance_blocks(ev: CardEvidence) -> list[dict[str, Any]]:
    """Coverage as the coverage service computed it (never re-derived here): per framework,
    the obligations and their dates, and the Taiwan and EU items with their Chinese titles."""
    cov = ev.coverage
    if cov is None:
        return [_missing("Coverage was not computed for this card.")]
    index = control_index()
    blocks: list[dict[str, Any]] = [
        _facts(("Coverage computed", cov.computed_at), ("Risk tier", cov.risk_tier)),
        _table(
            ["framework", "controls", "current", "stale", "missing", "organisational", "% current"],
            [
                (
                    f.framework,
                    f.controls,
                    f.counts.get("current", 0),
                    f.counts.get("stale", 0),
                    f.counts.get("missing", 0),
                    f.counts.get("organisational", 0),
                    "—" if f.percent_current is None else f.percent_current,
                )
                for f in cov.frameworks
            ],
            "Coverage per framework",
        ),
        _table(
            ["framework", "ref", "obligation", "applies from", "now"],
            [
                (
                    o.framework,
                    o.ref,
                    o.what,
                    o.applies_from,
                    "applies" if o.in_effect else "not yet",
                )
                for o in cov.obligations
            ],
            "Obligations and the dates they apply from",
            word_columns=(4,),
        ),
    ]
    for framework in CARD_FRAMEWORKS:
        rows = [c for c in cov.controls if c.framework == framework]
        if not rows:
            continue
        blocks.append(
            _table(
                ["control", "title", "標題 (zh-TW)", "status", "why"],
                [
                    (
                        c.control,
                        c.title,
                        (found.title_zh if (found := index.get((framework, c.control))) else "")
                        or "—",
                        c.status.value,
                        c.reason,
                    )
                    for c in rows
                ],
                f"Coverage of {framework}",
                word_columns=(3,),
                caption_text="Coverage of %(framework)s",
                caption_args={"framework": framework},
            )
        )
    return blocks


def _diff_rows(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def build(ev: CardEvidence) -> ModelCard:
    """The card for ``ev.version``, every statement traceable to the evidence."""
    m, v = ev.model, ev.version
    plots: dict[str, str] = {}
    sections: list[CardSection] = []
    add = sections.append
    signed = ev.signatures[0] if ev.signatures else None

    add(
        CardSection(
            "overview",
            "Model details",
            "Annex IV 1(a), 1(c), 1(d)",
            [
                _facts(
                    ("Model", f"{m.name} — {m.title}" if m.title else m.name),
                    ("Version", v.version),
                    ("Stage", v.stage),
                    ("Description", v.description or m.description),
                    ("Business unit", m.business_unit),
                    ("Risk tier", m.risk_tier),
                    ("EU AI Act category", m.regulatory_category),
                    ("Aliases", v.aliases or None),
                    (
                        "Artifact",
                        f"{v.artifact.filename} ({v.artifact.flavor}, {v.artifact.size} bytes)",
                    ),
                    ("Artifact sha256", v.artifact.sha256),
                    (
                        "Code",
                        None
                        if v.code is None
                        else " ".join(
                            x for x in (v.code.repo_url, v.code.commit, v.code.path) if x
                        ),
                    ),
                    (
                        "Previous version",
                        v.parent_version or (ev.previous.version if ev.previous else None),
                    ),
                    ("Logged", f"{_text(v.created_at)} by {v.created_by}"),
                    (
                        "Signed",
                        None
                        if signed is None
                        else f"{_text(signed.signed_at)} by {signed.signed_by}, "
                        f"key {signed.key_id[:16]}…",
                    ),
                    ("Tags", ", ".join(f"{k}={val}" for k, val in sorted(v.tags.items())) or None),
                )
            ],
        )
    )
    add(
        CardSection(
            "intended_use",
            "Intended use",
            "Annex IV 1(a); Art. 13(3)(b)",
            [
                _facts(("Purpose (inventory record)", m.purpose)),
                _narrative("intended_use", ev.narratives.get("intended_use")),
                _narrative("out_of_scope", ev.narratives.get("out_of_scope")),
            ],
        )
    )
    approvers = sorted(
        {a.approver for r in ev.requests for a in r.approvals if a.decision.value == "approve"}
    )
    add(
        CardSection(
            "people",
            "Owner and accountable people",
            "Annex IV 1(a); Art. 17(1)(m)",
            [
                _facts(
                    ("Owner", m.owner),
                    ("Team", m.team),
                    ("Approved by", approvers or None),
                    ("Risk assessed by", ev.assessment.assessed_by if ev.assessment else None),
                ),
                _narrative("accountable_people", ev.narratives.get("accountable_people")),
            ],
        )
    )
    add(
        CardSection(
            "data",
            "Data: provenance, fingerprints and profile",
            "Annex IV 2(d); Art. 10",
            [
                *_dataset_blocks("training", v.training_data),
                *_dataset_blocks("evaluation", v.evaluation_data),
                _narrative("data_notes", ev.narratives.get("data_notes")),
            ],
        )
    )
    method_blocks: list[dict[str, Any]] = [
        _table(
            ["parameter", "value"],
            sorted((k, val) for k, val in v.params.items()),
            "Parameters logged with the version",
        )
        if v.params
        else _missing("No parameters were logged with this version."),
    ]
    if v.signature is not None and v.signature.inputs:
        method_blocks.append(
            _table(
                ["input", "type"],
                [(c.name, c.type) for c in v.signature.inputs],
                "Input signature (Annex IV 3: input data specification)",
            )
        )
    method_blocks.append(_narrative("method", ev.narratives.get("method")))
    add(CardSection("method", "Method", "Annex IV 2(a), 2(b)", method_blocks))

    perf: list[dict[str, Any]] = []
    if v.metrics:
        perf.append(
            _table(
                ["metric", "value"],
                sorted(v.metrics.items()),
                "Metrics logged by the developer with the version",
            )
        )
    if ev.runs:
        perf.append(
            _table(
                ["run", "suite", "source", "passed", "finished", "by", "data fingerprint"],
                [
                    (
                        r.id,
                        f"{r.suite} v{r.suite_version}",
                        r.source,
                        r.passed,
                        r.finished_at,
                        r.created_by,
                        (r.data_fingerprint or "")[:16],
                    )
                    for r in ev.runs
                ],
                "Validation runs of this version (newest first)",
            )
        )
        pairs = _results(ev.runs, CheckFamily.PERFORMANCE) + _results(
            ev.runs, CheckFamily.DATA_QUALITY
        )
        perf.append(_result_table(pairs, "Performance and data-quality checks (latest run)"))
        perf += _plots(ev.runs, "performance", plots) + _plots(ev.runs, "data-quality", plots)
    else:
        perf.append(
            _missing(
                "No validation run is recorded for this version: "
                "`steward check run` or `client.validate(...)` produces one."
            )
        )
    add(CardSection("performance", "Metrics and validation results", "Annex IV 2(g), 4", perf))

    fair: list[dict[str, Any]] = []
    fair_pairs = _results(ev.runs, CheckFamily.FAIRNESS)
    for run, result in fair_pairs:
        table = result.details.get("table") if result.name.endswith("group_table") else None
        if isinstance(table, list) and table:
            fair.append(
                _table(
                    [
                        "group",
                        "rows",
                        "selection rate",
                        "TPR",
                        "FPR",
                        "accuracy",
                        "impact ratio",
                        "small",
                    ],
                    [
                        (
                            g.get("group"),
                            g.get("rows"),
                            g.get("selection_rate"),
                            g.get("true_positive_rate"),
                            g.get("false_positive_rate"),
                            g.get("accuracy"),
                            g.get("impact_ratio"),
                            g.get("small"),
                        )
                        for g in table
                        if isinstance(g, dict)
                    ],
                    f"Outcomes by group ({', '.join(result.details.get('features') or [])}), "
                    f"run {run.id}",
                )
            )
            for note in result.details.get("notes") or []:
                fair.append(_para(str(note)))
    if fair_pairs:
        fair.append(_result_table(fair_pairs, "Fairness checks (latest run)"))
        fair += _plots(ev.runs, "fairness", plots)
    else:
        fair.append(_missing("No fairness check is recorded for this version."))
    add(CardSection("fairness", "Fairness by group", "Annex IV 2(g), 3; Art. 10(2)(f)", fair))

    rob_pairs = _results(ev.runs, CheckFamily.ROBUSTNESS)
    add(
        CardSection(
            "robustness",
            "Robustness",
            "Annex IV 2(g); Art. 15",
            [
                _result_table(rob_pairs, "Robustness checks (latest run)"),
                *_plots(ev.runs, "robustness", plots),
            ]
            if rob_pairs
            else [_missing("No robustness check is recorded for this version.")],
        )
    )
    exp_pairs = _results(ev.runs, CheckFamily.EXPLAINABILITY)
    exp: list[dict[str, Any]] = []
    for run, result in exp_pairs:
        feats = result.details.get("features")
        if result.name.endswith("permutation_importance") and isinstance(feats, list):
            exp.append(
                _table(
                    ["feature", "importance (mean)", "std", "95% CI"],
                    [
                        (
                            f.get("feature"),
                            f.get("mean"),
                            f.get("std"),
                            f"{_text(f.get('ci_low'))} … {_text(f.get('ci_high'))}",
                        )
                        for f in feats[:15]
                        if isinstance(f, dict)
                    ],
                    f"Permutation importance, run {run.id}",
                )
            )
    if exp_pairs:
        exp.append(_result_table(exp_pairs, "Explainability checks (latest run)"))
        exp += _plots(ev.runs, "explainability", plots)
    else:
        exp.append(_missing("No explainability check is recorded for this version."))
    add(CardSection("explainability", "Explainability", "Annex IV 2(e); Art. 13(3)(d)", exp))

    risk: list[dict[str, Any]] = []
    a = ev.assessment
    if a is None:
        risk.append(_missing(ev.assessment_problem or "The model has no risk assessment."))
    else:
        risk.append(
            _facts(
                ("Tier", a.tier),
                ("EU AI Act category", a.category),
                ("Score", a.score),
                ("Questionnaire", f"{a.questionnaire} v{a.questionnaire_version}"),
                ("Assessed", f"{_text(a.assessed_at)} by {a.assessed_by} (id {a.id})"),
                ("Currency", ev.assessment_problem or "current"),
            )
        )
        risk.append(
            _table(
                ["outcome", "value", "reason", "reference"],
                [(r.outcome, r.value, r.text, r.ref) for r in a.reasons],
                "Why the assessment came out as it did",
            )
        )
    risk += _impact_blocks(ev)
    add(CardSection("risk", "Risk assessment", "Annex IV 5; Art. 9; Art. 27", risk))
    add(
        CardSection(
            "compliance",
            "Compliance coverage",
            "EU AI Act; Taiwan FSC AI guideline; Bankers Association AI rules; AI Basic Act",
            _compliance_blocks(ev),
        )
    )

    mine = [f for f in ev.findings if f.version in (None, v.version)]
    failed = [(run, r) for run in _latest_runs(ev.runs) for r in run.results if r.passed is False]
    lim: list[dict[str, Any]] = [
        _narrative("limitations", ev.narratives.get("limitations")),
        _narrative("residual_risks", ev.narratives.get("residual_risks")),
    ]
    if failed:
        lim.append(_result_table(failed, "Checks this version fails (latest run)"))
    lim.append(
        _table(
            ["id", "severity", "status", "title", "version", "resolution / owner"],
            [
                (f.id, f.severity, f.status, f.title, f.version or "model", f.resolution or f.owner)
                for f in mine
            ],
            "Findings of this version and of the model",
        )
        if mine
        else _para("No findings are recorded for this version or the model.")
    )
    if ev.waivers:
        lim.append(
            _table(
                ["id", "requirement", "reason", "granted by", "expires", "revoked"],
                [
                    (w.id, w.requirement, w.reason, w.granted_by, w.expires_at, w.revoked_at)
                    for w in ev.waivers
                ],
                "Waivers granted for this version",
            )
        )
    add(CardSection("limitations", "Limitations and residual risks", "Annex IV 3, 5", lim))

    oversight = [_narrative("human_oversight", ev.narratives.get("human_oversight"))]
    if a is not None and "autonomy" in a.answers:
        oversight.insert(0, _facts(("Autonomy (risk questionnaire)", a.answers["autonomy"])))
    add(CardSection("oversight", "Human oversight", "Annex IV 2(e), 3; Art. 14", oversight))

    mon: list[dict[str, Any]] = [
        _narrative("monitoring_plan", ev.narratives.get("monitoring_plan"))
    ]
    if ev.monitoring:
        status = ev.monitoring
        mon.append(_facts(*[(str(k), val) for k, val in status.get("facts", {}).items()]))
        for table in status.get("tables", []):
            mon.append(_table(table["columns"], table["rows"], table.get("caption", "")))
    else:
        mon.append(
            _missing(
                "No production monitor is configured for this version, so there "
                "is no monitoring status to report."
            )
        )
    add(CardSection("monitoring", "Monitoring plan and status", "Annex IV 9; Art. 72", mon))

    life: list[dict[str, Any]] = [
        _table(
            ["when", "from", "to", "by", "justification", "audit seq"],
            [
                (t.at, t.from_stage, t.to_stage, t.actor, t.justification, t.audit_seq)
                for t in ev.transitions
            ],
            "Stage transitions",
        )
        if ev.transitions
        else _para("The version has not moved since it was logged."),
    ]
    for req in ev.requests:
        rows = [
            (
                ap.approver,
                ap.decision,
                ap.at,
                ", ".join(ap.roles),
                ", ".join(ap.teams),
                ap.policy,
                ap.comment,
            )
            for ap in req.approvals
        ]
        life.append(
            _table(
                ["approver", "decision", "when", "roles", "teams", "policy", "comment"],
                rows,
                f"Request {req.id}: {req.from_stage} → {req.to_stage} by {req.requested_by} "
                f"({req.status}) — {req.justification}",
            )
        )
    if ev.signatures:
        life.append(
            _table(
                ["signed", "by", "key", "manifest sha256", "audit seq"],
                [
                    (s.signed_at, s.signed_by, s.key_id[:16], s.manifest_sha256, s.audit_seq)
                    for s in ev.signatures
                ],
                "Signatures (OpenSSF model_signing bundle + signed Steward manifest)",
            )
        )
    if ev.reviews:
        life.append(
            _table(
                ["completed", "reviewer", "outcome", "next review", "notes"],
                [
                    (r.completed_at, r.reviewer, r.outcome, r.next_review_date, r.notes)
                    for r in ev.reviews
                ],
                "Periodic reviews of the model",
            )
        )
    life.append(_facts(("Policy in force", ev.policy or "no active policy pack")))
    add(
        CardSection(
            "lifecycle", "Lifecycle and approval history", "Annex IV 2(g), 6; Art. 17", life
        )
    )

    add(
        CardSection(
            "changes", "Changes from the previous version", "Annex IV 1(a), 6", _changes(ev)
        )
    )

    evidence = {
        "runs": [r.id for r in ev.runs],
        "assessment": a.id if a else None,
        "requests": [r.id for r in ev.requests],
        "findings": [f.id for f in mine],
        "narratives": {k: n.audit_seq for k, n in sorted(ev.narratives.items())},
        "artifact_sha256": v.artifact.sha256,
        "training_fingerprint": v.training_data.fingerprint if v.training_data else None,
        "evaluation_fingerprint": v.evaluation_data.fingerprint if v.evaluation_data else None,
        "journal_head": None
        if ev.journal_head is None
        else {"seq": ev.journal_head[0], "hash": ev.journal_head[1]},
        "policy": ev.policy,
    }
    head = (
        ""
        if ev.journal_head is None
        else f" The audit journal stood at event {ev.journal_head[0]} ({ev.journal_head[1][:16]}…)."
    )
    add(
        CardSection(
            "provenance",
            "About this document",
            "Art. 11, 18",
            [
                _para(
                    f"Generated by Steward on {_text(ev.generated_at)} for {ev.generated_by} "
                    "from the records listed in this document; only the narrative fields are "
                    f"written by people, each revision journalled.{head}"
                )
            ],
        )
    )
    return ModelCard(
        format=CARD_FORMAT,
        model=m.name,
        version=v.version,
        title=m.title or m.name,
        generated_at=ev.generated_at,
        generated_by=ev.generated_by,
        sections=sections,
        evidence=evidence,
        plots=plots,
    )


def _changes(ev: CardEvidence) -> list[dict[str, Any]]:
    prev, v = ev.previous, ev.version
    if prev is None:
        return [_para("This is the first version of the model.")]
    blocks: list[dict[str, Any]] = [
        _facts(
            ("Compared with", f"version {prev.version} ({prev.stage})"),
            (
                "Artifact",
                "unchanged"
                if prev.artifact.sha256 == v.artifact.sha256
                else f"{prev.artifact.sha256[:16]}… → {v.artifact.sha256[:16]}…",
            ),
            ("Training data", _ds_change(prev.training_data, v.training_data)),
            ("Evaluation data", _ds_change(prev.evaluation_data, v.evaluation_data)),
        )
    ]
    params = _diff_rows(prev.params, v.params)
    if params:
        blocks.append(
            _table(
                ["parameter", f"v{prev.version}", f"v{v.version}"],
                params,
                "Parameters that changed",
            )
        )
    metrics = _diff_rows(dict(prev.metrics), dict(v.metrics))
    if metrics:
        blocks.append(
            _table(["metric", f"v{prev.version}", f"v{v.version}"], metrics, "Logged metrics")
        )
    before = {r.name: r.value for _run, r in _all_latest(ev.previous_runs)}
    after = {r.name: r.value for _run, r in _all_latest(ev.runs)}
    checks = [
        (name, before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
        and isinstance(before.get(name) or after.get(name), float | int)
    ]
    if checks:
        blocks.append(
            _table(
                ["check", f"v{prev.version}", f"v{v.version}"],
                checks[:60],
                "Validation results that changed (latest run of each suite)",
            )
        )
    texts = [
        (FIELDS_BY_KEY[key].title, "written" if key not in ev.previous_narratives else "rewritten")
        for key, n in sorted(ev.narratives.items())
        if not n.carried_over
        and (key not in ev.previous_narratives or ev.previous_narratives[key].text != n.text)
    ]
    if texts:
        blocks.append(
            _table(
                ["narrative field", "change"], texts, "Narrative fields written for this version"
            )
        )
    return blocks


def _all_latest(runs: list[CheckRun]) -> list[tuple[CheckRun, CheckResult]]:
    return [(run, r) for run in _latest_runs(runs) for r in run.results]


def _ds_change(before: DatasetVersion | None, after: DatasetVersion | None) -> str:
    if before is None and after is None:
        return "none recorded"
    if before is None or after is None:
        return (
            f"{'none' if before is None else before.name} → "
            f"{'none' if after is None else after.name}"
        )
    if before.fingerprint == after.fingerprint:
        return f"unchanged ({after.name}, {after.fingerprint[:16]}…)"
    return (
        f"{before.name} ({before.rows} rows, {before.fingerprint[:12]}…) → {after.name} "
        f"({after.rows} rows, {after.fingerprint[:12]}…)"
    )


# -- rendering --------------------------------------------------------------------------


_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


@cache
def _environment(markdown: bool = False) -> Any:
    """Jinja for the cards. HTML autoescapes; Markdown escapes HTML in every value it prints
    (``finalize``), because Markdown renderers pass raw HTML through: an owner's narrative
    with ``<script>`` must reach a reader as text, not as markup."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("steward.compliance", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=_md_escape if markdown else None,
    )
    env.filters["cell"] = _md_cell
    env.filters["cell_class"] = _cell_class
    env.filters["unbroken"] = _unbroken
    return env


# A token longer than this (a sha256, a URI) may break anywhere in a table cell; shorter
# ones (numbers, dates, ids like "run_c1c4…", names like "steward") never break, so the
# table layout gives their columns the width of their longest token.
_LONG_TOKEN = 24
_NUMBER = re.compile(r"^[-+]?(\d[\d,]*)?(\.\d+)?([eE][-+]?\d+)?%?$")


_JOINED = re.compile(r"[-/._:]")


def _unbroken(value: Any) -> Any:
    """HTML of a cell value whose short joined tokens ("risk-office", "0.71/13",
    "account/bonds") cannot break at their hyphen or slash: each is wrapped in a
    ``<span class="nb">`` (white-space: nowrap). Everything is escaped first."""
    import markupsafe

    text = str(value)
    out = []
    for part in re.split(r"(\s+)", text):
        escaped = markupsafe.escape(part)
        if part and not part.isspace() and len(part) <= _LONG_TOKEN and _JOINED.search(part):
            out.append(
                markupsafe.Markup('<span class="nb">') + escaped + markupsafe.Markup("</span>")
            )
        else:
            out.append(escaped)
    return markupsafe.Markup("").join(out)


def _cell_class(value: Any) -> str:
    """The CSS class of a card table cell: ``num`` (a number, right-aligned, never broken),
    ``long`` (holds a token that may break anywhere) or ``""`` (breaks between words)."""
    text = str(value).strip()
    if text and _NUMBER.match(text):
        return "num"
    if any(len(token) > _LONG_TOKEN for token in text.split()):
        return "long"
    return ""


def _md_escape(value: Any) -> Any:
    """A value as Markdown text with no raw HTML: every ``<`` that could open a tag, a
    closing tag, a comment, a declaration or an autolink (CommonMark: ``<`` followed by a
    letter, ``/``, ``!`` or ``?``) becomes ``&lt;``, which renderers show as ``<``. Other
    ``<`` (thresholds such as ``<= 0.10``) stay readable."""
    if value is None:
        return value
    return _HTML_START.sub("&lt;", str(value))


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    card: Any, plot_dir: str = "plots", template_name: str = "model-card.md.j2"
) -> str:
    """Markdown; plots are linked as ``plot_dir/<name>`` (the evidence pack ships them).

    ``card`` is a :class:`ModelCard` or any card with its ``title``, ``generated_at``,
    ``generated_by``, ``format`` and ``sections`` (the dataset card); ``template_name``
    extends the model card's template and overrides its header."""
    template = _environment(markdown=True).get_template(template_name)
    return str(template.render(card=card, plot_dir=plot_dir, when=_text(card.generated_at)))


def render_html(
    card: Any,
    svgs: dict[str, str],
    translate: Callable[[str], str] | None = None,
    lang: str = "en",
    template_name: str = "model-card.html.j2",
) -> str:
    """Self-contained HTML: the plots are inlined SVG (``svgs``: name -> SVG text).

    ``translate`` (a gettext) renders the card's headings, labels and fixed sentences in
    another language; the evidence itself (values, reasons, narratives) stays as recorded.
    """
    import markupsafe

    template = _environment().get_template(template_name)
    inline = {name: markupsafe.Markup(_strip_xml_header(svg)) for name, svg in svgs.items()}
    return str(
        template.render(
            card=card,
            svgs=inline,
            when=_text(card.generated_at),
            t=translate or (lambda text: text),
            lang=lang,
        )
    )


def _strip_xml_header(svg: str) -> str:
    text = svg.lstrip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :].lstrip()
    return text


def render_pdf(html: str, instead: str) -> bytes:
    """PDF of the HTML card through WeasyPrint (A4, page numbers, section headings).

    ``instead`` is what the caller can do without PDF output: it differs by command.
    """
    import logging

    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: the Pango system library is missing
        raise InvalidInput(
            f"PDF output needs WeasyPrint and Pango ({exc}). Install them with "
            "`pip install 'steward[pdf]'` and `apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0`, or {instead}.",
            field="format",
        ) from None

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def filename(card: ModelCard, fmt: str) -> str:
    return f"{card.model}-v{card.version}-model-card.{fmt}"


def check_format(fmt: str) -> str:
    value = (fmt or "").strip().lower()
    if value == "markdown":
        value = "md"
    if value not in FORMATS:
        raise InvalidInput(
            f"Unknown model card format {fmt!r}; use one of {', '.join(FORMATS)}.",
            field="format",
        )
    return value
