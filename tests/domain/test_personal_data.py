"""The pure rules of personal-data classification: column-name hints, masking, category
parsing, when an override needs a reason, and when a column counts as reviewed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from steward.domain.errors import InvalidInput
from steward.domain.personal_data import (
    Category,
    ColumnClass,
    ColumnReview,
    ColumnScan,
    Detection,
    check_review,
    hinted,
    mask,
    parse_categories,
)

AT = datetime(2026, 12, 7, tzinfo=UTC)


def test_column_names_hint_categories_in_english_and_chinese() -> None:
    assert hinted("DateOfBirth") == {Category.DATE_OF_BIRTH}
    assert hinted("first_name") == {Category.NAME}
    assert hinted("product_name") == set()
    assert hinted("客戶姓名") == {Category.NAME}
    assert hinted("home_address") == {Category.ADDRESS}
    assert hinted("宗教信仰") == {Category.RELIGION}
    assert hinted("amount") == set()


def test_masking_never_shows_enough_to_identify() -> None:
    assert mask("ann.lee@example.com") == "a***@***.com"
    assert mask("A123456789") == "A*******89"
    assert mask("Ann") == "***"
    assert mask(4111111111111111) == "4*************11"


def test_categories_parse_and_unknown_ones_are_refused() -> None:
    assert parse_categories(["email, phone", "none"]) == ["email", "phone"]
    assert parse_categories("none") == []
    with pytest.raises(InvalidInput, match="Unknown personal-data category 'passport'"):
        parse_categories(["passport"])


def test_an_override_needs_a_reason_a_confirmation_does_not() -> None:
    assert check_review(["email"], ["email"], "") == ("confirmed", "")
    assert check_review([], ["name"], " synthetic ") == ("overridden", "synthetic")
    with pytest.raises(InvalidInput, match="needs a reason"):
        check_review([], ["name"], "  ")


def _scan(*categories: Category) -> ColumnScan:
    return ColumnScan("c", 10, 10, [Detection(c, 1.0, 10, "values") for c in categories], [])


def _review(categories: list[str], detected: list[str]) -> ColumnReview:
    return ColumnReview("d", "c", "overridden", categories, detected, "why", "dana", AT)


def test_a_column_is_unreviewed_until_someone_saw_every_detected_category() -> None:
    assert ColumnClass(_scan()).reviewed and not ColumnClass(_scan()).personal
    assert not ColumnClass(_scan(Category.EMAIL)).reviewed
    overridden = ColumnClass(_scan(Category.NAME), _review([], ["name"]))
    assert overridden.reviewed and not overridden.personal
    # A later scan finds something the decision did not see: unreviewed again.
    assert not ColumnClass(_scan(Category.NAME, Category.EMAIL), _review([], ["name"])).reviewed
    special = ColumnClass(_scan(Category.HEALTH), _review(["health"], ["health"]))
    assert special.reviewed and special.special and special.personal
