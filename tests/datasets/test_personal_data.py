"""Personal data through the service layer, on SQLite and PostgreSQL: every snapshot is
scanned, a person confirms or overrides each column (audited; an override needs a
reason; only the dataset's owner, its steward team or a data steward), rule samples are
masked, and the personal_data_reviewed gate requirement explains itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Conflict, Forbidden, InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets as lineage
from steward.services import (
    audit,
    data_quality,
    datasets,
    gates,
    models,
    personal_data,
    policies,
    versions,
)
from steward.services.context import Context

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
DANA = Principal(name="dana", roles=frozenset({"owner"}))
BOB = Principal(name="bob", roles=frozenset({"owner"}))
STEVE = Principal(name="steve", roles=frozenset({"data_steward"}))
FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "email": ["ann@example.com", "bob@example.org", "cy@example.net", "di@example.com"],
        "national_id": ["A123456789", "B120863158", "F131104093", "A123456789"],
        "amount": [10.0, 20.0, 30.0, 40.0],
    }
)
PACK = """\
pack: pii
version: "1"
requirements:
  - id: data.personal
    kind: personal_data_reviewed
    to: [validation]
    controls: ["eu-ai-act:Art. 10"]
"""


def _classes(ctx: Context, ref: str) -> dict[str, tuple[list[str], bool]]:
    found = personal_data.classification(ctx, ADMIN, ref)
    return {c.column: (c.categories, c.reviewed) for c in found.columns}


def test_a_snapshot_is_scanned_and_each_column_confirmed_or_overridden(ctx: Context) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    data_quality.snapshot(ctx, DANA, "loans", FRAME)
    assert _classes(ctx, "loans@1") == {
        "id": ([], True),
        "email": (["email"], False),
        "national_id": (["tw_national_id"], False),
        "amount": ([], True),
    }
    found = personal_data.classification(ctx, ADMIN, "loans@1")
    email = next(c for c in found.columns if c.column == "email")
    assert email.scan.examples[0] == "a***@***.com" and email.scan.detections[0].share == 1.0

    confirmed = personal_data.classify(ctx, DANA, "loans@1", "email", None)
    assert confirmed.review is not None and confirmed.review.decision == "confirmed"
    with pytest.raises(InvalidInput, match="needs a reason"):
        personal_data.classify(ctx, DANA, "loans@1", "national_id", ["none"], "")
    overridden = personal_data.classify(
        ctx, STEVE, "loans@1", "national_id", ["none"], "synthetic test IDs"
    )
    assert overridden.reviewed and not overridden.personal
    assert _classes(ctx, "loans@1")["national_id"] == ([], True)
    events = audit.list_events(
        ctx, ADMIN, AuditFilter(action=Action.DATASET_COLUMN_CLASSIFIED.value), limit=10
    )
    decided = [(e.actor, e.payload_dict()) for e in events]
    assert sorted((actor, p["column"], p["decision"]) for actor, p in decided) == [
        ("dana", "email", "confirmed"),
        ("steve", "national_id", "overridden"),
    ]
    # The decision holds for the next version of the same columns.
    data_quality.snapshot(ctx, DANA, "loans", FRAME.head(3))
    assert all(reviewed for _, reviewed in _classes(ctx, "loans@2").values())


def test_only_the_owner_or_a_data_steward_decides(ctx: Context) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    data_quality.snapshot(ctx, DANA, "loans", FRAME)
    with pytest.raises(Forbidden):
        personal_data.classify(ctx, BOB, "loans@1", "email", None)
    with pytest.raises(InvalidInput, match="no scanned column 'nope'"):
        personal_data.classify(ctx, DANA, "loans@1", "nope", None)
    with pytest.raises(InvalidInput, match="Unknown personal-data category"):
        personal_data.classify(ctx, DANA, "loans@1", "email", ["passport"], "x")
    assert not any(c.review for c in personal_data.classification(ctx, ADMIN, "loans@1").columns)


def test_a_rescan_needs_the_version_s_own_rows(ctx: Context, tmp_path: Path) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    data_quality.snapshot(ctx, DANA, "loans", FRAME)
    again = personal_data.scan(ctx, DANA, "loans@1", FRAME, rescan=True)
    assert [c.column for c in again.columns if c.personal] == ["email", "national_id"]
    with pytest.raises(Conflict, match="not loans@1's"):
        personal_data.scan(ctx, DANA, "loans@1", FRAME.head(2), rescan=True)
    with pytest.raises(Forbidden):
        personal_data.scan(ctx, BOB, "loans@1", FRAME, rescan=True)


def test_rule_samples_of_personal_columns_are_masked(ctx: Context) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    data_quality.set_rules(
        ctx, DANA, "loans", "rules:\n  - kind: range\n    column: amount\n    max: 15\n"
    )
    snap = data_quality.snapshot(ctx, DANA, "loans", FRAME)
    sample = snap.results[0].samples[0]
    assert sample["amount"] == 20.0 and sample["id"] == 2
    assert sample["email"] == "b***@***.org" and sample["national_id"] == "B*******58"


def test_the_gate_requires_reviewed_personal_data_and_a_legal_basis(
    ctx: Context, tmp_path: Path
) -> None:
    policies.load_pack(ctx, ADMIN, PACK, source="pii.yaml", activate=True)
    models.create_model(ctx, ADMIN, "credit", owner="olive")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    frame = FRAME.assign(diagnosis=["a", "b", "c", "d"])
    spec = VersionSpec(training_data=lineage.describe(frame, name="t"))
    versions.create_version(ctx, ADMIN, "credit", spec, artifact)

    def outcome() -> tuple[bool, str]:
        report = gates.check_gate(ctx, ADMIN, "credit", 1, "validation")
        found = next(o for o in report.outcomes if o.requirement == "data.personal")
        return found.met, found.reason

    met, reason = outcome()
    assert not met and "is unregistered" in reason
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    data_quality.snapshot(ctx, DANA, "loans", frame)
    met, reason = outcome()
    assert not met
    assert "loans@1 has unreviewed personal-data columns: email (email)" in reason
    assert "diagnosis (health)" in reason and "steward dataset classify loans@1" in reason
    assert "without a recorded legal basis" in reason
    for column in ("email", "national_id", "diagnosis"):
        personal_data.classify(ctx, DANA, "loans@1", column, None)
    met, reason = outcome()
    assert not met and reason.startswith("loans@1 holds restricted data without")
    datasets.update_dataset(ctx, DANA, "loans", legal_basis="contract (PDPA Art. 19)")
    assert outcome() == (True, "training data: loans@1 personal data reviewed.")
