"""The data requirement kinds of a policy pack: data_registered, data_quality_passed and
data_approved, explained by the gate like the others (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets as lineage
from steward.services import data_quality, datasets, gates, models, policies, versions
from steward.services.context import Context

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
STEVE = Principal(name="steve", roles=frozenset({"data_steward"}))
PACK = """\
pack: data-gates
version: "1"
requirements:
  - id: data.registered
    kind: data_registered
    to: [validation]
    controls: ["iso-42001:A.7.2", "eu-ai-act:Art. 10"]
  - id: data.quality
    kind: data_quality_passed
    to: [validation]
    controls: ["iso-42001:A.7.4", "eu-ai-act:Art. 10"]
  - id: data.approved
    kind: data_approved
    to: [validation]
    controls: ["iso-42001:A.7.2", "tw-fsc:data"]
"""
FRAME = pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]})


def _outcomes(ctx: Context) -> dict[str, tuple[bool, str]]:
    report = gates.check_gate(ctx, ADMIN, "credit", 1, "validation")
    return {o.requirement: (o.met, o.reason) for o in report.outcomes}


def test_the_gate_explains_and_then_accepts_governed_data(ctx: Context, tmp_path: Path) -> None:
    policies.load_pack(ctx, ADMIN, PACK, source="data.yaml", activate=True)
    models.create_model(ctx, ADMIN, "credit", owner="olive")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    spec = VersionSpec(training_data=lineage.describe(FRAME, name="credit-training"))
    versions.create_version(ctx, ADMIN, "credit", spec, artifact)
    before = _outcomes(ctx)
    assert not before["data.registered"][0]
    assert "training data" in before["data.registered"][1]
    assert "is unregistered" in before["data.registered"][1]
    assert "steward dataset snapshot" in before["data.registered"][1]

    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    data_quality.snapshot(ctx, ADMIN, "loans", FRAME)  # registered, no rules yet
    middle = _outcomes(ctx)
    assert middle["data.registered"] == (True, "training data: loans@1 registered.")
    assert not middle["data.quality"][0] and "is loans@1, not passing" in middle["data.quality"][1]
    assert not middle["data.approved"][0]
    assert "steward dataset approve" in middle["data.approved"][1]

    data_quality.set_rules(ctx, ADMIN, "loans", "rules:\n  - kind: not_null\n    column: id\n")
    data_quality.snapshot(ctx, ADMIN, "loans", FRAME)  # loans@2: same rows, rules pass
    datasets.approve(ctx, STEVE, "loans@2", "fit")
    after = _outcomes(ctx)
    assert after["data.registered"][0]
    assert after["data.quality"] == (True, "training data: loans@2 passing its quality rules.")
    assert after["data.approved"] == (
        True,
        "training data: loans@2 approved by a data steward.",
    )
    assert gates.check_gate(ctx, ADMIN, "credit", 1, "validation").allowed


def test_a_version_without_data_fails_the_data_requirements(ctx: Context, tmp_path: Path) -> None:
    policies.load_pack(ctx, ADMIN, PACK, source="data.yaml", activate=True)
    models.create_model(ctx, ADMIN, "credit", owner="olive")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    versions.create_version(ctx, ADMIN, "credit", VersionSpec(), artifact)
    found = _outcomes(ctx)
    assert [found[k][0] for k in ("data.registered", "data.quality", "data.approved")] == [
        False
    ] * 3
    assert "records no training or evaluation data" in found["data.approved"][1]
