"""Personal data in a dataset's columns: what a scan detects, how values are validated and
masked, and when a column counts as reviewed (docs/datasets.md, "Personal data").

The scan (``steward.validation.personal_data``) runs each category's regular expression
in DuckDB over a sample of the rows as a prefilter; the categories whose numbers carry a
check digit — Taiwan national ID and resident certificate numbers, payment cards (Luhn),
IBAN (mod 97) — are then validated here, vectorised with numpy over all prefiltered
values at once. Hand-written because no maintained library validates them offline:
Microsoft Presidio's recognizers run inside its analyzer, which needs a spaCy language
model downloaded first, and it knows neither Taiwanese ID numbers nor Taiwanese phones.

A person confirms or overrides each column's classification with a reason; a column is
*unreviewed* while its scan detected a category nobody has looked at.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.domain.errors import InvalidInput

SAMPLE_ROWS = 100_000  # rows a scan reads at most (a simple random sample beyond)
MIN_SHARE = 0.10  # share of non-empty sampled values a value category needs to be reported
EXAMPLES = 3
MAX_REASON = 2_000


class Category(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    TW_NATIONAL_ID = "tw_national_id"
    TW_RESIDENT_ID = "tw_resident_id"
    PAYMENT_CARD = "payment_card"
    IBAN = "iban"
    IP_ADDRESS = "ip_address"
    DATE_OF_BIRTH = "date_of_birth"
    NAME = "name"
    ADDRESS = "address"
    # special categories (PDPA Art. 6, GDPR Art. 9 and 10)
    HEALTH = "health"
    ETHNICITY = "ethnicity"
    RELIGION = "religion"
    BIOMETRIC = "biometric"
    GENETIC = "genetic"
    CRIMINAL = "criminal"
    SEX_LIFE = "sex_life"
    UNION = "union_membership"


SPECIAL = frozenset(
    {
        Category.HEALTH,
        Category.ETHNICITY,
        Category.RELIGION,
        Category.BIOMETRIC,
        Category.GENETIC,
        Category.CRIMINAL,
        Category.SEX_LIFE,
        Category.UNION,
    }
)

# RE2 syntax (DuckDB's regexp_full_match), matched against the trimmed value.
PATTERNS: dict[Category, str] = {
    Category.EMAIL: r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    Category.PHONE: (
        # Taiwanese mobiles 09xx-xxx-xxx, +886 9xx xxx xxx; landlines (02) 2345-6789,
        # 07-123-4567, +886-2-2345-6789; otherwise an international E.164 number.
        r"(\+886[ \-]?|0)9\d{2}[ \-]?\d{3}[ \-]?\d{3}"
        r"|(\+886[ \-]?\(?|\(?0)[2-8]\d?\)?[ \-]?\d{3,4}[ \-]?\d{4}"
        r"|\+[1-9]\d{0,2}([ \-]?\d){6,13}"
    ),
    Category.TW_NATIONAL_ID: r"[A-Za-z][12]\d{8}",
    Category.TW_RESIDENT_ID: r"[A-Za-z][A-Da-d89]\d{8}",
    Category.PAYMENT_CARD: r"\d{4}([ \-]?\d{4}){2}[ \-]?\d{1,7}",
    Category.IBAN: r"[A-Za-z]{2}\d{2}( ?[A-Za-z0-9]{1,4}){3,8}",
    Category.IP_ADDRESS: (
        r"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
        r"|([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
        r"|([0-9A-Fa-f]{1,4}:){1,7}:"
        r"|([0-9A-Fa-f]{1,4}:){1,6}(:[0-9A-Fa-f]{1,4}){1}"
        r"|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}"
        r"|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}"
        r"|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}"
        r"|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}"
        r"|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}"
        r"|:(:[0-9A-Fa-f]{1,4}){1,7}|::"
    ),
}
# A cheap necessary condition of each pattern (SQL on the trimmed value ``{v}``), so the
# regular expression only runs on values that can match.
GUARDS: dict[Category, str] = {
    Category.EMAIL: "contains({v}, '@')",
    Category.PHONE: "length({v}) BETWEEN 8 AND 32 AND (prefix({v}, '0') OR prefix({v}, '+') "
    "OR prefix({v}, '('))",
    Category.TW_NATIONAL_ID: "length({v}) = 10 AND TRY_CAST(substr({v}, 3) AS BIGINT) >= 0",
    Category.TW_RESIDENT_ID: "length({v}) = 10 AND TRY_CAST(substr({v}, 3) AS BIGINT) >= 0",
    Category.PAYMENT_CARD: "length({v}) BETWEEN 13 AND 22 "
    "AND TRY_CAST(substr({v}, 1, 4) AS INTEGER) >= 0",
    Category.IBAN: "length({v}) BETWEEN 15 AND 44 AND TRY_CAST(substr({v}, 3, 2) AS INTEGER) >= 0",
    Category.IP_ADDRESS: "length({v}) <= 39 AND NOT contains({v}, '@') "
    "AND (contains({v}, '.') OR contains({v}, ':'))",
}
CHECKED = (Category.TW_NATIONAL_ID, Category.TW_RESIDENT_ID, Category.PAYMENT_CARD, Category.IBAN)

# Column-name hints: lowercase English words (matched as whole words of the name split at
# '_', '-', spaces and case changes) and Chinese substrings.
NAME_HINTS: dict[Category, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Category.DATE_OF_BIRTH: (("dob", "birth", "birthday", "birthdate"), ("出生", "生日")),
    Category.NAME: (
        ("name", "firstname", "lastname", "surname", "forename", "fullname"),
        ("姓名", "名字", "姓氏"),
    ),
    Category.ADDRESS: (
        ("address", "street", "addr", "postcode", "zipcode"),
        ("地址", "住址", "戶籍", "通訊處"),
    ),
    Category.EMAIL: (("email", "mail"), ("電子郵件", "信箱")),
    Category.PHONE: (("phone", "mobile", "tel", "telephone", "cell"), ("電話", "手機")),
    Category.TW_NATIONAL_ID: (("nationalid", "idno", "ssn"), ("身分證", "身份證")),
    Category.TW_RESIDENT_ID: (("arc", "residentid"), ("居留證",)),
    Category.HEALTH: (
        ("health", "diagnosis", "disease", "medical", "illness", "disability", "icd"),
        ("健康", "病歷", "疾病", "醫療", "診斷", "身心障礙"),
    ),
    Category.ETHNICITY: (
        ("ethnicity", "ethnic", "race", "racial"),
        ("種族", "族群", "原住民", "民族"),
    ),
    Category.RELIGION: (("religion", "religious", "faith", "belief"), ("宗教", "信仰")),
    Category.BIOMETRIC: (
        ("biometric", "biometrics", "fingerprint", "faceprint", "iris", "voiceprint"),
        ("指紋", "生物特徵", "臉部", "虹膜"),
    ),
    Category.GENETIC: (("genetic", "dna", "genome", "genotype"), ("基因", "遺傳")),
    Category.CRIMINAL: (
        ("criminal", "conviction", "offence", "offense", "crime"),
        ("犯罪", "前科", "刑事"),
    ),
    Category.SEX_LIFE: (("sexual", "orientation", "sexlife"), ("性生活", "性傾向", "性取向")),
    Category.UNION: (("union", "unionmember"), ("工會",)),
}


def _split(text: str) -> list[str]:
    return text.split()


# Values that are evidence of a special category whatever the column is called.
VALUE_WORDS: dict[Category, frozenset[str]] = {
    Category.RELIGION: frozenset(
        _split(
            "christian catholic protestant muslim islam buddhist buddhism hindu jewish sikh "
            "taoist taoism atheist agnostic 佛教 道教 基督教 天主教 伊斯蘭教 一貫道 無宗教"
        )
    ),
    Category.ETHNICITY: frozenset(
        _split(
            "hoklo hakka mainlander amis atayal paiwan bunun truku "
            "閩南 客家 外省 阿美族 泰雅族 排灣族 布農族 太魯閣族 新住民"
        )
    ),
}

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def name_words(column: str) -> set[str]:
    """``DateOfBirth`` / ``date_of_birth`` / ``email-address`` → their lowercase words, plus
    each adjacent pair joined (``first_name`` → ``firstname``)."""
    words = [w.lower() for w in _WORDS.findall(column)]
    return set(words) | {a + b for a, b in itertools.pairwise(words)}


# A "name" that is a thing's, not a person's.
_NOT_PERSON = frozenset(
    _split(
        "product file company model table column dataset feature host domain brand branch "
        "city country bank street project team"
    )
)


def hinted(column: str) -> set[Category]:
    """The categories a column's name suggests."""
    words = name_words(column)
    out = set()
    for category, (english, chinese) in NAME_HINTS.items():
        if words & set(english) or any(c in column for c in chinese):
            out.add(category)
    if Category.NAME in out and words & _NOT_PERSON and not any(c in column for c in "姓名字"):
        out.discard(Category.NAME)
    return out


# -- masking -------------------------------------------------------------------------------


def mask(value: Any) -> str:
    """Enough of a value to recognise its shape, never enough to identify anyone: an e-mail
    keeps the first letter and the top-level domain; anything else its first character and
    last two (or nothing when shorter than six characters)."""
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@***{domain[domain.rfind('.') :] if '.' in domain else ''}"
    if len(text) < 6:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 3) + text[-2:]


# -- results, reviews ---------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    category: Category
    share: float  # of the non-empty sampled values (1.0 for a name hint alone)
    matches: int
    evidence: str  # "values" | "name" | "name+values"

    @property
    def special(self) -> bool:
        return self.category in SPECIAL


@dataclass(frozen=True)
class ColumnScan:
    """What the scan found in one column of a dataset version."""

    column: str
    sampled: int  # non-empty values looked at
    rows: int  # rows of the version
    detections: list[Detection]
    examples: list[str]  # masked

    @property
    def categories(self) -> list[str]:
        return [d.category.value for d in self.detections]


@dataclass(frozen=True)
class ColumnReview:
    """A person's decision on a column's classification."""

    dataset: str
    column: str
    decision: str  # confirmed | overridden
    categories: list[str]  # what the column holds, decided ([] = no personal data)
    detected: list[str]  # what the scan had found when they decided
    reason: str
    reviewed_by: str
    reviewed_at: datetime


@dataclass(frozen=True)
class ColumnClass:
    """A column of a dataset version as the data office sees it: scan and review together."""

    scan: ColumnScan
    review: ColumnReview | None = None

    @property
    def column(self) -> str:
        return self.scan.column

    @property
    def reviewed(self) -> bool:
        """Nobody has yet looked at a category the scan detected."""
        if self.review is None:
            return not self.scan.detections
        seen = set(self.review.detected) | set(self.review.categories)
        return set(self.scan.categories) <= seen

    @property
    def categories(self) -> list[str]:
        """The column's categories: as reviewed, else as detected."""
        return list(self.review.categories) if self.review else self.scan.categories

    @property
    def personal(self) -> bool:
        return bool(self.categories) or (self.review is None and bool(self.scan.detections))

    @property
    def special(self) -> bool:
        return any(c in SPECIAL for c in self.categories)


@dataclass(frozen=True)
class PersonalData:
    dataset: str
    version: int
    columns: list[ColumnClass] = field(default_factory=list)
    sample_rows: int = SAMPLE_ROWS

    @property
    def unreviewed(self) -> list[ColumnClass]:
        return [c for c in self.columns if not c.reviewed]

    @property
    def personal_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.personal]


def parse_categories(values: Sequence[str] | str) -> list[str]:
    """``--category email --category phone`` or ``email,phone``; ``none`` for no personal data."""
    items = [values] if isinstance(values, str) else list(values)
    out: set[str] = set()
    for item in items:
        for part in str(item).split(","):
            text = part.strip().lower()
            if not text or text == "none":
                continue
            try:
                out.add(Category(text).value)
            except ValueError:
                raise InvalidInput(
                    f"Unknown personal-data category {part.strip()!r}; use one of "
                    f"{', '.join(c.value for c in Category)}, or none.",
                    field="categories",
                ) from None
    return sorted(out)


def check_review(categories: list[str], detected: list[str], reason: str) -> tuple[str, str]:
    """(decision, reason): confirming the detected categories needs no reason; deciding
    anything else (an override) does."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"A reason has at most {MAX_REASON} characters.", field="reason")
    decision = "confirmed" if sorted(categories) == sorted(detected) else "overridden"
    if decision == "overridden" and not reason:
        raise InvalidInput(
            f"Overriding the detected classification ({', '.join(detected) or 'none'}) with "
            f'{", ".join(categories) or "none"} needs a reason: add --reason "…" saying why '
            "(for example 'synthetic test values, no real persons').",
            field="reason",
        )
    return decision, reason
