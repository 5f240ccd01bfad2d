"""Model versions: numbering, metadata validation, tag search, listing, aliases, datasets."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Table, func, select

from steward.artifacts.store import sha256_file
from steward.domain.audit import Action, AuditFilter
from steward.domain.entities import DatasetVersion, ModelVersion
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets
from steward.services import audit, models, versions
from steward.services.context import Context
from steward.store import tables as t
from steward.store.versions_repo import VersionRepository

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MakeFile = Callable[[bytes, str], Path]


@pytest.fixture
def blob(make_file: MakeFile) -> Path:
    return make_file(b"weights", "model.bin")


def _new(ctx: Context, alice: Principal, model: str, blob: Path, **spec: object) -> int:
    return versions.create_version(ctx, alice, model, VersionSpec(**spec), blob).version  # type: ignore[arg-type]


def _count(ctx: Context, table: Table) -> int:
    with ctx.uow.read() as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())


def _events(ctx: Context, alice: Principal, action: Action) -> list[dict[str, object]]:
    found = audit.list_events(ctx, alice, AuditFilter(action=action.value), 1000)
    return [e.payload_dict() for e in found]


# -- numbering and metadata -----------------------------------------------------------


def test_versions_are_numbered_one_to_n_per_model(
    ctx: Context, alice: Principal, blob: Path
) -> None:
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    assert [_new(ctx, alice, "a", blob) for _ in range(3)] == [1, 2, 3]
    assert [_new(ctx, alice, "b", blob) for _ in range(2)] == [1, 2]
    assert _new(ctx, alice, "a", blob) == 4
    assert models.get_model(ctx, alice, "a").latest_version == 4
    assert models.get_model(ctx, alice, "b").latest_version == 2
    assert _count(ctx, t.model_versions) == 6


def test_version_records_its_metadata(ctx: Context, alice: Principal, blob: Path) -> None:
    models.create_model(ctx, alice, "churn")
    created = versions.create_version(
        ctx,
        alice,
        "churn",
        VersionSpec(
            filename="model.bin",
            description="first",
            params={"depth": 3, "solver": "lbfgs", "layers": [8, 4], "extra": {"a": None}},
            metrics={"auc": 0.91, "count": 12},
            tags={"team": "growth", "git:sha": "abc"},
        ),
        blob,
    )
    assert created.version == 1
    assert created.stage is Stage.DEVELOPMENT
    assert created.params == {"depth": 3, "solver": "lbfgs", "layers": [8, 4], "extra": {"a": None}}
    assert created.metrics == {"auc": 0.91, "count": 12.0}
    assert isinstance(created.metrics["count"], float)
    assert created.tags == {"git:sha": "abc", "team": "growth"}
    assert created.artifact.sha256 == sha256_file(blob)[0]
    assert created.artifact.size == len(b"weights")
    assert created.created_by == "alice"
    assert versions.get_version(ctx, alice, "churn", 1) == created
    (event,) = _events(ctx, alice, Action.VERSION_CREATED)
    assert event["version"] == 1
    assert event["metrics"] == {"auc": 0.91, "count": 12.0}
    assert event["tags"] == {"git:sha": "abc", "team": "growth"}


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (dict(metrics={"auc": math.nan}), "Metric 'auc' is nan; metrics must be finite"),
        (dict(metrics={"loss": math.inf}), "Metric 'loss' is inf; metrics must be finite"),
        (dict(metrics={"auc": "0.9"}), "Metric 'auc' must be a number, got str"),
        (dict(metrics={"ok": True}), "Metric 'ok' must be a number, got bool"),
        (dict(metrics={"bad key": 1.0}), "Invalid tag 'bad key'"),
        (dict(tags={"-x": "1"}), "Invalid tag '-x'"),
        (dict(tags={"a b": "1"}), "Invalid tag 'a b'"),
        (dict(tags={"team": 3}), "Tag 'team' must have a string value, got int"),
        (dict(params={"when": object()}), "params must be JSON values"),
        (dict(params={"x": math.nan}), "params must be JSON values"),
        (dict(params=[1, 2]), "params must be a JSON object"),
        (dict(parent_version=0), "parent_version must be a positive integer"),
        (dict(filename="a/b.bin"), "Invalid artifact file name 'a/b.bin'"),
    ],
)
def test_invalid_metadata_is_refused_and_nothing_is_stored(
    ctx: Context, alice: Principal, blob: Path, spec: dict[str, object], message: str
) -> None:
    models.create_model(ctx, alice, "churn")
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        versions.create_version(ctx, alice, "churn", VersionSpec(**spec), blob)  # type: ignore[arg-type]
    assert _count(ctx, t.model_versions) == 0
    assert models.get_model(ctx, alice, "churn").latest_version == 0
    assert list((ctx.settings.home / "artifacts").rglob("*")) == []


@SQLITE_ONLY
def test_unknown_model_or_version_is_not_found(ctx: Context, alice: Principal, blob: Path) -> None:
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        versions.create_version(ctx, alice, "nope", VersionSpec(), blob)
    assert list((ctx.settings.home / "artifacts").rglob("*")) == []
    models.create_model(ctx, alice, "churn")
    with pytest.raises(NotFound, match="Model 'churn' has no version 1"):
        versions.get_version(ctx, alice, "churn", 1)


# -- search and listing ----------------------------------------------------------------


def test_search_by_tag_key_and_key_value_across_models(
    ctx: Context, alice: Principal, blob: Path
) -> None:
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    _new(ctx, alice, "a", blob, tags={"dataset": "2024-q1", "gpu": "yes"})  # a/1
    _new(ctx, alice, "a", blob, tags={"dataset": "2024-q2"})  # a/2
    _new(ctx, alice, "b", blob, tags={"dataset": "2024-q1"})  # b/1
    _new(ctx, alice, "b", blob)  # b/2

    def found(tag: str) -> list[tuple[str, int]]:
        page = versions.list_versions(ctx, alice, None, tag=tag)
        return [(v.model, v.version) for v in page.items]

    assert found("dataset") == [("b", 1), ("a", 2), ("a", 1)]
    assert found("dataset=2024-q1") == [("b", 1), ("a", 1)]
    assert found("dataset=2024-q3") == []
    assert found("gpu") == [("a", 1)]
    assert found("dataset=") == []  # empty value is a value, not "any"
    with pytest.raises(InvalidInput, match="Invalid tag"):
        found("bad key=x")
    page = versions.list_versions(ctx, alice, "b", tag="dataset")
    assert [(v.model, v.version) for v in page.items] == [("b", 1)]


def test_list_per_model_newest_first_with_cursor_pagination(
    ctx: Context, alice: Principal, blob: Path
) -> None:
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "other")
    for i in range(7):
        _new(ctx, alice, "a", blob)
        if i % 2 == 0:
            _new(ctx, alice, "other", blob)

    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = versions.list_versions(ctx, alice, "a", limit=3, cursor=cursor)
        pages += 1
        assert all(v.model == "a" for v in page.items)
        seen.extend(v.version for v in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3

    six = versions.list_versions(ctx, alice, "a", limit=6)
    assert [v.version for v in six.items] == [7, 6, 5, 4, 3, 2]
    last = versions.list_versions(ctx, alice, "a", limit=6, cursor=six.next_cursor)
    assert [v.version for v in last.items] == [1]
    assert last.next_cursor is None
    with pytest.raises(InvalidInput, match="Invalid cursor"):
        versions.list_versions(ctx, alice, "a", cursor="abc")
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        versions.list_versions(ctx, alice, "nope")


# -- aliases -------------------------------------------------------------------------


def test_aliases_move_and_are_audited(ctx: Context, alice: Principal, blob: Path) -> None:
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    for _ in range(3):
        _new(ctx, alice, "a", blob)
    _new(ctx, alice, "b", blob)

    set1 = versions.set_alias(ctx, alice, "a", "champion", 1)
    assert set1.version == 1
    assert set1.aliases == ["champion"]
    versions.set_alias(ctx, alice, "a", "challenger", 2)
    versions.set_alias(ctx, alice, "b", "champion", 1)  # same name on another model
    assert versions.list_aliases(ctx, alice, "a") == {"challenger": 2, "champion": 1}
    assert versions.list_aliases(ctx, alice, "b") == {"champion": 1}
    assert versions.get_by_alias(ctx, alice, "a", "champion").version == 1

    moved = versions.set_alias(ctx, alice, "a", "champion", 3)
    assert moved.version == 3
    assert moved.aliases == ["champion"]
    assert versions.get_version(ctx, alice, "a", 1).aliases == []
    assert versions.get_by_alias(ctx, alice, "a", "champion").version == 3
    # unique per model: one alias names one version
    assert versions.list_aliases(ctx, alice, "a") == {"challenger": 2, "champion": 3}

    # setting it to where it already is writes nothing
    versions.set_alias(ctx, alice, "a", "champion", 3)
    events = _events(ctx, alice, Action.ALIAS_SET)
    assert len(events) == 4
    assert events[-1] == {"model": "a", "alias": "champion", "before": 1, "after": 3}
    assert events[0] == {"model": "a", "alias": "champion", "before": None, "after": 1}

    versions.delete_alias(ctx, alice, "a", "champion")
    assert versions.list_aliases(ctx, alice, "a") == {"challenger": 2}
    assert _events(ctx, alice, Action.ALIAS_DELETED) == [
        {"model": "a", "alias": "champion", "before": 3, "after": None}
    ]
    with pytest.raises(NotFound, match="Model 'a' has no alias 'champion'"):
        versions.get_by_alias(ctx, alice, "a", "champion")
    with pytest.raises(NotFound, match="Model 'a' has no alias 'champion'"):
        versions.delete_alias(ctx, alice, "a", "champion")
    assert versions.get_by_alias(ctx, alice, "b", "champion").version == 1


@SQLITE_ONLY
def test_alias_validation(ctx: Context, alice: Principal, blob: Path) -> None:
    models.create_model(ctx, alice, "a")
    _new(ctx, alice, "a", blob)
    for bad in ("Champion", "1st", "42", "has space", "", "x" * 64, "a.b"):
        with pytest.raises(InvalidInput, match="Invalid alias"):
            versions.set_alias(ctx, alice, "a", bad, 1)
    with pytest.raises(InvalidInput, match="Alias 'latest' is reserved"):
        versions.set_alias(ctx, alice, "a", "latest", 1)
    with pytest.raises(NotFound, match="Model 'a' has no version 9"):
        versions.set_alias(ctx, alice, "a", "champion", 9)
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        versions.set_alias(ctx, alice, "nope", "champion", 1)
    assert versions.list_aliases(ctx, alice, "a") == {}
    assert _events(ctx, alice, Action.ALIAS_SET) == []
    assert versions.set_alias(ctx, alice, "a", "x" * 63, 1).aliases == ["x" * 63]


# -- datasets and parents ----------------------------------------------------------------


def test_dataset_versions_are_deduplicated_by_fingerprint(
    ctx: Context, alice: Principal, blob: Path
) -> None:
    frame = pd.DataFrame({"age": [31, 45, 22], "income": [1.5, 2.5, 3.0]})
    train = datasets.describe(frame, name="train")
    same_again = datasets.describe(frame.copy(), name="train-copy")
    other = datasets.describe(frame.assign(age=[31, 45, 23]), name="eval")
    assert train.fingerprint == same_again.fingerprint != other.fingerprint

    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    v1 = versions.create_version(
        ctx, alice, "a", VersionSpec(training_data=train, evaluation_data=other), blob
    )
    v2 = versions.create_version(ctx, alice, "b", VersionSpec(training_data=same_again), blob)
    v3 = versions.create_version(ctx, alice, "a", VersionSpec(evaluation_data=train), blob)
    assert _count(ctx, t.dataset_versions) == 2
    assert v1.training_data is not None and v1.evaluation_data is not None
    assert v1.training_data.fingerprint == train.fingerprint
    assert v1.training_data.name == "train"
    # the second registration reuses the first record (first name wins)
    assert v2.training_data == v1.training_data
    assert v3.evaluation_data == v1.training_data
    assert v1.evaluation_data.fingerprint == other.fingerprint
    assert v1.training_data.rows == 3 and v1.training_data.columns == 2
    assert v1.training_data.profile["age"]["max"] == 45.0


def test_parent_version_must_exist(ctx: Context, alice: Principal, blob: Path) -> None:
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    _new(ctx, alice, "a", blob)
    with pytest.raises(InvalidInput, match="Parent version 2 of 'a' does not exist"):
        _new(ctx, alice, "a", blob, parent_version=2)
    with pytest.raises(InvalidInput, match="Parent version 1 of 'b' does not exist"):
        _new(ctx, alice, "b", blob, parent_version=1)
    assert _new(ctx, alice, "a", blob, parent_version=1) == 2
    assert versions.get_version(ctx, alice, "a", 2).parent_version == 1
    assert models.get_model(ctx, alice, "b").latest_version == 0


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_versions_with_the_same_new_dataset_share_one_record(
    ctx: Context, alice: Principal, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two transactions both miss the fingerprint, then both insert it: neither fails."""
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    train = datasets.describe(pd.DataFrame({"x": [1, 2, 3]}), name="train")
    both_looked = threading.Barrier(2, timeout=30)
    original = VersionRepository.upsert_dataset

    def upsert(self: VersionRepository, ds: DatasetVersion, now: datetime) -> int:
        both_looked.wait()  # both transactions are open and have not inserted yet
        return original(self, ds, now)

    monkeypatch.setattr(VersionRepository, "upsert_dataset", upsert)
    results: dict[str, object] = {}

    def log(model: str) -> None:
        try:
            results[model] = versions.create_version(
                ctx, alice, model, VersionSpec(training_data=train), make_file(model.encode(), "m")
            )
        except BaseException as exc:
            results[model] = exc

    threads = [threading.Thread(target=log, args=(m,)) for m in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    created = [results["a"], results["b"]]
    assert all(isinstance(v, ModelVersion) for v in created), created
    a, b = (v for v in created if isinstance(v, ModelVersion))
    assert a.training_data is not None and b.training_data is not None
    assert a.training_data.fingerprint == b.training_data.fingerprint == train.fingerprint
    assert _count(ctx, t.dataset_versions) == 1
    assert audit.verify(ctx, alice).ok


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_alias_moves_are_serialised(
    ctx: Context, alice: Principal, blob: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clients point a new alias at different versions at once: both succeed, in order."""
    models.create_model(ctx, alice, "a")
    _new(ctx, alice, "a", blob)
    _new(ctx, alice, "a", blob)
    second_read = threading.Event()
    original = VersionRepository.alias_target

    def alias_target(self: VersionRepository, model_id: int, alias: str) -> int | None:
        found = original(self, model_id, alias)
        if threading.current_thread().name == "first":
            second_read.wait(1.0)  # let the second client read the same (missing) alias
        elif threading.current_thread().name == "second":
            second_read.set()
        return found

    monkeypatch.setattr(VersionRepository, "alias_target", alias_target)
    errors: list[BaseException] = []

    def point(version: int) -> None:
        try:
            versions.set_alias(ctx, alice, "a", "champion", version)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=point, args=(1,), name="first")
    second = threading.Thread(target=point, args=(2,), name="second")
    first.start()
    time.sleep(0.2)
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    assert [(e["before"], e["after"]) for e in _events(ctx, alice, Action.ALIAS_SET)] == [
        (None, 1),
        (1, 2),
    ]
    assert versions.list_aliases(ctx, alice, "a") == {"champion": 2}
