"""Translations (Babel gettext catalogs shipped in ``steward/web/locale``), the choice
of locale (a ``steward_lang`` cookie set by the page's switch, else the browser's
Accept-Language) and locale-aware formatting of dates and numbers.

Labels for stored values (stages, tiers, statuses...) are marked with :func:`N_` so
``pybabel extract`` finds them; templates translate them through :func:`label`.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations

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
    """Dates and numbers per locale (Babel/CLDR)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.locale = Locale.parse(LOCALES[code][0])

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return dates.format_datetime(value, format="medium", locale=self.locale, tzinfo=None)

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
