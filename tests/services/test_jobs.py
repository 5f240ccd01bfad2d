"""Background jobs, on SQLite and PostgreSQL: a validation job runs in a worker pass as its
submitter and leaves the same evidence as a foreground run; of two claimers exactly one gets
a job; a job whose worker died is queued again, then failed with the reason; failures are
captured; and a caller can neither reach another model's jobs nor smuggle data or paths in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Clock, ensure_user

from steward import bootstrap
from steward.demo.credit import TARGET, train_credit_model
from steward.domain.audit import AuditFilter
from steward.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from steward.domain.jobs import LEASE, MAX_ATTEMPTS, JobFilter, JobKind, JobStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import audit, checks, identity, jobs, models
from steward.services.context import Context
from steward.settings import Settings

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
OPTIONS = {
    "target": TARGET,
    "sensitive": ["age_in_years", "foreign_worker"],
    "positive_means": "adverse",
}


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Context]:
    clock.now = datetime.now(UTC)  # a validation run stamps its times from the wall clock
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


@pytest.fixture
def credit(timed: Context, tmp_path: Path) -> Path:
    """alice's model ``credit`` with one version; the evaluation data as a Parquet file."""
    ensure_user(timed, "alice", "owner")
    ensure_user(timed, "bob", "owner")
    ensure_user(timed, "vera", "auditor")
    trained = train_credit_model(seed=42, model_kind="logistic")
    st = Steward(LocalBackend(timed, "alice"))
    st.create_model("credit", title="Credit scoring", owner="alice")
    st.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    models.create_model(timed, as_(timed, "bob"), "bobs", owner="bob")
    path = tmp_path / "eval.parquet"
    trained.test.to_parquet(path, index=False)
    return path


def as_(ctx: Context, name: str) -> Principal:
    return identity.principal_for(ctx, name)


def _events(ctx: Context, action: str) -> list[Any]:
    return audit.list_events(ctx, ADMIN, AuditFilter(action=action))


def _validation(ctx: Context, who: Principal, data: Path, **options: object) -> jobs.Job:
    return jobs.submit(
        ctx,
        who,
        JobKind.VALIDATION,
        "credit",
        1,
        {"options": {**OPTIONS, **options}},
        data=jobs.Upload(data, ".parquet"),
    )


def test_a_validation_job_runs_in_a_worker_pass_as_its_submitter(
    timed: Context, credit: Path
) -> None:
    alice = as_(timed, "alice")
    job = _validation(timed, alice, credit)
    assert job.status is JobStatus.QUEUED and job.progress == 0.0 and job.requested_by == "alice"
    assert "data_sha256" in job.params and timed.artifacts.exists(job.params["data_sha256"])
    stages: list[str] = []
    summary = jobs.run_queued(timed, "w1", on_claim=lambda j: stages.append(j.stage))
    assert summary.ran == (job.id,) and summary.failed == (), jobs.get_job(
        timed, alice, job.id
    ).error
    done = jobs.get_job(timed, alice, job.id)
    assert done.status is JobStatus.SUCCEEDED and done.progress == 1.0, done.error
    assert done.attempts == 1 and done.finished_at is not None and stages == ["starting"]
    run = checks.get_run(timed, alice, done.result["check_run"])
    assert run.model == "credit" and run.version == 1 and done.result["passed"] == run.passed
    # submitted and recorded in the journal, the run by the person who asked for it
    submitted = _events(timed, "job.submitted")
    assert [e.actor for e in submitted] == ["alice"]
    recorded = _events(timed, "check_run.recorded")
    assert [e.actor for e in recorded] == ["alice"]
    # a second pass finds nothing to do
    assert jobs.run_queued(timed, "w1").ran == ()


def test_of_two_claimers_exactly_one_gets_the_job(timed: Context, credit: Path) -> None:
    job = _validation(timed, as_(timed, "alice"), credit)
    barrier = threading.Barrier(2)
    won: dict[str, bool] = {}

    def claimer(name: str) -> None:
        barrier.wait()
        won[name] = jobs.claim(timed, job.id, name) is not None

    threads = [threading.Thread(target=claimer, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won.values()) == [False, True]
    holder = jobs.get_job(timed, ADMIN, job.id)
    assert holder.status is JobStatus.RUNNING and holder.worker == next(
        n for n, w in won.items() if w
    )
    # and the loser's pass, finding it taken, runs nothing
    assert jobs.run_queued(timed, "w3").ran == ()


def test_a_job_whose_worker_died_is_queued_again_then_failed(
    timed: Context, clock: Clock, credit: Path
) -> None:
    job = _validation(timed, as_(timed, "alice"), credit)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert jobs.claim(timed, job.id, f"dead-{attempt}") is not None  # then it "dies"
        assert jobs.reclaim_expired(timed) == ([], [])  # its lease still holds
        clock.advance(seconds=LEASE.total_seconds() + 1)
        requeued, failed = jobs.reclaim_expired(timed)
        found = jobs.get_job(timed, ADMIN, job.id)
        assert found.attempts == attempt and f"dead-{attempt}" in found.error
        if attempt < MAX_ATTEMPTS:
            assert requeued == [job.id] and found.status is JobStatus.QUEUED
            assert "queued again" in found.error
        else:
            assert failed == [job.id] and found.status is JobStatus.FAILED
            assert "stopped reporting" in found.error and found.finished_at is not None
    # the dead worker, should it wake up, may no longer write to the job
    assert not jobs.claim(timed, job.id, "late")


def test_a_failing_job_is_captured_with_the_use_cases_words(timed: Context, credit: Path) -> None:
    job = _validation(timed, as_(timed, "alice"), credit, target="no_such_column")
    summary = jobs.run_queued(timed, "w1")
    assert summary.failed == (job.id,)
    found = jobs.get_job(timed, ADMIN, job.id)
    assert found.status is JobStatus.FAILED and "no_such_column" in found.error
    assert found.result == {} and found.finished_at is not None


def test_a_right_withdrawn_before_the_job_runs_is_honoured(timed: Context, credit: Path) -> None:
    # submitted through the server: it runs with alice's grants, not an operator's
    job = _validation(replace(timed, remote=True), as_(timed, "alice"), credit)
    identity.revoke_role(timed, ADMIN, "alice", "owner")
    jobs.run_queued(timed, "w1")
    found = jobs.get_job(timed, ADMIN, job.id)
    assert found.status is JobStatus.FAILED and "check:run" in found.error


def test_cancel_a_queued_job_and_ask_a_running_one_to_stop(timed: Context, credit: Path) -> None:
    alice = as_(timed, "alice")
    queued = _validation(timed, alice, credit)
    assert jobs.cancel(timed, alice, queued.id).status is JobStatus.CANCELLED
    with pytest.raises(Conflict):
        jobs.cancel(timed, alice, queued.id)
    running = _validation(timed, alice, credit)
    claimed = jobs.claim(timed, running.id, "w1")
    assert claimed is not None
    asked = jobs.cancel(timed, alice, running.id)
    assert asked.status is JobStatus.RUNNING and asked.cancel_requested
    assert jobs.run_claimed(timed, claimed, "w1") is JobStatus.CANCELLED
    assert jobs.get_job(timed, alice, running.id).status is JobStatus.CANCELLED
    cancelled = _events(timed, "job.cancelled")
    assert len(cancelled) == 2


def test_another_owner_can_neither_submit_nor_cancel_on_alices_model(
    timed: Context, credit: Path
) -> None:
    bob, vera = as_(timed, "bob"), as_(timed, "vera")
    with pytest.raises(Forbidden):
        _validation(timed, bob, credit)
    with pytest.raises(Forbidden):  # an auditor may not run validation at all
        _validation(timed, vera, credit)
    with pytest.raises(Forbidden):
        jobs.submit(timed, bob, JobKind.EVIDENCE_PACK, "credit")
    job = _validation(timed, as_(timed, "alice"), credit)
    with pytest.raises(Forbidden):
        jobs.cancel(timed, bob, job.id)
    # reading the inventory is shared: bob sees the job, but not a job that does not exist
    assert jobs.get_job(timed, bob, job.id).id == job.id
    with pytest.raises(NotFound):
        jobs.get_job(timed, bob, "job_0000000000000000")
    assert [j.id for j in jobs.list_jobs(timed, bob, JobFilter(model="credit"))] == [job.id]
    assert jobs.list_jobs(timed, bob, JobFilter(model="bobs")) == []
    # nothing was queued by the refused submissions
    assert len(jobs.list_jobs(timed, ADMIN)) == 1


def test_params_are_known_fields_only_and_never_a_path_or_a_blob(
    timed: Context, credit: Path
) -> None:
    alice = as_(timed, "alice")
    # the digest of a blob (another model's artifact, say) is never taken from a caller
    with pytest.raises(InvalidInput, match="data_sha256"):
        jobs.submit(
            timed, alice, "validation", "credit", 1, {"data_sha256": "0" * 64, "options": {}}
        )
    with pytest.raises(InvalidInput, match="suite"):
        _validation(timed, alice, credit, suite="/etc/passwd")
    with pytest.raises(InvalidInput, match="Unknown validation option"):
        _validation(timed, alice, credit, code="import os")
    with pytest.raises(InvalidInput, match="data file"):
        jobs.submit(timed, alice, "validation", "credit", 1, {"options": OPTIONS})
    with pytest.raises(InvalidInput, match="kind"):
        jobs.submit(timed, alice, "shell", "credit")
    with pytest.raises(InvalidInput, match="engine"):
        jobs.submit(timed, alice, "monitor_run", "credit", None, {"monitor": "x", "engine": "sh"})
    with pytest.raises(InvalidInput, match="version"):
        jobs.submit(timed, alice, "model_card_pdf", "credit")
    with pytest.raises(NotFound):
        jobs.submit(timed, alice, "model_card_pdf", "credit", 9)
    text = credit.with_suffix(".txt")
    text.write_bytes(credit.read_bytes())
    with pytest.raises(InvalidInput, match="Parquet"):
        jobs.submit(
            timed,
            alice,
            "validation",
            "credit",
            1,
            {"options": OPTIONS},
            data=jobs.Upload(text, ".txt"),
        )
    assert jobs.list_jobs(timed, ADMIN) == []


def test_a_server_refuses_a_pickle_at_submission(timed: Context, credit: Path) -> None:
    server = replace(timed, remote=True)
    with pytest.raises(Forbidden, match="STEWARD_ALLOW_UNTRUSTED_FORMATS"):
        _validation(server, as_(timed, "alice"), credit, trust_pickle=True)
    assert jobs.list_jobs(timed, ADMIN) == []


def test_a_model_card_pdf_job_stores_the_file_for_those_who_may_read_it(
    timed: Context, credit: Path
) -> None:
    alice = as_(timed, "alice")
    job = jobs.submit(timed, alice, JobKind.MODEL_CARD_PDF, "credit", 1)
    with pytest.raises(Conflict):
        jobs.result_file(timed, alice, job.id)  # not made yet
    jobs.run_queued(timed, "w1")
    found = jobs.get_job(timed, alice, job.id)
    assert found.status is JobStatus.SUCCEEDED, found.error
    made = jobs.result_file(timed, as_(timed, "vera"), job.id)
    assert made.media_type == "application/pdf" and made.filename.endswith(".pdf")
    with timed.artifacts.open(made.sha256) as fh:
        assert fh.read(5) == b"%PDF-"


def test_a_monitor_run_job_runs_that_monitor_and_no_other_models(
    timed: Context, credit: Path, tmp_path: Path
) -> None:
    from steward.demo.credit import load_german_credit
    from steward.monitoring.batches import build_reference
    from steward.services import monitoring

    st = Steward(LocalBackend(timed, "admin"))
    for stage in ("validation", "approved", "production"):
        st.transition("credit", 1, to=stage, justification="test")
    data = load_german_credit()
    batch = tmp_path / "batch.parquet"
    data.iloc[600:800].to_parquet(batch)
    config = {"columns": ["age_in_years", "credit_amount"]}
    reference = build_reference(data.iloc[:600], monitoring.rules.parse_config(config))
    monitor = monitoring.create_monitor(
        timed,
        ADMIN,
        "credit",
        1,
        name="drift",
        config={**config, "source": str(batch)},
        reference=reference,
    )
    # bob may run monitors on his own model, but not reach alice's monitor through it
    with pytest.raises(InvalidInput, match="watches model 'credit'"):
        jobs.submit(timed, as_(timed, "bob"), "monitor_run", "bobs", None, {"monitor": monitor.id})
    job = jobs.submit(timed, ADMIN, "monitor_run", "credit", None, {"monitor": monitor.id})
    assert job.version == 1 and job.params == {"monitor": monitor.id}
    jobs.run_queued(timed, "w1")
    done = jobs.get_job(timed, ADMIN, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert [r.id for r in monitoring.list_runs(timed, ADMIN, monitor.id)] == [
        done.result["monitor_run"]
    ]
