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
from steward.services.context import Context, version_row_id

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


PERSONAL_CONTROLS = [
    ("eu-ai-act", "Art. 10"),
    ("iso-42001", "A.7.3"),
    ("nist-ai-rmf", "MEASURE 2.10"),
    ("tw-fsc", "TW-FSC-3"),
    ("tw-fsc", "TW-FSC-AIG-Ch3.1"),
]


def test_personal_data_review_is_coverage_evidence_judged_like_the_gate(
    ctx: Context, tmp_path: Path
) -> None:
    from steward.domain.gate import judge_personal_data
    from steward.services import personal_data

    frame = pd.DataFrame(
        {"id": [1, 2, 3], "email": ["a.lin@example.com", "b.wu@example.org", "c@example.net"]}
    )
    st = Steward(LocalBackend(ctx, "admin"))
    st.create_model("credit", owner="olivia")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    st.log_version("credit", artifact, training_data=frame)

    def evidence(cov: ModelCoverage) -> tuple[State, str, tuple[str, ...]]:
        found = next(e for e in cov.evidence if e.kind is EvidenceKind.PERSONAL_DATA)
        return found.state, found.detail, found.refs

    before = compliance.model_coverage(ctx, ADMIN, "credit")
    state, detail, _ = evidence(before)
    assert state is State.MISSING and "unregistered" in detail
    # the controls on personal data and privacy need the review
    needs = {
        (c.framework, c.control)
        for c in before.controls
        if any(e.kind is EvidenceKind.PERSONAL_DATA for e in c.evidence)
    }
    assert set(PERSONAL_CONTROLS) <= needs
    # ...and are not covered while it is missing
    art10 = next(c for c in before.controls if (c.framework, c.control) == ("eu-ai-act", "Art. 10"))
    assert art10.status is not Status.CURRENT

    datasets.create_dataset(ctx, ADMIN, "contacts", owner="dana")
    data_quality.snapshot(ctx, ADMIN, "contacts", frame)
    scanned = compliance.model_coverage(ctx, ADMIN, "credit")
    state, detail, refs = evidence(scanned)
    assert state is State.MISSING and refs == ("contacts@1",)
    assert "unreviewed personal-data columns: email (email)" in detail
    # one rule, one place: the gate's judgement of the same facts says the same
    with ctx.uow.read() as uow:
        row = uow.versions.row_by_id(version_row_id(uow, "credit", 1)[1])
        facts = personal_data.gate_facts(uow, row)
        fingerprint = uow.datasets.fingerprint_of(row["training_dataset_id"])
    assert judge_personal_data(facts, fingerprint, "credit", 1)[1] == detail

    personal_data.classify(ctx, STEVE, "contacts@1", "email", None)
    reviewed = compliance.model_coverage(ctx, ADMIN, "credit")
    state, detail, refs = evidence(reviewed)
    assert (state, refs) == (State.CURRENT, ("contacts@1",))
    assert detail == "training data: contacts@1 personal data reviewed."
