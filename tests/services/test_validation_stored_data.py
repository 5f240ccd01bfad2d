"""Validation jobs on data the server already holds, on SQLite and PostgreSQL: a registered
dataset version (NAME@VERSION) or the version's own training / evaluation data (the
registered dataset version with its rows), read by the worker through the dataset's data
connection as the person who asked. Nothing a caller sends is a path; whoever may not use
the data's connection is refused (403) before anything is queued, a dataset that does not
exist is 404, and rows that changed since the snapshot fail the job instead of being
validated under the old name. The numbers equal those of the same rows uploaded."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli.helpers import flat, ok, run
from tests.conftest import Clock, LiveServer, ensure_user

import steward
from steward import bootstrap
from steward.demo.credit import TARGET, train_credit_model
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.jobs import JobFilter, JobKind, JobStatus, parse_stored_data
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import (
    checks,
    connections,
    data_quality,
    datasets,
    identity,
    jobs,
    tokens,
    versions,
)
from steward.services.context import Context
from steward.settings import Settings

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
OPTIONS = {"target": TARGET, "sensitive": ["age_in_years"], "positive_means": "adverse"}


def hold_data(ctx: Context, lake: Path, vault: Path) -> Any:
    """alice (team credit-team) owns ``credit`` v1, whose training data is the registered
    ``credit-train@1``; ``credit-eval@1`` is read through connection ``lake`` (open to
    credit-team); ``secret-eval@1`` through ``vault`` (open to team risk-only)."""
    identity.create_team(ctx, ADMIN, "credit-team")
    identity.create_team(ctx, ADMIN, "risk-only")
    ensure_user(ctx, "alice", "owner", teams=("credit-team",))
    ensure_user(ctx, "bob", "owner")
    trained = train_credit_model(seed=42, model_kind="logistic")
    for folder in (lake, vault):
        folder.mkdir(parents=True, exist_ok=True)
        trained.test.to_parquet(folder / "eval.parquet", index=False)
    trained.train.to_parquet(lake / "train.parquet", index=False)
    connections.create_connection(
        ctx, ADMIN, "lake", kind="folder", location=str(lake), teams=["credit-team"]
    )
    connections.create_connection(
        ctx, ADMIN, "vault", kind="folder", location=str(vault), teams=["risk-only"]
    )
    for name, where in (
        ("credit-eval", "conn:lake#path=eval.parquet"),
        ("credit-train", "conn:lake#path=train.parquet"),
        ("secret-eval", "conn:vault#path=eval.parquet"),
    ):
        datasets.create_dataset(ctx, ADMIN, name, source=where)
        data_quality.snapshot(ctx, ADMIN, name)
    st = Steward(LocalBackend(ctx, "alice"))
    st.create_model("credit", title="Credit scoring", owner="alice", team="credit-team")
    st.log_version("credit", trained.model, target=TARGET, capture_git=False)
    versions.amend_version(
        ctx,
        ADMIN,
        "credit",
        1,
        justification="the registered training rows",
        training_data=datasets.as_version_data(ctx, ADMIN, "credit-train@1"),
    )
    return trained


@pytest.fixture
def held(settings: Settings, clock: Clock, tmp_path: Path) -> Iterator[tuple[Context, Any]]:
    clock.now = datetime.now(UTC)  # a validation run stamps its times from the wall clock
    context = bootstrap.build(settings, migrate=True, clock=clock)
    trained = hold_data(context, tmp_path / "lake", tmp_path / "vault")
    yield dataclasses.replace(context, remote=True), trained
    context.uow.engine.dispose()


def _alice(ctx: Context) -> Principal:
    return identity.principal_for(ctx, "alice", operator=False)


def _submit(ctx: Context, who: Principal, **params: Any) -> jobs.Job:
    return jobs.submit(ctx, who, JobKind.VALIDATION, "credit", 1, {"options": OPTIONS, **params})


def test_names_are_parsed_never_followed_as_paths() -> None:
    assert parse_stored_data("training").role == "training"
    named = parse_stored_data("credit-eval@3")
    assert (named.dataset, named.version, named.ref) == ("credit-eval", 3, "credit-eval@3")
    for text in ("/etc/passwd", "../eval.parquet", "s3://bucket/x", "conn:lake#path=x", "x@0"):
        with pytest.raises(InvalidInput, match="does not name data the server holds"):
            parse_stored_data(text)


def test_a_job_validates_a_dataset_version_and_the_versions_own_training_data(
    held: tuple[Context, Any], tmp_path: Path
) -> None:
    ctx, trained = held
    alice = _alice(ctx)
    job = _submit(ctx, alice, data="credit-eval@1", reference="training")
    assert job.params["data_dataset"] == "credit-eval@1"
    assert job.params["reference_dataset"] == "credit-train@1"  # the version's own, resolved
    assert "data_sha256" not in job.params  # nothing uploaded, nothing copied
    summary = jobs.run_queued(ctx, "w1")
    done = jobs.get_job(ctx, alice, job.id)
    assert summary.ran == (job.id,) and done.status is JobStatus.SUCCEEDED, done.error
    run_held = checks.get_run(ctx, alice, done.result["check_run"])
    # the same rows uploaded give the same numbers
    upload = tmp_path / "eval.parquet"
    trained.test.to_parquet(upload, index=False)
    reference = tmp_path / "train.parquet"
    trained.train.to_parquet(reference, index=False)
    same = jobs.submit(
        ctx, alice, JobKind.VALIDATION, "credit", 1, {"options": OPTIONS},
        data=jobs.Upload(upload, ".parquet"), reference=jobs.Upload(reference, ".parquet"),
    )
    jobs.run_queued(ctx, "w1")
    run_upload = checks.get_run(ctx, alice, jobs.get_job(ctx, alice, same.id).result["check_run"])
    held_values = {r.name: repr(r.value) for r in run_held.results}  # repr: nan equals nan
    upload_values = {r.name: repr(r.value) for r in run_upload.results}
    assert held_values == upload_values and "performance.roc_auc" in held_values


def test_refusals_come_before_anything_is_queued(held: tuple[Context, Any], tmp_path: Path) -> None:
    ctx, _ = held
    alice = _alice(ctx)
    with pytest.raises(Forbidden, match="may not use connection 'vault'"):
        _submit(ctx, alice, data="secret-eval@1")  # another team's data
    with pytest.raises(NotFound, match="'nope' does not exist"):
        _submit(ctx, alice, data="nope@1")
    with pytest.raises(NotFound, match="has no version 7"):
        _submit(ctx, alice, data="credit-eval@7")
    with pytest.raises(InvalidInput, match="does not name data the server holds"):
        _submit(ctx, alice, data="/srv/steward/home/steward.db")
    with pytest.raises(InvalidInput, match="has no evaluation data the server holds"):
        _submit(ctx, alice, data="evaluation")
    upload = tmp_path / "x.csv"
    upload.write_text("a\n1\n")
    with pytest.raises(InvalidInput, match="not both"):
        jobs.submit(
            ctx, alice, JobKind.VALIDATION, "credit", 1, {"data": "credit-eval@1"},
            data=jobs.Upload(upload, ".csv"),
        )
    # bob may not validate alice's model at all: refused on the model, before the data
    with pytest.raises(Forbidden, match="check:run"):
        _submit(ctx, identity.principal_for(ctx, "bob", operator=False), data="credit-eval@1")
    # a path source is the embedded operator's only: a server refuses it
    embedded = dataclasses.replace(ctx, remote=False)  # where a path source is recorded
    datasets.create_dataset(embedded, ADMIN, "on-disk", source=str(tmp_path / "x.csv"))
    data_quality.snapshot(embedded, ADMIN, "on-disk", tmp_path / "x.csv")
    with pytest.raises(InvalidInput, match="only the embedded store's operator may read"):
        _submit(ctx, alice, data="on-disk@1")
    assert jobs.list_jobs(ctx, ADMIN, JobFilter()) == []


def test_rows_that_changed_since_the_snapshot_fail_the_job(
    held: tuple[Context, Any], tmp_path: Path
) -> None:
    ctx, trained = held
    alice = _alice(ctx)
    job = _submit(ctx, alice, data="credit-eval@1")
    trained.test.head(50).to_parquet(tmp_path / "lake" / "eval.parquet", index=False)
    jobs.run_queued(ctx, "w1")
    done = jobs.get_job(ctx, alice, job.id)
    assert done.status is JobStatus.FAILED
    assert "no longer credit-eval@1's" in done.error


def test_rest_and_the_remote_sdk(held: tuple[Context, Any]) -> None:
    ctx, _ = held
    with LiveServer(ctx) as server:
        token = tokens.create_token(ctx, ADMIN, user="alice", name="t").token
        auth = {"Authorization": f"Bearer {token}"}
        client = steward.connect(server.url, token=token)
        try:
            job = client.submit_validation(
                "credit", 1, stored_data="credit-eval@1", stored_reference="training",
                target=TARGET, sensitive_features=["age_in_years"], positive_means="adverse",
            )
            assert job.params["data_dataset"] == "credit-eval@1"
            with pytest.raises(InvalidInput, match="not both"):
                client.submit_validation("credit", 1, data="x.csv", stored_data="credit-eval@1")
        finally:
            client.close()
        body = {"kind": "validation", "model": "credit", "version": 1,
                "params": {"data": "credit-eval@1", "options": OPTIONS}}
        queued = httpx.post(f"{server.url}/api/v1/jobs", json=body, headers=auth)
        assert queued.status_code == 202, queued.text
        assert queued.json()["params"]["data_dataset"] == "credit-eval@1"
        refused = httpx.post(
            f"{server.url}/api/v1/models/credit/versions/1/validation-jobs",
            data={"options": "{}", "stored_data": "secret-eval@1"}, headers=auth,
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "may not use connection 'vault'" in refused.json()["detail"]
        missing = httpx.post(
            f"{server.url}/api/v1/jobs", headers=auth,
            json={**body, "params": {"data": "nope@1"}},
        )
        assert missing.status_code == 404
        path = httpx.post(
            f"{server.url}/api/v1/jobs", headers=auth,
            json={**body, "params": {"data": "/etc/passwd"}},
        )
        assert path.status_code == 422 and "does not name data" in path.json()["detail"]
        bare = httpx.post(
            f"{server.url}/api/v1/jobs", headers=auth, json={**body, "params": {}}
        )
        assert bare.status_code == 422 and "params.data" in bare.text
    summary = jobs.run_queued(ctx, "w1")
    assert len(summary.ran) == 2 and summary.failed == ()


def test_the_cli_queues_validation_on_data_the_server_holds(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ok(home, "model", "list")  # creates the store
    client = steward.connect(home=str(home), actor="admin")
    try:
        ctx = client._backend.ctx  # type: ignore[attr-defined]
        hold_data(ctx, tmp_path / "lake", tmp_path / "vault")
    finally:
        client.close()
    refused = run(home, "check", "run", "credit", "1", "--stored-data", "credit-eval@1")
    assert refused.exit_code != 0 and "go with --background" in flat(refused.output)
    queued = ok(home, "check", "run", "credit", "1", "--background", "--no-wait",
                "--stored-data", "credit-eval@1", "--stored-reference", "training",
                "--target", TARGET, "--sensitive", "age_in_years", "--positive-means", "adverse")
    assert "Queued job job_" in flat(queued.output)
    submitted = ok(home, "job", "submit", "validation", "credit", "--version", "1", "--no-wait",
                   "--stored-data", "credit-eval@1", "--target", TARGET, "--json")
    assert '"data_dataset": "credit-eval@1"' in submitted.output
    worked = ok(home, "worker", "--once")
    assert "2 ran" in flat(worked.output) or "ran 2" in flat(worked.output), worked.output
