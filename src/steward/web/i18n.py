"""Translations (Babel gettext catalogs shipped in ``steward/web/locale``), the choice
of locale (a ``steward_lang`` cookie set by the page's switch, else the browser's
Accept-Language) and locale-aware formatting of dates and numbers.

Labels for stored values (stages, tiers, statuses...) are marked with :func:`N_` so
``pybabel extract`` finds them; templates translate them through :func:`label`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations

from steward.domain import remedies

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# (code used in cookies and <html lang>, Babel locale id, name shown in the switch)
LOCALES = {"en": ("en", "English"), "zh-TW": ("zh_TW", "繁體中文")}
DEFAULT = "en"
COOKIE = "steward_lang"


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


LABELS: dict[str, str] = {
    # stages
    "development": N_("development"),
    "validation": N_("validation"),
    "approved": N_("approved"),
    "production": N_("production"),
    "under_review": N_("under review"),
    "deprecated": N_("deprecated"),
    "retired": N_("retired"),
    "rejected": N_("rejected"),
    # tiers and categories
    "high": N_("high"),
    "medium": N_("medium"),
    "low": N_("low"),
    "minimal": N_("minimal"),
    "unassessed": N_("unassessed"),
    "prohibited": N_("prohibited"),
    "limited": N_("limited"),
    # what a positive prediction means (fairness direction)
    "favourable": N_("favourable"),
    "adverse": N_("adverse"),
    "unstated": N_("not stated"),
    # gate requirement status
    "met": N_("met"),
    "unmet": N_("unmet"),
    "waived": N_("waived"),
    # request and finding status
    "open": N_("open"),
    "applied": N_("applied"),
    "withdrawn": N_("withdrawn"),
    "in_remediation": N_("in remediation"),
    "resolved": N_("resolved"),
    "accepted": N_("accepted"),
    "critical": N_("critical"),
    "approve": N_("approve"),
    "reject": N_("reject"),
    "active": N_("active"),
    "passed": N_("passed"),
    "failed": N_("failed"),
    # impact assessment revisions
    "submitted": N_("submitted"),
    "superseded": N_("superseded"),
    # monitoring state of a model in the inventory
    "monitored": N_("monitored"),
    "unmonitored": N_("not monitored"),
    "alerting": N_("alerting"),
    "not_in_production": N_("not in production"),
    # a monitored column's kind
    "numeric": N_("numeric"),
    "categorical": N_("categorical"),
    # datasets: classification, status, quality verdict
    "public": N_("public"),
    "internal": N_("internal"),
    "confidential": N_("confidential"),
    "restricted": N_("restricted"),
    "proposed": N_("proposed"),
    "unchecked": N_("unchecked"),
    # background jobs: status and kind
    "queued": N_("queued"),
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "cancelled": N_("cancelled"),
    "monitor_run": N_("monitor run"),
    "evidence_pack": N_("evidence pack"),
    "model_card_pdf": N_("model card PDF"),
    # roles
    "admin": N_("administrator"),
    "owner": N_("model owner"),
    "validator": N_("validator"),
    "risk_officer": N_("risk officer"),
    "approver": N_("approver"),
    "auditor": N_("auditor"),
    "data_steward": N_("data steward"),
}


@cache
def translations(code: str) -> NullTranslations:
    babel_id = LOCALES[code][0]
    return Translations.load(str(LOCALE_DIR), [babel_id], DOMAIN)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The UI locale: the switch's cookie wins, then the browser's preference, then English."""
    if cookie in LOCALES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if not tag:
            continue
        if tag in ("zh-tw", "zh-hant", "zh-hant-tw", "zh-hk", "zh-mo") or tag.startswith("zh-hant"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
        if tag == "zh":
            return "zh-TW"  # the only Chinese catalog shipped is Traditional Chinese
    return DEFAULT


class Formatter:
    """Dates and numbers per locale (Babel/CLDR); times in the organisation's zone, named."""

    def __init__(self, code: str, zone: tzinfo = UTC) -> None:
        self.code = code
        self.locale = Locale.parse(LOCALES[code][0])
        self.zone = zone

    def datetime(self, value: datetime | None) -> str:
        """The moment in the organisation's zone with the zone's offset, e.g.
        "Dec 7, 2026, 12:53:00 PM GMT+08:00": a reader in another office converts it."""
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # the store keeps UTC
        local = value.astimezone(self.zone)
        shown = dates.format_datetime(local, format="medium", locale=self.locale, tzinfo=self.zone)
        zone = (
            "UTC"
            if local.utcoffset() == timedelta(0)
            else dates.get_timezone_gmt(local, width="long", locale=self.locale)
        )
        return f"{shown} {zone}"

    def date(self, value: date | None) -> str:
        if value is None:
            return "—"
        return dates.format_date(value, format="medium", locale=self.locale)

    def number(self, value: float | int | None, digits: int = 3) -> str:
        if value is None:
            return "—"
        if isinstance(value, int):
            return numbers.format_decimal(value, locale=self.locale)
        return numbers.format_decimal(value, format="#,##0." + "#" * digits, locale=self.locale)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "—"
        return numbers.format_percent(value, format="#,##0.0%", locale=self.locale)


# -- messages produced by the services ------------------------------------------------------
#
# Services word their messages in English (the API, CLI and journal carry them verbatim).
# Pages in another language translate what is structured about them — an error's ``code``
# and its parameters, a gate requirement's ``kind`` and outcome state with the facts the
# page already holds — and keep the English detail beside the translation. Free text
# (policy-pack descriptions, comments, reasons people typed) stays as written.

ERROR_SUMMARIES: dict[str, str] = {
    "steward-error": N_("The request could not be carried out."),
    "invalid-input": N_("Some input was not accepted; correct it and try again."),
    "not-found": N_("What you asked for does not exist."),
    "already-exists": N_("It already exists."),
    "illegal-transition": N_("This lifecycle move is not allowed."),
    "conflict": N_("This conflicts with the current state; nothing was changed."),
    "artifact-error": N_("There is a problem with the model artifact."),
    "artifact-too-large": N_("The model artifact is too large."),
    "integrity-error": N_("Stored bytes no longer match their recorded hash."),
    "unauthenticated": N_("Sign in again: the session or token is not valid."),
    "forbidden": N_("You are not allowed to do this."),
    "schema-out-of-date": N_("The database schema is out of date; an operator upgrades it."),
    "missing-extra": N_(
        "This server was installed without the part this needs; an operator adds it."
    ),
}
# (code, parameter) pairs that say more than the code alone, e.g. a segregation-of-duties
# refusal is a ``forbidden`` error naming the request.
ERROR_SPECIFIC: dict[tuple[str, str], str] = {
    ("forbidden", "request"): N_(
        "You may not decide request %(value)s: segregation of duties or the policy's roles "
        "exclude you. Ask an independent reviewer."
    ),
    ("forbidden", "permission"): N_("This needs the permission %(value)s, which your roles lack."),
    ("conflict", "request"): N_("Request %(value)s cannot be decided or changed now."),
    ("already-exists", "user"): N_("A user named %(value)s already exists."),
    ("already-exists", "team"): N_("A team named %(value)s already exists."),
    ("not-found", "user"): N_("There is no user named %(value)s."),
    ("not-found", "team"): N_("There is no team named %(value)s."),
    ("not-found", "webhook"): N_("There is no webhook %(value)s."),
    ("not-found", "request"): N_("There is no transition request %(value)s."),
    ("conflict", "user"): N_("This change is not possible for user %(value)s now."),
    ("already-exists", "connection"): N_("A data connection named %(value)s already exists."),
    ("not-found", "connection"): N_("There is no data connection named %(value)s."),
}
FIELD_LABELS: dict[str, str] = {
    "name": N_("name"),
    "user": N_("user"),
    "display_name": N_("display name"),
    "email": N_("e-mail"),
    "password": N_("password"),
    "role": N_("role"),
    "team": N_("team"),
    "title": N_("title"),
    "url": N_("URL"),
    "events": N_("events"),
    "description": N_("description"),
    "comment": N_("comment"),
    "expires_in_days": N_("expiry"),
    "status": N_("status"),
    "due_date": N_("due date"),
    "text": N_("policy pack text"),
    "file": N_("file"),
    "to": N_("target stage"),
    "kind": N_("kind"),
    "location": N_("location"),
    "options": N_("options"),
    "credentials": N_("credentials"),
    "roles": N_("roles"),
    "line": N_("line of defence"),
    "note": N_("note"),
    "owner": N_("owner"),
    "expires": N_("expiry date"),
    "checklist": N_("review checklist"),
    "notes": N_("notes"),
    "reason": N_("reason"),
    "requirement": N_("requirement"),
    "artifact": N_("artifact file"),
    "flavor": N_("flavor"),
    "metrics": N_("metrics"),
    "tags": N_("tags"),
    "training_data": N_("training data"),
    "evaluation_data": N_("evaluation data"),
    "method": N_("drift method"),
    "methods": N_("drift method of a column"),
    "data": N_("data"),
}


def explain_error(gettext: Callable[[str], str], code: str, extra: dict[str, Any]) -> list[str]:
    """Translated sentences for a service error: its code's summary, then what its
    parameters say (the field at fault, the permission, the request...)."""
    lines = [gettext(ERROR_SUMMARIES.get(code, ERROR_SUMMARIES["steward-error"]))]
    for key, value in extra.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            continue
        if (code, key) in ERROR_SPECIFIC:
            lines.append(gettext(ERROR_SPECIFIC[(code, key)]) % {"value": value})
        elif key == "field":
            shown = gettext(FIELD_LABELS[value]) if value in FIELD_LABELS else str(value)
            lines.append(gettext("The problem is in the field: %(field)s.") % {"field": shown})
    return lines


REQUIREMENT_TITLES: dict[str, str] = {
    "lifecycle": N_("Lifecycle"),
    "risk_assessed": N_("Risk assessment"),
    "not_prohibited": N_("Not a prohibited practice (EU AI Act Art. 5)"),
    "documentation": N_("Documentation"),
    "checks_passed": N_("Validation checks"),
    "approvals": N_("Approvals"),
    "no_open_findings": N_("No open findings"),
    "review_current": N_("Periodic review"),
    "monitor_configured": N_("Monitoring"),
    "data_registered": N_("Registered data"),
    "data_quality_passed": N_("Data quality"),
    "data_approved": N_("Data approval"),
    "personal_data_reviewed": N_("Personal data reviewed"),
    "impact_assessed": N_("AI impact assessment"),
}
# The data requirements (docs/datasets.md): (met, unmet) explanations.
DATA_REASONS: dict[str, tuple[str, str]] = {
    "data_registered": (
        N_("The version's data are registered dataset versions: %(ids)s."),
        N_("The version's training or evaluation data is not a registered dataset version."),
    ),
    "data_quality_passed": (
        N_("The version's data passed its quality rules: %(ids)s."),
        N_("The version's data has no registered version whose quality rules passed."),
    ),
    "data_approved": (
        N_("A data steward approved the version's data: %(ids)s."),
        N_("No data steward has approved a registered version of the version's data."),
    ),
    "personal_data_reviewed": (
        N_("The personal data of the version's training data was reviewed: %(ids)s."),
        N_(
            "The version's training data has unreviewed personal-data columns, was never "
            "scanned, is unregistered, or is restricted without a recorded legal basis."
        ),
    ),
}
DOCUMENTATION_FIELDS: dict[str, str] = {
    "title": N_("title"),
    "description": N_("description"),
    "purpose": N_("purpose"),
    "business_unit": N_("business unit"),
    "owner": N_("owner"),
    "team": N_("team"),
}


class OutcomeText:
    """A gate outcome in the page's language: the kind's title and a summary built from the
    outcome's state, its evidence and the model record, never from the English wording."""

    def __init__(self, gettext: Callable[[str], str], fmt: Formatter) -> None:
        self._ = gettext
        self.fmt = fmt

    def title(self, kind: str) -> str | None:
        return self._(REQUIREMENT_TITLES[kind]) if kind in REQUIREMENT_TITLES else None

    def summary(self, outcome: Any, gate: Any, model: Any) -> str | None:
        """None when the kind is not known here (e.g. a requirement a plug-in added)."""
        _ = self._
        kind = outcome.kind
        if kind == "lifecycle" and outcome.requirement != "lifecycle.state_machine":
            return None
        evidence = [e for e in outcome.evidence if e != outcome.waiver]
        met = outcome.met and outcome.waiver is None
        text = self._kind(kind, met, evidence, gate, model)
        if text is None:
            return None
        if outcome.waiver is not None:
            return _("Waived by %(waiver)s while it is valid; unmet: %(reason)s") % {
                "waiver": outcome.waiver,
                "reason": text,
            }
        return text

    def _label(self, value: object) -> str:
        key = str(getattr(value, "value", value))
        return self._(LABELS[key]) if key in LABELS else key

    def _kind(self, kind: str, met: bool, evidence: list[str], gate: Any, model: Any) -> str | None:
        _ = self._
        if kind == "lifecycle":
            if met:
                return _("The lifecycle allows %(from)s → %(to)s.") % {
                    "from": self._label(gate.from_stage),
                    "to": self._label(gate.to_stage),
                }
            return _("The lifecycle does not allow %(from)s → %(to)s.") % {
                "from": self._label(gate.from_stage),
                "to": self._label(gate.to_stage),
            }
        if kind == "risk_assessed":
            if met:
                return _(
                    "The risk assessment is current: tier %(tier)s, EU AI Act category "
                    "%(category)s."
                ) % {
                    "tier": self._label(model.risk_tier),
                    "category": self._label(model.regulatory_category),
                }
            return _(
                "There is no current risk assessment (missing, or stale after a change); the "
                "owner answers the risk questionnaire again."
            )
        if kind == "not_prohibited":
            if met:
                return _("The EU AI Act category is %(category)s, not prohibited.") % {
                    "category": self._label(model.regulatory_category)
                }
            return _(
                "Assessed as a practice prohibited by Art. 5 of the EU AI Act: it may not be "
                "validated, approved or deployed."
            )
        if kind == "documentation":
            if met:
                return _("The model record fields this policy requires are filled in.")
            empty = [
                _(shown)
                for name, shown in DOCUMENTATION_FIELDS.items()
                if not str(getattr(model, name, "") or "").strip()
            ]
            return _(
                "Fields the policy requires are empty; empty in the model record now: %(fields)s."
            ) % {"fields": ", ".join(empty) or "—"}
        if kind == "checks_passed":
            if met:
                return _("The required checks passed on this artifact (runs: %(n)s).") % {
                    "n": len(evidence)
                }
            return _(
                "The required checks have not all passed on this artifact and its evaluation "
                "data within the window; run the validation suite again."
            )
        if kind == "approvals":
            if met:
                return _("Enough eligible, independent approvals: %(n)s counted.") % {
                    "n": len(evidence)
                }
            return _(
                "Approvals are missing: %(n)s eligible approval(s) counted so far (roles, "
                "independence and teams as the policy requires)."
            ) % {"n": len(evidence)}
        if kind == "no_open_findings":
            if met:
                return _("No open finding at or above the policy's severity.")
            return _(
                "%(n)s open finding(s) block this move: %(ids)s. Resolve them or have a risk "
                "officer accept them."
            ) % {"n": len(evidence), "ids": ", ".join(evidence)}
        if kind == "review_current":
            due = getattr(model, "next_review_date", None)
            if met:
                if due is None:
                    return _("The periodic review is not overdue (no review date set yet).")
                return _("The periodic review is not overdue (next due %(date)s).") % {
                    "date": self.fmt.date(due)
                }
            return _("The periodic review was due on %(date)s; a validator completes it.") % {
                "date": self.fmt.date(due)
            }
        if kind == "monitor_configured":
            if met:
                return _("Monitored: %(ids)s.") % {"ids": ", ".join(evidence)}
            return _(
                "Version %(version)s has no active monitor; configure one before it goes live."
            ) % {"version": gate.version}
        if kind in DATA_REASONS:
            met_text, unmet_text = DATA_REASONS[kind]
            if met:
                return _(met_text) % {"ids": ", ".join(evidence)}
            return _(unmet_text)
        return None


def install_helpers(env: Any, code: str) -> None:
    """Give one locale's Jinja environment the service-message helpers."""
    gettext = translations(code).gettext
    fmt = Formatter(code)
    env.globals["translated"] = code != DEFAULT
    env.filters["browser"] = remedies.for_browser
    env.globals["outcome_text"] = OutcomeText(gettext, fmt)
    env.globals["explain_error"] = lambda error: explain_error(gettext, error.code, error.extra)
    env.globals["control_title"] = lambda framework, control, title: control_title(
        code, framework, control, title
    )
    from steward.web.finding_text import finding_text  # it builds on this module

    env.globals["finding_text"] = finding_text(gettext, fmt, code)
    from steward.domain import risk
    from steward.web.risk_text import RiskText  # it builds on this module

    env.globals["risk_reason"] = RiskText(gettext, code, risk.shipped()).reason


def control_title(code: str, framework: str, control: str, title: str) -> str:
    """A control's title in the page's language where its catalog has one, else ``title``."""
    from steward.compliance.catalogs import control_index

    found = control_index().get((framework, control))
    return found.title_in(code) if found is not None else title
