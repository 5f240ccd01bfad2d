"""A version that fails after its artifact was uploaded leaves no trace: no row, no blob, no event.

Failures are injected into Steward's own unit of work and repository on purpose (that is the
point of these tests); everything else is real: both databases, a local folder and a moto S3.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Table, func, select

from steward import bootstrap
from steward.domain.audit import Action
from steward.domain.errors import NotFound
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets
from steward.services import audit, models, versions
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables as t
from steward.store.uow import UnitOfWork
from steward.store.versions_repo import VersionRepository

MakeFile = Callable[[bytes, str], Path]


class Injected(RuntimeError):
    """The failure these tests inject."""


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store_ctx(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Context]:
    """A migrated context whose artifacts live in a local folder or in a fresh S3 bucket."""
    if request.param == "s3":
        import boto3

        endpoint: str = request.getfixturevalue("s3_server")
        bucket = f"steward-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=bucket
        )
        monkeypatch.setenv("STEWARD_S3_ENDPOINT_URL", endpoint)
        settings = settings.with_(artifacts_url=f"s3://{bucket}/artifacts")
    context = bootstrap.build(settings, migrate=True)
    yield context
    context.uow.engine.dispose()


def blobs(ctx: Context) -> set[str]:
    """Digests of every blob in the artifact store."""
    fs, root = ctx.artifacts.fs, ctx.artifacts.root
    fs.invalidate_cache()
    if not fs.exists(f"{root}/sha256"):
        return set()
    return {p.rsplit("/", 1)[-1] for p in fs.find(f"{root}/sha256")}


def count(ctx: Context, table: Table) -> int:
    with ctx.uow.read() as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())


def journal(ctx: Context) -> tuple[int, str]:
    with ctx.uow.read() as uow:
        head = uow.audit.head()
        assert head is not None
        return uow.audit.count(), head.hash


def dataset(seed: int) -> Any:
    return datasets.describe(pd.DataFrame({"x": [seed, seed + 1, seed + 2]}), name=f"d{seed}")


def fail_on_version_created(monkeypatch: pytest.MonkeyPatch) -> None:
    original = UnitOfWork.record

    def record(self: UnitOfWork, actor: str, action: Action, *args: Any, **kw: Any) -> Any:
        if action is Action.VERSION_CREATED:
            raise Injected("crash while appending version.created")
        return original(self, actor, action, *args, **kw)

    monkeypatch.setattr(UnitOfWork, "record", record)


def fail_after_insert(monkeypatch: pytest.MonkeyPatch) -> None:
    original = VersionRepository.insert

    def insert(self: VersionRepository, *args: Any, **kw: Any) -> int:
        original(self, *args, **kw)  # the row (and its tags) really are written...
        raise Injected("crash after the version row was inserted")

    monkeypatch.setattr(VersionRepository, "insert", insert)


def interrupt_at_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    original = UnitOfWork.commit

    def commit(self: UnitOfWork) -> None:
        if self.conn.execute(select(func.count()).select_from(t.model_versions)).scalar() == 2:
            raise KeyboardInterrupt  # even a BaseException must not leave anything behind
        original(self)

    monkeypatch.setattr(UnitOfWork, "commit", commit)


INJECTIONS = {
    "record": (fail_on_version_created, Injected),
    "insert": (fail_after_insert, Injected),
    "commit": (interrupt_at_commit, KeyboardInterrupt),
}


def test_failure_after_upload_leaves_nothing_behind(
    store_ctx: Context, alice: Principal, make_file: MakeFile, tmp_path: Path
) -> None:
    ctx = store_ctx
    models.create_model(ctx, alice, "m")
    first = versions.create_version(
        ctx, alice, "m", VersionSpec(training_data=dataset(1)), make_file(b"v1", "m.bin")
    )
    assert first.version == 1
    assert blobs(ctx) == {first.artifact.sha256}
    before_journal = journal(ctx)
    before_model = models.get_model(ctx, alice, "m")

    for name, (inject, exc_type) in INJECTIONS.items():
        data = f"never stored ({name})".encode()
        with pytest.MonkeyPatch.context() as mp:
            inject(mp)
            with pytest.raises(exc_type):
                versions.create_version(
                    ctx,
                    alice,
                    "m",
                    VersionSpec(
                        training_data=dataset(100),
                        evaluation_data=dataset(200),
                        tags={"attempt": name},
                        parent_version=1,
                    ),
                    make_file(data, "m.bin"),
                )
        assert count(ctx, t.model_versions) == 1, name
        assert count(ctx, t.version_tags) == 0, name
        assert count(ctx, t.dataset_versions) == 1, name
        assert models.get_model(ctx, alice, "m") == before_model, name
        assert blobs(ctx) == {first.artifact.sha256}, name
        assert journal(ctx) == before_journal, name
        assert audit.verify(ctx, alice).ok, name
        with pytest.raises(NotFound):
            versions.get_version(ctx, alice, "m", 2)

    # The reserved number was rolled back with the transaction: the next version reuses it.
    second = versions.create_version(
        ctx, alice, "m", VersionSpec(training_data=dataset(100)), make_file(b"v2", "m.bin")
    )
    assert second.version == 2
    assert models.get_model(ctx, alice, "m").latest_version == 2
    assert blobs(ctx) == {first.artifact.sha256, second.artifact.sha256}
    assert count(ctx, t.dataset_versions) == 2
    verification = audit.verify(ctx, alice)
    assert verification.ok
    assert verification.head_seq == before_journal[0] + 1
    out = tmp_path / "v2.bin"
    versions.download_artifact(ctx, alice, "m", 2, out)
    assert out.read_bytes() == b"v2"


def test_a_blob_shared_with_an_earlier_version_survives_a_failed_upload(
    store_ctx: Context,
    alice: Principal,
    make_file: MakeFile,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = store_ctx
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    shared = versions.create_version(ctx, alice, "a", VersionSpec(), make_file(b"same", "m.bin"))
    before_journal = journal(ctx)
    fail_on_version_created(monkeypatch)
    for model in ("a", "b"):  # same model and another model
        with pytest.raises(Injected):
            versions.create_version(ctx, alice, model, VersionSpec(), make_file(b"same", "x.bin"))
    assert blobs(ctx) == {shared.artifact.sha256}
    assert count(ctx, t.model_versions) == 1
    assert journal(ctx) == before_journal
    out = tmp_path / "back.bin"
    versions.download_artifact(ctx, alice, "a", 1, out)
    assert out.read_bytes() == b"same"


def test_a_failed_upload_never_deletes_a_blob_a_concurrent_upload_is_using(
    store_ctx: Context, alice: Principal, make_file: MakeFile, tmp_path: Path
) -> None:
    """A uploads new bytes and fails; B uploads the same bytes meanwhile and succeeds.

    B found the blob already present (A had just written it), so B did not upload it
    again; A's clean-up must not delete the blob B's version now points to.
    """
    ctx = store_ctx
    models.create_model(ctx, alice, "a")
    models.create_model(ctx, alice, "b")
    data = b"uploaded by two clients at once"
    digest = hashlib.sha256(data).hexdigest()
    b_uploaded = threading.Event()
    b_may_continue = threading.Event()
    b_result: dict[str, Any] = {}
    real_put = ctx.artifacts.put
    paused: list[bool] = []

    def put(path: Path, sha256: str) -> bool:
        created = real_put(path, sha256)
        if threading.current_thread().name == "client-b" and not paused:
            paused.append(True)
            b_uploaded.set()
            assert b_may_continue.wait(30)
        return created

    def client_b() -> None:
        try:
            b_result["version"] = versions.create_version(
                ctx, alice, "b", VersionSpec(), make_file(data, "b.bin")
            )
        except BaseException as exc:  # surfaced by the assertion below
            b_result["error"] = exc

    thread = threading.Thread(target=client_b, name="client-b")
    original_record = UnitOfWork.record

    def record(self: UnitOfWork, actor: str, action: Action, *args: Any, **kw: Any) -> Any:
        if action is Action.VERSION_CREATED and args[1] == "a/1":
            # A has uploaded and is about to commit: B now uploads the same bytes.
            thread.start()
            assert b_uploaded.wait(30)
            raise Injected("A crashes")
        return original_record(self, actor, action, *args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ctx.artifacts, "put", put)
        mp.setattr(UnitOfWork, "record", record)
        with pytest.raises(Injected):
            versions.create_version(ctx, alice, "a", VersionSpec(), make_file(data, "a.bin"))
        b_may_continue.set()
        thread.join(60)
    assert not thread.is_alive()
    assert "error" not in b_result, b_result.get("error")
    assert b_result["version"].artifact.sha256 == digest
    assert blobs(ctx) == {digest}
    out = tmp_path / "b.bin"
    versions.download_artifact(ctx, alice, "b", 1, out)
    assert out.read_bytes() == data
    assert models.get_model(ctx, alice, "a").latest_version == 0
