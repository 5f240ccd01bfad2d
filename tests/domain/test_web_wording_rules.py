"""Small domain rules the web pages rely on: a command named in a reason becomes the page
or button that does it, the version a model page opens on, and what a review checklist
must confirm for each outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from steward.domain.entities import ModelVersion, serving_version
from steward.domain.lifecycle import Stage
from steward.domain.remedies import for_browser
from steward.domain.reviews import CHECKLIST, Outcome, checklist_problem


def test_commands_with_a_page_are_named_by_it_and_others_stay() -> None:
    text = (
        "Approvals missing — 1 of 2. An eligible reviewer approves with "
        "`steward approvals approve REQUEST_ID`. Run `steward check run m 3 ...`."
    )
    shown = for_browser(text)
    assert "steward approvals" not in shown
    assert "the Approve button of the request (Approvals page)" in shown
    assert "`steward check run m 3 ...`" in shown  # no page for it: the command stays
    assert for_browser("no command here") == "no command here"


def _v(number: int, stage: Stage, aliases: tuple[str, ...] = ()) -> ModelVersion:
    at = datetime(2026, 1, number, tzinfo=UTC)
    fields: dict[str, Any] = {f: None for f in ModelVersion.__dataclass_fields__}
    fields.update(
        model="m",
        version=number,
        stage=stage,
        aliases=list(aliases),
        created_at=at,
        stage_changed_at=at,
    )
    return ModelVersion(**fields)


def test_the_page_opens_on_the_champion_in_production_else_the_newest() -> None:
    dev, prod, champ = (
        _v(4, Stage.DEVELOPMENT),
        _v(2, Stage.PRODUCTION),
        _v(3, Stage.PRODUCTION, ("champion",)),
    )
    assert serving_version([dev, prod, champ]) is champ
    assert serving_version([dev, prod]) is prod
    assert serving_version([_v(1, Stage.VALIDATION, ("champion",)), dev]).version == 1
    assert serving_version([dev, _v(1, Stage.DEVELOPMENT)]) is dev
    assert serving_version([]) is None


def test_a_satisfactory_review_confirms_every_item() -> None:
    assert checklist_problem(Outcome.SATISFACTORY, list(CHECKLIST)) is None
    missing = checklist_problem(Outcome.SATISFACTORY, ["performance"])
    assert missing is not None and missing.extra["field"] == "checklist"
    assert "data" in missing.detail
    assert checklist_problem(Outcome.NEEDS_IMPROVEMENT, []) is None
    unknown = checklist_problem(Outcome.UNSATISFACTORY, ["vibes"])
    assert unknown is not None and "vibes" in unknown.detail
