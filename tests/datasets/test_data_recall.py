"""A data recall through the service layer, on SQLite and PostgreSQL: one finding on every
model version built on a dataset version, in one transaction, journalled; a second recall
opens nothing twice; the findings are listed by dataset; only a data steward or an admin
recalls, and bad input leaves nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets as lineage
from steward.services import (
    audit,
    data_quality,
    data_recall,
    datasets,
    deployments,
    findings,
    models,
    versions,
)
from steward.services.context import Context

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
DANA = Principal(name="dana", roles=frozenset({"owner"}))
STEVE = Principal(name="steve", roles=frozenset({"data_steward"}))
FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [10.0, 20.0, 30.0, 40.0]})


def _version(ctx: Context, model: str, tmp_path: Path, frame: pd.DataFrame) -> int:
    artifact = tmp_path / f"{model}-{len(frame)}.bin"
    artifact.write_bytes(f"{model}{len(frame)}".encode())
    spec = VersionSpec(training_data=lineage.describe(frame, name="train"))
    return versions.create_version(ctx, ADMIN, model, spec, artifact).version


@pytest.fixture
def built(ctx: Context, tmp_path: Path) -> Context:
    """loans@1 trained credit v1 (deployed to prod) and v2, and scoring v1; loans@2 nothing."""
    datasets.create_dataset(ctx, DANA, "loans")
    data_quality.snapshot(ctx, DANA, "loans", FRAME)
    data_quality.snapshot(ctx, DANA, "loans", FRAME.head(2))
    models.create_model(ctx, ADMIN, "credit", owner="olive")
    models.create_model(ctx, ADMIN, "scoring", owner="sam")
    _version(ctx, "credit", tmp_path, FRAME)
    made = versions.get_version(ctx, ADMIN, "credit", 1)
    deployments.record_deployment(
        ctx, ADMIN, "credit", environment="prod", sha256=made.artifact.sha256, version=1
    )
    artifact = tmp_path / "credit-2.bin"
    artifact.write_bytes(b"credit two")
    spec = VersionSpec(training_data=lineage.describe(FRAME, name="train"))
    versions.create_version(ctx, ADMIN, "credit", spec, artifact)
    _version(ctx, "scoring", tmp_path, FRAME)
    return ctx


def test_a_recall_opens_one_finding_per_model_version_and_journals_it(built: Context) -> None:
    ctx = built
    recalled = data_recall.recall(
        ctx, STEVE, "loans@1", severity="High", reason="the extract double-counted arrears"
    )
    assert recalled.opened == 3
    assert sorted((f.model, f.version) for f in recalled.findings) == [
        ("credit", 1),
        ("credit", 2),
        ("scoring", 1),
    ]
    first = next(f for f in recalled.findings if (f.model, f.version) == ("credit", 1))
    assert first.severity.value == "high" and first.scope == "version"
    assert first.source == "dataset" and first.source_ref == "loans@1/credit@1"
    assert first.owner == "olive"  # the model's owner works it
    assert first.description == "the extract double-counted arrears"
    assert first.evidence["fingerprint"] == recalled.fingerprint
    assert first.evidence["deployments"][0].startswith("prod")
    events = audit.list_events(
        ctx, ADMIN, AuditFilter(action=Action.DATASET_RECALLED.value), limit=5
    )
    assert [e.subject_id for e in events] == ["loans@1"]
    payload = json.loads(events[0].payload)
    assert sorted(payload["findings"]) == sorted(f.id for f in recalled.findings)
    assert payload["opened"] == 3 and payload["severity"] == "high"
    # recalling again opens nothing twice; the open findings are returned
    again = data_recall.recall(ctx, STEVE, "loans@1", severity="high", reason="still bad")
    assert again.opened == 0 and {f.id for f in again.findings} == {f.id for f in recalled.findings}
    # nothing built on loans@2: an empty recall, still journalled
    assert data_recall.recall(ctx, ADMIN, "loans@2", severity="low", reason="x").findings == []


def test_recall_findings_are_listed_by_their_dataset(built: Context) -> None:
    ctx = built
    data_recall.recall(ctx, STEVE, "loans@1", severity="critical", reason="corrupt")
    findings.open_finding(ctx, ADMIN, "credit", title="unrelated", severity="low")
    by_version = findings.list_findings(ctx, ADMIN, dataset="loans@1")
    assert len(by_version.items) == 3
    assert {f.source for f in by_version.items} == {"dataset"}
    assert len(findings.list_findings(ctx, ADMIN, dataset="loans").items) == 3
    assert findings.list_findings(ctx, ADMIN, dataset="loans@2").items == []
    # '_' is a character of the name, never a LIKE wildcard
    assert findings.list_findings(ctx, ADMIN, dataset="loan_").items == []
    # the deploy of an unapproved version and the unrelated finding are not the recall's
    assert len(findings.list_findings(ctx, ADMIN, model="credit").items) == 4
    with pytest.raises(InvalidInput, match="NAME@VERSION"):
        findings.list_findings(ctx, ADMIN, dataset="loans@x")


@pytest.mark.parametrize(
    ("who", "ref", "severity", "reason", "error", "needle"),
    [
        (DANA, "loans@1", "high", "bad", Forbidden, "dataset:approve"),
        (STEVE, "loans@9", "high", "bad", NotFound, "no version 9"),
        (STEVE, "ghost@1", "high", "bad", NotFound, "does not exist"),
        (STEVE, "loans@1", "severe", "bad", InvalidInput, "Unknown severity"),
        (STEVE, "loans@1", "high", "  ", InvalidInput, "needs a reason"),
        (STEVE, "loans", "high", "bad", InvalidInput, "NAME@VERSION"),
    ],
)
def test_a_refused_recall_writes_nothing(
    built: Context,
    who: Principal,
    ref: str,
    severity: str,
    reason: str,
    error: type[Exception],
    needle: str,
) -> None:
    with pytest.raises(error, match=needle):
        data_recall.recall(built, who, ref, severity=severity, reason=reason)
    assert findings.list_findings(built, ADMIN, status="all", source="dataset").items == []
    assert (
        audit.list_events(built, ADMIN, AuditFilter(action=Action.DATASET_RECALLED.value), 5) == []
    )
