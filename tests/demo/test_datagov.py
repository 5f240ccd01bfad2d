"""The demo's data governance pieces that need no store: its policy pack and the faulty
extract it derives from the German Credit training extract."""

from __future__ import annotations

from steward.demo.credit import train_credit_model
from steward.demo.datagov import demo_pack_text, extracts, faulty_extract
from steward.domain.policy import default_pack_text, parse


def test_the_demo_pack_is_the_shipped_pack_plus_its_data_requirements() -> None:
    shipped = parse(default_pack_text())
    demo = parse(demo_pack_text())
    assert demo.ref == f"{shipped.ref}+data"
    assert demo.requirements[: len(shipped.requirements)] == shipped.requirements
    added = {r.id: (str(r.kind), sorted(s.value for s in r.to)) for r in demo.requirements}
    assert {k: v for k, v in added.items() if k.startswith("data.")} == {
        "data.registered": ("data_registered", ["approved", "production"]),
        "data.quality": ("data_quality_passed", ["approved", "production"]),
        "data.approved": ("data_approved", ["approved", "production"]),
        "data.personal": ("personal_data_reviewed", ["production"]),
    }


def test_the_extracts_are_the_credit_models_split_and_the_faulty_one_is_derived() -> None:
    train, test = extracts()
    model = train_credit_model(seed=42, model_kind="logistic")
    assert train.equals(model.train) and test.equals(model.test)
    faulty = faulty_extract(train)
    assert len(faulty) == len(train) and list(faulty.index) == list(train.index)
    assert int(faulty["age_in_years"].isna().sum()) == 70
    changed = faulty["credit_amount"] != train["credit_amount"]
    assert int(changed.sum()) == 28
    assert (faulty.loc[changed, "credit_amount"] == train.loc[changed, "credit_amount"] * 100).all()
    # everything else is the training extract unchanged
    rest = [c for c in train.columns if c not in ("age_in_years", "credit_amount")]
    assert faulty[rest].equals(train[rest])
