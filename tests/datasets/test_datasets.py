"""Datasets through the service layer, on SQLite and PostgreSQL: inventory audited field by
field, object-level reach, versions linked to model versions by fingerprint, approvals
with segregation of duties, impact; bad input leaves nothing written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from steward.domain.audit import Action, AuditFilter
from steward.domain.datasets import Classification, Quality
from steward.domain.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets as lineage
from steward.services import (
    audit,
    data_quality,
    datasets,
    deployments,
    identity,
    models,
    versions,
)
from steward.services.context import Context

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
DANA = Principal(name="dana", roles=frozenset({"owner"}), teams=frozenset({"data-office"}))
BOB = Principal(name="bob", roles=frozenset({"owner"}))
STEVE = Principal(name="steve", roles=frozenset({"data_steward"}))
VAL = Principal(name="val", roles=frozenset({"validator"}))
FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [10.0, 20.0, 30.0, 40.0]})


def events(ctx: Context) -> list[tuple[str, str]]:
    found = audit.list_events(ctx, ADMIN, AuditFilter(subject_type="dataset"), limit=1000)
    return [(e.action, e.subject_id) for e in found]


@pytest.fixture
def office(ctx: Context) -> Context:
    identity.create_team(ctx, ADMIN, "data-office")
    return ctx


def test_create_and_update_are_journalled_field_by_field(office: Context) -> None:
    ctx = office
    created = datasets.create_dataset(
        ctx,
        DANA,
        "loan-applications",
        steward_team="data-office",
        classification="Confidential",
        legal_basis="contract (PDPA Art. 19)",
        retention="7Y",
        licence="internal",
        tags=["credit", "pii"],
    )
    assert created.owner == "dana"  # defaults to the caller
    assert created.classification is Classification.CONFIDENTIAL
    assert created.retention == "7y"
    updated = datasets.update_dataset(
        ctx, DANA, "loan-applications", classification="restricted", title="Loans"
    )
    assert (updated.classification, updated.title) == (Classification.RESTRICTED, "Loans")
    same = datasets.update_dataset(ctx, DANA, "loan-applications", title="Loans")
    assert same == updated  # no change, no event
    found = audit.list_events(
        ctx, ADMIN, AuditFilter(action=Action.DATASET_UPDATED.value), limit=10
    )
    assert len(found) == 1
    payload = json.loads(found[0].payload)
    assert payload["before"] == {"classification": "confidential", "title": ""}
    assert payload["after"] == {"classification": "restricted", "title": "Loans"}
    assert payload["fields"] == ["classification", "title"]
    with pytest.raises(AlreadyExists):
        datasets.create_dataset(ctx, DANA, "loan-applications")


def test_an_owner_reaches_only_their_own_and_their_teams_datasets(office: Context) -> None:
    ctx = office
    datasets.create_dataset(ctx, DANA, "team-data", steward_team="data-office")
    with pytest.raises(Forbidden, match="only on models they own or their team holds"):
        datasets.update_dataset(ctx, BOB, "team-data", title="mine now")
    with pytest.raises(Forbidden):
        datasets.create_dataset(ctx, BOB, "for-dana", owner="dana")
    with pytest.raises(Forbidden):
        datasets.update_dataset(ctx, VAL, "team-data", title="x")  # no dataset:write
    # a data steward curates every dataset; a team member reaches the team's
    assert datasets.update_dataset(ctx, STEVE, "team-data", title="curated").title == "curated"
    teammate = Principal("tess", roles=frozenset({"owner"}), teams=frozenset({"data-office"}))
    assert datasets.update_dataset(ctx, teammate, "team-data", title="t").title == "t"
    # the object is judged before the input: a stranger's bad input is a 403, not a 422
    with pytest.raises(Forbidden):
        datasets.update_dataset(ctx, BOB, "team-data", classification="nonsense")
    with pytest.raises(NotFound):
        datasets.update_dataset(ctx, STEVE, "ghost", title="x")


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"classification": "secret"}, "Unknown classification"),
        ({"retention": "forever"}, "Retention"),
        ({"source": "conn:warehouse#sql=select 1"}, "after '#'"),
        ({"source": "ftp://host/file.csv"}, "use conn:NAME"),
        ({"colour": "red"}, "Unknown dataset field"),
        ({"steward_team": "nobody-team"}, "No team"),
        ({"source": "conn:nowhere#table=public.t"}, "No data connection"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    office: Context, fields: dict[str, str], needle: str
) -> None:
    before = events(office)
    with pytest.raises((InvalidInput, NotFound), match=needle):
        datasets.create_dataset(office, DANA, "bad", **fields)
    assert events(office) == before
    with pytest.raises(NotFound):
        datasets.get_dataset(office, ADMIN, "bad")


def test_a_server_never_records_or_reads_a_file_path_as_a_source(office: Context) -> None:
    remote = dataclasses.replace(office, remote=True)
    with pytest.raises(InvalidInput, match="never reads a file path"):
        datasets.create_dataset(remote, DANA, "local-file", source="/etc/passwd")
    # recorded embedded (the operator holds the machine), still never read by a server
    datasets.create_dataset(office, ADMIN, "local-file", source="/etc/passwd", owner="dana")
    with pytest.raises(InvalidInput, match="never reads a file path"):
        data_quality.snapshot(remote, ADMIN, "local-file")
    assert datasets.versions(office, ADMIN, "local-file") == []
    # s3:// is recordable remotely (metadata), but a server reads it only through a connection
    datasets.create_dataset(remote, DANA, "lake-data", source="s3://bucket/x.parquet")
    with pytest.raises(InvalidInput, match="never reads a file path"):
        data_quality.snapshot(remote, DANA, "lake-data")


def test_a_snapshot_reads_a_folder_connection_on_the_server(
    office: Context, tmp_path: Path
) -> None:
    from steward.services import connections

    root = tmp_path / "lake"
    root.mkdir()
    FRAME.to_parquet(root / "loans.parquet", index=False)
    connections.create_connection(
        office, ADMIN, "lake", kind="folder", location=str(root), teams=["data-office"]
    )
    remote = dataclasses.replace(office, remote=True)
    datasets.create_dataset(remote, DANA, "loans", source="conn:lake#path=loans.parquet")
    snap = data_quality.snapshot(remote, DANA, "loans")
    assert snap.fingerprint == lineage.fingerprint(FRAME)
    assert snap.source == "conn:lake#path=loans.parquet"
    # a caller the connection is not open to cannot read through it
    datasets.update_dataset(office, ADMIN, "loans", owner="bob")
    with pytest.raises(Forbidden, match="may not use connection"):
        data_quality.snapshot(remote, BOB, "loans")


def test_versions_link_to_model_versions_by_fingerprint_and_impact_finds_them(
    office: Context, tmp_path: Path
) -> None:
    ctx = office
    datasets.create_dataset(ctx, DANA, "loans")
    first = data_quality.snapshot(ctx, DANA, "loans", FRAME, source="extract 1")
    second = data_quality.snapshot(ctx, DANA, "loans", FRAME.head(3))
    assert (first.version, second.version) == (1, 2)
    assert first.fingerprint == lineage.fingerprint(FRAME)
    assert first.quality is Quality.UNCHECKED
    assert [c.name for c in first.schema] == ["id", "amount"]
    assert first.rows == 4 and second.rows == 3
    # a model version logged with the same rows links to loans@1 (recorded after it)...
    models.create_model(ctx, ADMIN, "credit", owner="olive")
    training = lineage.describe(FRAME, name="credit-training")
    evaluation = lineage.describe(FRAME.head(3), name="credit-eval")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    made = versions.create_version(
        ctx,
        ADMIN,
        "credit",
        VersionSpec(training_data=training, evaluation_data=evaluation),
        artifact,
    )
    deployments.record_deployment(
        ctx, ADMIN, "credit", environment="prod", sha256=made.artifact.sha256, version=1
    )
    found = datasets.lineage(ctx, ADMIN, "credit", 1)
    assert found.training == ["loans@1"] and found.evaluation == ["loans@2"]
    impact = datasets.impact(ctx, ADMIN, "loans@1")
    assert [(m.model, m.version, m.role) for m in impact.models] == [("credit", 1, "training")]
    assert impact.models[0].deployments and impact.models[0].deployments[0].startswith("prod")
    assert [(m.model, m.role) for m in datasets.impact(ctx, ADMIN, "loans@2").models] == [
        ("credit", "evaluation")
    ]
    # ...and a dataset snapshot taken after the model version links the same way
    datasets.create_dataset(ctx, DANA, "loans-copy")
    data_quality.snapshot(ctx, DANA, "loans-copy", FRAME)
    assert datasets.lineage(ctx, ADMIN, "credit", 1).training == ["loans@1", "loans-copy@1"]
    with pytest.raises(InvalidInput, match="NAME@VERSION"):
        datasets.impact(ctx, ADMIN, "loans")
    with pytest.raises(NotFound):
        datasets.impact(ctx, ADMIN, "loans@9")


def test_a_data_steward_approves_but_never_the_owner(office: Context) -> None:
    ctx = office
    datasets.create_dataset(ctx, DANA, "loans")
    data_quality.snapshot(ctx, DANA, "loans", FRAME)
    with pytest.raises(Forbidden, match="dataset:approve"):
        datasets.approve(ctx, DANA, "loans@1", "mine")  # an owner holds no dataset:approve
    steward_owner = Principal("sam", roles=frozenset({"data_steward"}))
    datasets.create_dataset(ctx, steward_owner, "sams")
    data_quality.snapshot(ctx, steward_owner, "sams", FRAME)
    with pytest.raises(Forbidden, match="segregation of duties"):
        datasets.approve(ctx, steward_owner, "sams@1", "my own")
    approved = datasets.approve(ctx, STEVE, "loans@1", "fit for credit models")
    assert approved.approved and approved.approvals[0].approver == "steve"
    assert approved.approvals[0].roles == ["data_steward"]
    with pytest.raises(Conflict, match="already approved"):
        datasets.approve(ctx, STEVE, "loans@1")
    found = audit.list_events(
        ctx, ADMIN, AuditFilter(action=Action.DATASET_APPROVED.value), limit=5
    )
    assert [(e.actor, e.subject_id) for e in found] == [("steve", "loans@1")]
    assert json.loads(found[0].payload)["comment"] == "fit for credit models"
    assert datasets.get_version(ctx, VAL, "loans@1").approved


def test_a_failed_version_is_not_approved(office: Context) -> None:
    datasets.create_dataset(office, DANA, "loans")
    data_quality.set_rules(office, DANA, "loans", "rules:\n  - kind: row_count\n    min: 100\n")
    snap = data_quality.snapshot(office, DANA, "loans", FRAME)
    assert snap.quality is Quality.FAILED
    with pytest.raises(Conflict, match="failed its quality rules"):
        datasets.approve(office, STEVE, "loans@1")


def test_an_unreadable_source_is_refused_and_nothing_is_written(
    office: Context, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.parquet"
    datasets.create_dataset(office, ADMIN, "gone", source=str(missing), owner="dana")
    with pytest.raises(InvalidInput, match="does not exist"):
        data_quality.snapshot(office, ADMIN, "gone")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    datasets.update_dataset(office, ADMIN, "gone", source=str(broken))
    with pytest.raises(InvalidInput, match="cannot be read"):
        data_quality.snapshot(office, ADMIN, "gone")
    with pytest.raises(InvalidInput, match="records no source"):
        datasets.create_dataset(office, ADMIN, "nosource", owner="dana")
        data_quality.snapshot(office, ADMIN, "nosource")
    assert datasets.versions(office, ADMIN, "gone") == []
    assert datasets.get_dataset(office, ADMIN, "gone").latest_version == 0
