"""Dataset evidence in compliance coverage (SQLite and PostgreSQL): EU AI Act Art. 10,
ISO/IEC 42001 A.7.x, NIST MAP 2.3 / MEASURE 2.1 / 2.5 and the Taiwan FSC data items follow
the version's data from unregistered, to registered, to passing its rules, to approved —
judged by the same rule as the gate's data requirements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from steward.compliance.coverage import ModelCoverage, State, Status
from steward.compliance.mapping import EvidenceKind
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import compliance, data_quality, datasets
from steward.services.context import Context

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
STEVE = Principal(name="steve", roles=frozenset({"data_steward"}))
FRAME = pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]})
DATA_KINDS = (EvidenceKind.DATA_REGISTERED, EvidenceKind.DATA_QUALITY, EvidenceKind.DATA_APPROVED)
CONTROLS = [
    ("eu-ai-act", "Art. 10"),
    ("iso-42001", "A.7.2"),
    ("iso-42001", "A.7.3"),
    ("iso-42001", "A.7.4"),
    ("iso-42001", "A.7.5"),
    ("iso-42001", "A.7.6"),
    ("nist-ai-rmf", "MAP 2.3"),
    ("nist-ai-rmf", "MEASURE 2.5"),
    ("tw-fsc", "TW-FSC-4"),
    ("tw-fsc", "TW-FSC-5"),
]


def states(cov: ModelCoverage) -> tuple[State, ...]:
    found = {e.kind: e.state for e in cov.evidence}
    return tuple(found[k] for k in DATA_KINDS)


def mapped(cov: ModelCoverage) -> dict[tuple[str, str], set[EvidenceKind]]:
    return {
        (c.framework, c.control): {e.kind for e in c.evidence}
        for c in cov.controls
        if (c.framework, c.control) in CONTROLS
    }


def test_data_evidence_follows_the_dataset_from_unregistered_to_approved(
    ctx: Context, tmp_path: Path
) -> None:
    st = Steward(LocalBackend(ctx, "admin"))
    st.create_model("credit", owner="olivia")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    st.log_version("credit", artifact, training_data=FRAME)

    before = compliance.model_coverage(ctx, ADMIN, "credit")
    assert states(before) == (State.MISSING,) * 3
    reason = next(e.detail for e in before.evidence if e.kind is EvidenceKind.DATA_REGISTERED)
    assert "training data" in reason and "unregistered" in reason
    # every data control needs at least one of the data kinds, so none is current yet
    assert len(mapped(before)) == len(CONTROLS)
    assert all(kinds & set(DATA_KINDS) for kinds in mapped(before).values())
    assert (
        next(
            c.status for c in before.controls if (c.framework, c.control) == ("iso-42001", "A.7.3")
        )
        is Status.MISSING
    )

    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    rules = "rules:\n  - kind: not_null\n    column: amount\n"
    data_quality.set_rules(ctx, ADMIN, "loans", rules, "rules.yaml")
    data_quality.snapshot(ctx, ADMIN, "loans", FRAME)
    passed = compliance.model_coverage(ctx, ADMIN, "credit")
    assert states(passed) == (State.CURRENT, State.CURRENT, State.MISSING)
    refs = next(e.refs for e in passed.evidence if e.kind is EvidenceKind.DATA_QUALITY)
    assert refs == ("loans@1",)

    datasets.approve(ctx, STEVE, "loans@1", "fit for credit models")
    approved = compliance.model_coverage(ctx, ADMIN, "credit")
    assert states(approved) == (State.CURRENT,) * 3
    a73 = next(c for c in approved.controls if (c.framework, c.control) == ("iso-42001", "A.7.3"))
    assert a73.status is Status.CURRENT
