"""The inventory: creating model records, auditing their updates, listing and filtering them."""

from __future__ import annotations

import random
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from steward.domain.audit import Action, AuditFilter
from steward.domain.entities import Model, ModelStatus, RegulatoryCategory, RiskTier
from steward.domain.errors import AlreadyExists, InvalidInput, NotFound
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import audit, lifecycle, models, versions
from steward.services.context import Context
from steward.store.models_repo import ModelRepository

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _events(ctx: Context, alice: Principal, action: Action) -> list[dict[str, object]]:
    found = audit.list_events(ctx, alice, AuditFilter(action=action.value), 1000)
    return [e.payload_dict() for e in found]


def _names(ctx: Context, alice: Principal, **filters: object) -> list[str]:
    page = models.list_models(ctx, alice, limit=1000, **filters)  # type: ignore[arg-type]
    assert page.next_cursor is None
    return [m.name for m in page.items]


# -- create ---------------------------------------------------------------------------


def test_create_with_every_field(ctx: Context, alice: Principal) -> None:
    model = models.create_model(
        ctx,
        alice,
        "credit-scoring",
        title="Credit scoring",
        description="Scores applications",
        purpose="Approve consumer loans",
        business_unit="Retail lending",
        owner="bob",
        team="risk",
        risk_tier="high",
        regulatory_category="high",
        risk_override_reason="tiered by the model risk committee before the questionnaire",
        tags=["pd", "credit", "pd"],
        status="proposed",
        next_review_date="2026-06-30",
        allow_multiple_production=True,
    )
    assert model.name == "credit-scoring"
    assert model.title == "Credit scoring"
    assert model.description == "Scores applications"
    assert model.purpose == "Approve consumer loans"
    assert model.business_unit == "Retail lending"
    assert model.owner == "bob"
    assert model.team == "risk"
    assert model.risk_tier is RiskTier.HIGH
    assert model.regulatory_category is RegulatoryCategory.HIGH
    assert model.tags == ["credit", "pd"]
    assert model.status is ModelStatus.PROPOSED
    assert model.next_review_date == date(2026, 6, 30)
    assert model.allow_multiple_production is True
    assert model.created_by == "alice"
    assert model.latest_version == 0
    assert model.created_at == model.updated_at
    assert models.get_model(ctx, alice, "credit-scoring") == model

    (created,) = _events(ctx, alice, Action.MODEL_CREATED)
    assert created["after"] == {
        "title": "Credit scoring",
        "description": "Scores applications",
        "purpose": "Approve consumer loans",
        "business_unit": "Retail lending",
        "owner": "bob",
        "team": "risk",
        "risk_tier": "high",
        "regulatory_category": "high",
        "tags": ["credit", "pd"],
        "status": "proposed",
        "next_review_date": "2026-06-30",
        "allow_multiple_production": True,
    }


def test_defaults_owner_is_the_caller_and_risk_is_unassessed(
    ctx: Context, alice: Principal
) -> None:
    model = models.create_model(ctx, alice, "churn")
    assert model.owner == "alice"
    assert model.created_by == "alice"
    assert model.risk_tier is RiskTier.UNASSESSED
    assert model.regulatory_category is RegulatoryCategory.UNASSESSED
    assert model.status is ModelStatus.ACTIVE
    assert (model.title, model.description, model.purpose, model.team) == ("", "", "", "")
    assert model.tags == []
    assert model.next_review_date is None
    assert model.allow_multiple_production is False
    (created,) = _events(ctx, alice, Action.MODEL_CREATED)
    assert created == {"after": {"owner": "alice", "tags": []}}


@SQLITE_ONLY
def test_create_rejects_duplicates_bad_names_and_bad_values(ctx: Context, alice: Principal) -> None:
    models.create_model(ctx, alice, "churn")
    with pytest.raises(AlreadyExists, match="'churn' already exists"):
        models.create_model(ctx, alice, "churn")
    with pytest.raises(InvalidInput, match="Invalid model name 'Churn'"):
        models.create_model(ctx, alice, "Churn")
    with pytest.raises(InvalidInput, match="Invalid risk_tier 'extreme'"):
        models.create_model(ctx, alice, "other", risk_tier="extreme")
    with pytest.raises(InvalidInput, match="Unknown model field"):
        models.create_model(ctx, alice, "other", colour="red")
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        models.get_model(ctx, alice, "nope")
    assert _names(ctx, alice) == ["churn"]
    assert len(_events(ctx, alice, Action.MODEL_CREATED)) == 1


# -- update ---------------------------------------------------------------------------


def test_update_is_audited_field_by_field(ctx: Context, alice: Principal) -> None:
    models.create_model(ctx, alice, "churn", title="Churn", team="growth", tags=["a"])
    updated = models.update_model(
        ctx,
        alice,
        "churn",
        title="Churn",  # unchanged: must not appear in the event
        team="retention",
        risk_tier="medium",
        risk_override_reason="interim tier until the questionnaire is answered",
        tags=["b", "a"],
        next_review_date=date(2027, 1, 15),
    )
    assert updated.team == "retention"
    assert updated.risk_tier is RiskTier.MEDIUM
    assert updated.tags == ["a", "b"]
    assert updated.next_review_date == date(2027, 1, 15)
    assert updated.title == "Churn"
    assert updated.updated_at > updated.created_at
    assert models.get_model(ctx, alice, "churn") == updated

    (event,) = _events(ctx, alice, Action.MODEL_UPDATED)
    assert event == {
        "before": {
            "team": "growth",
            "risk_tier": "unassessed",
            "tags": ["a"],
            "next_review_date": None,
        },
        "after": {
            "team": "retention",
            "risk_tier": "medium",
            "tags": ["a", "b"],
            "next_review_date": "2027-01-15",
        },
        "fields": ["next_review_date", "risk_tier", "tags", "team"],
    }


def test_a_no_op_update_writes_no_event(ctx: Context, alice: Principal) -> None:
    created = models.create_model(ctx, alice, "churn", team="growth", tags=["b", "a"])
    same = models.update_model(ctx, alice, "churn", team="growth", tags=["a", "b", "a"])
    assert same == created
    assert _events(ctx, alice, Action.MODEL_UPDATED) == []
    assert models.get_model(ctx, alice, "churn").updated_at == created.updated_at


@SQLITE_ONLY
def test_update_validation(ctx: Context, alice: Principal) -> None:
    models.create_model(ctx, alice, "churn")
    with pytest.raises(InvalidInput, match="Nothing to update"):
        models.update_model(ctx, alice, "churn")
    with pytest.raises(InvalidInput, match="Invalid status 'gone'"):
        models.update_model(ctx, alice, "churn", status="gone")
    with pytest.raises(InvalidInput, match="not a date"):
        models.update_model(ctx, alice, "churn", next_review_date="31/12/2026")
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        models.update_model(ctx, alice, "nope", team="x")
    assert _events(ctx, alice, Action.MODEL_UPDATED) == []


# -- list filters -------------------------------------------------------------------


@pytest.fixture
def inventory(ctx: Context, alice: Principal, tmp_path: Path) -> Context:
    """Six models with distinct owners, teams, tiers, categories, tags, stages."""
    specs: list[tuple[str, dict[str, object]]] = [
        (
            "credit-scoring",
            dict(
                owner="bob",
                team="risk",
                risk_tier="high",
                regulatory_category="high",
                tags=["credit", "pd"],
                title="Consumer Credit Scoring",
                purpose="Approve loans",
            ),
        ),
        (
            "fraud-detector",
            dict(
                owner="carol",
                team="risk",
                risk_tier="critical",
                regulatory_category="limited",
                tags=["fraud"],
                description="Flags 100% of suspicious card payments",
                business_unit="Payments",
            ),
        ),
        (
            "churn",
            dict(
                owner="bob",
                team="growth",
                risk_tier="low",
                regulatory_category="minimal",
                tags=["marketing"],
                status="retired",
                description="Predicts customer_churn within 30 days",
            ),
        ),
        (
            "pricing",
            dict(
                owner="dave",
                team="growth",
                risk_tier="medium",
                tags=["credit"],
                status="proposed",
                business_unit="Retail Credit",
            ),
        ),
        ("recsys", dict(owner="carol", team="growth", description="Recommends items")),
        ("credit_limit", dict(owner="erin", team="risk", risk_tier="high", purpose="Set limits")),
    ]
    for name, fields in specs:
        # Tiers set by hand are overrides of the risk assessment: they need a reason.
        reason = "inventory fixture" if "risk_tier" in fields else None
        models.create_model(ctx, alice, name, risk_override_reason=reason, **fields)
    blob = tmp_path / "m.bin"
    blob.write_bytes(b"model")

    def version(model: str) -> int:
        return versions.create_version(ctx, alice, model, VersionSpec(), blob).version

    def move(model: str, number: int, *stages: str) -> None:
        for stage in stages:
            lifecycle.transition(ctx, alice, model, number, stage, "test")

    # credit-scoring: v1 production, v2 development -> production AND development
    move("credit-scoring", version("credit-scoring"), "validation", "approved", "production")
    version("credit-scoring")
    # fraud-detector: v1 validation
    move("fraud-detector", version("fraud-detector"), "validation")
    # pricing: v1 development, v2 validation
    version("pricing")
    move("pricing", version("pricing"), "validation")
    # churn: v1 retired
    move(
        "churn",
        version("churn"),
        "validation",
        "approved",
        "production",
        "deprecated",
        "retired",
    )
    return ctx


def test_list_filters(inventory: Context, alice: Principal) -> None:
    ctx = inventory
    assert _names(ctx, alice) == [
        "churn",
        "credit-scoring",
        "credit_limit",
        "fraud-detector",
        "pricing",
        "recsys",
    ]
    assert _names(ctx, alice, owner="bob") == ["churn", "credit-scoring"]
    assert _names(ctx, alice, owner="nobody") == []
    assert _names(ctx, alice, team="risk") == ["credit-scoring", "credit_limit", "fraud-detector"]
    assert _names(ctx, alice, risk_tier="high") == ["credit-scoring", "credit_limit"]
    assert _names(ctx, alice, risk_tier="unassessed") == ["recsys"]
    assert _names(ctx, alice, regulatory_category="limited") == ["fraud-detector"]
    assert _names(ctx, alice, regulatory_category="unassessed") == [
        "credit_limit",
        "pricing",
        "recsys",
    ]
    assert _names(ctx, alice, status="retired") == ["churn"]
    assert _names(ctx, alice, status="proposed") == ["pricing"]
    assert _names(ctx, alice, status="active") == [
        "credit-scoring",
        "credit_limit",
        "fraud-detector",
        "recsys",
    ]
    assert _names(ctx, alice, tag="credit") == ["credit-scoring", "pricing"]
    assert _names(ctx, alice, tag="cred") == []
    # stage: models with ANY version in that stage
    assert _names(ctx, alice, stage="production") == ["credit-scoring"]
    assert _names(ctx, alice, stage="development") == ["credit-scoring", "pricing"]
    assert _names(ctx, alice, stage="validation") == ["fraud-detector", "pricing"]
    assert _names(ctx, alice, stage="retired") == ["churn"]
    assert _names(ctx, alice, stage="approved") == []
    with pytest.raises(InvalidInput, match="Unknown stage 'live'"):
        models.list_models(ctx, alice, stage="live")


def test_text_search_is_case_insensitive_and_literal(inventory: Context, alice: Principal) -> None:
    ctx = inventory
    # name, title, description, purpose and business unit; case-insensitive
    assert _names(ctx, alice, q="CREDIT") == ["credit-scoring", "credit_limit", "pricing"]
    assert _names(ctx, alice, q="consumer credit") == ["credit-scoring"]
    assert _names(ctx, alice, q="approve") == ["credit-scoring"]
    assert _names(ctx, alice, q="payments") == ["fraud-detector"]
    assert _names(ctx, alice, q="recommends") == ["recsys"]
    assert _names(ctx, alice, q="set LIMITS") == ["credit_limit"]
    assert _names(ctx, alice, q="nothing like this") == []
    # '%' and '_' are literal characters, not LIKE wildcards
    assert _names(ctx, alice, q="%") == ["fraud-detector"]
    assert _names(ctx, alice, q="100%") == ["fraud-detector"]
    assert _names(ctx, alice, q="%suspicious") == []
    # '_' is not a wildcard: "credit_" matches only the literal underscore
    assert _names(ctx, alice, q="credit_") == ["credit_limit"]
    assert _names(ctx, alice, q="_") == ["churn", "credit_limit"]
    assert _names(ctx, alice, q="r_sys") == []
    assert _names(ctx, alice, q="\\") == []


def test_filters_combine(inventory: Context, alice: Principal) -> None:
    ctx = inventory
    assert _names(ctx, alice, team="risk", risk_tier="high") == ["credit-scoring", "credit_limit"]
    assert _names(ctx, alice, team="risk", risk_tier="high", tag="pd") == ["credit-scoring"]
    assert _names(ctx, alice, team="growth", q="credit") == ["pricing"]
    assert _names(ctx, alice, owner="bob", stage="development") == ["credit-scoring"]
    assert _names(ctx, alice, owner="bob", status="retired", stage="retired") == ["churn"]
    assert _names(ctx, alice, owner="carol", team="risk", tag="fraud", q="card") == [
        "fraud-detector"
    ]
    assert _names(ctx, alice, owner="carol", risk_tier="high") == []


@SQLITE_ONLY
def test_invalid_filter_values_are_refused(ctx: Context, alice: Principal) -> None:
    with pytest.raises(InvalidInput, match="Invalid risk_tier 'huge'"):
        models.list_models(ctx, alice, risk_tier="huge")
    with pytest.raises(InvalidInput, match="Invalid regulatory_category"):
        models.list_models(ctx, alice, regulatory_category="x")
    with pytest.raises(InvalidInput, match="limit must be between 1 and 1000"):
        models.list_models(ctx, alice, limit=0)
    for junk in ("\xff", "!!!", "bQ=", "bQ==", "b Q", "bQ"[:1]):
        with pytest.raises(InvalidInput, match="Invalid cursor: pass the next_cursor") as err:
            models.list_models(ctx, alice, cursor=junk)
        assert err.value.extra == {"field": "cursor"}
    with pytest.raises(InvalidInput, match="Invalid tag 'bad key'") as err:
        models.list_models(ctx, alice, tag="bad key")
    assert err.value.extra == {"field": "tags"}


# -- pagination ---------------------------------------------------------------------


def test_keyset_pagination_visits_every_model_once_in_name_order(
    ctx: Context, alice: Principal
) -> None:
    names = [f"m-{i:03d}" for i in range(250)]
    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    # Setup through the repository in one transaction (250 audited creates cost seconds on
    # PostgreSQL with fsync); the listing under test goes through the service.
    with ctx.uow.write() as uow:
        for name in shuffled:
            row = {
                "name": name,
                "owner": "alice",
                "team": "even" if int(name[2:]) % 2 == 0 else "odd",
                "created_at": uow.now,
                "created_by": "alice",
                "updated_at": uow.now,
            }
            uow.models.insert(row, [])
        uow.commit()

    seen: list[Model] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = models.list_models(ctx, alice, limit=40, cursor=cursor)
        pages += 1
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        assert len(page.items) == 40
        cursor = page.next_cursor
    assert pages == 7  # 6 full pages of 40 and one of 10
    assert [m.name for m in seen] == names

    # The cursor composes with filters.
    evens: list[str] = []
    cursor = None
    while True:
        page = models.list_models(ctx, alice, team="even", limit=40, cursor=cursor)
        evens.extend(m.name for m in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert evens == names[::2]


@SQLITE_ONLY
def test_exact_multiple_of_the_page_size_ends_with_no_cursor(
    ctx: Context, alice: Principal
) -> None:
    for i in range(4):
        models.create_model(ctx, alice, f"m{i}")
    first = models.list_models(ctx, alice, limit=2)
    assert [m.name for m in first.items] == ["m0", "m1"]
    assert first.next_cursor is not None
    second = models.list_models(ctx, alice, limit=2, cursor=first.next_cursor)
    assert [m.name for m in second.items] == ["m2", "m3"]
    assert second.next_cursor is None


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_updates_record_the_true_before_values(
    ctx: Context, alice: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each update's "before" is the value the previous update left, never a stale read."""
    models.create_model(ctx, alice, "churn", team="t0")
    second_read = threading.Event()
    original = ModelRepository.get

    def get(self: ModelRepository, name: str) -> Model | None:
        found = original(self, name)
        if threading.current_thread().name == "first":
            # Give the second update every chance to read the same row before we write.
            second_read.wait(1.0)
        elif threading.current_thread().name == "second":
            second_read.set()
        return found

    monkeypatch.setattr(ModelRepository, "get", get)
    errors: list[BaseException] = []

    def update(team: str) -> None:
        try:
            models.update_model(ctx, alice, "churn", team=team)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=update, args=("t1",), name="first")
    second = threading.Thread(target=update, args=("t2",), name="second")
    first.start()
    time.sleep(0.2)  # the first update holds the model when the second starts
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    events = _events(ctx, alice, Action.MODEL_UPDATED)
    assert [(e["before"], e["after"]) for e in events] == [
        ({"team": "t0"}, {"team": "t1"}),
        ({"team": "t1"}, {"team": "t2"}),
    ]
    assert models.get_model(ctx, alice, "churn").team == "t2"


def test_text_search_finds_non_ascii_text_as_typed(ctx: Context, alice: Principal) -> None:
    models.create_model(ctx, alice, "ecole", title="École Polytechnique scoring")
    models.create_model(ctx, alice, "strasse", description="Straßenbahn delays")
    assert _names(ctx, alice, q="École") == ["ecole"]
    assert _names(ctx, alice, q="ÉCOLE") == ["ecole"]  # ASCII letters still fold
    assert _names(ctx, alice, q="straßen") == ["strasse"]


def test_text_search_folds_non_ascii_case(ctx: Context, alice: Principal) -> None:
    models.create_model(ctx, alice, "ecole", title="École Polytechnique scoring")
    models.create_model(ctx, alice, "strasse", description="STRASSENBAHN delays")
    assert _names(ctx, alice, q="école") == ["ecole"]
    assert _names(ctx, alice, q="straßenbahn") == ["strasse"]  # full Unicode case folding
    models.update_model(ctx, alice, "ecole", title="Lycée scoring")
    assert _names(ctx, alice, q="école") == []
    assert _names(ctx, alice, q="LYCÉE") == ["ecole"]
