"""Jobs over HTTP: the remote SDK submits (uploading a validation job's data), the worker
runs the job, the SDK follows it to its stored result; bad and hostile requests are
problem+json, and another owner can neither submit on nor cancel someone else's model."""

from __future__ import annotations

import httpx
import pytest
from tests.conftest import LiveServer, ensure_user

from steward.demo.credit import TARGET, train_credit_model
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.jobs import JobStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import jobs, tokens
from steward.services.context import Context

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def credit(remote: Steward) -> object:
    trained = train_credit_model(seed=42, model_kind="logistic")
    remote.create_model("credit", title="Credit")
    remote.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    return trained


def _token(ctx: Context, user: str, role: str) -> str:
    ensure_user(ctx, user, role)
    return tokens.create_token(ctx, ADMIN, user=user, name="tests").token


def test_a_validation_job_submitted_over_http_runs_in_the_worker(
    remote: Steward, ctx: Context, credit: object
) -> None:
    job = remote.submit_validation(
        "credit",
        1,
        data=credit.test,  # type: ignore[attr-defined]
        target=TARGET,
        sensitive_features=["age_in_years", "foreign_worker"],
        positive_means="adverse",
    )
    assert job.status is JobStatus.QUEUED and "data_sha256" in job.params
    assert [j.id for j in remote.jobs("credit")] == [job.id]
    assert jobs.run_queued(ctx, "test-worker").ran == (job.id,)
    done = remote.wait_job(job.id, poll=0.05, timeout=10)
    assert done.status is JobStatus.SUCCEEDED and done.progress == 1.0, done.error
    run = remote.check_run(done.result["check_run"])
    assert run.model == "credit" and run.version == 1


def test_a_model_card_job_and_its_file(
    remote: Steward, ctx: Context, credit: object, tmp_path: object
) -> None:
    job = remote.submit_job("model_card_pdf", "credit", 1)
    with pytest.raises(Exception, match="no file"):
        remote.job_result(job.id, tmp_path)  # type: ignore[arg-type]
    jobs.run_queued(ctx, "test-worker")
    saved = remote.job_result(job.id, tmp_path)  # type: ignore[arg-type]
    assert saved.name.endswith(".pdf") and saved.read_bytes()[:5] == b"%PDF-"


def test_bad_and_hostile_requests_are_problem_json(
    live_server: LiveServer, token: str, remote: Steward, credit: object
) -> None:
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        cases = [
            ({"kind": "validation", "model": "credit", "version": 1}, 422, "validation-jobs"),
            ({"kind": "shell", "model": "credit"}, 422, "Unknown job kind"),
            (
                {
                    "kind": "model_card_pdf",
                    "model": "credit",
                    "version": 1,
                    "params": {"path": "/etc/passwd"},
                },
                422,
                "Unknown parameter",
            ),
            ({"kind": "monitor_run", "model": "credit", "params": {}}, 422, "monitor"),
            ({"kind": "model_card_pdf", "model": "nope", "version": 1}, 404, "nope"),
        ]
        for body, status, words in cases:
            response = http.post("/api/v1/jobs", json=body)
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert words in response.json()["detail"]
        # a caller's digest is never trusted as the job's data
        response = http.post(
            "/api/v1/models/credit/versions/1/validation-jobs",
            data={"options": '{"data_sha256": "' + "0" * 64 + '"}'},
            files={"data": ("eval.csv", b"a,b\n1,0\n")},
        )
        assert response.status_code == 422 and "data_sha256" in response.json()["detail"]
        response = http.post(
            "/api/v1/models/credit/versions/1/validation-jobs",
            data={"options": "{}"},
            files={"data": ("eval.sh", b"rm -rf /")},
        )
        assert response.status_code == 422 and "Parquet" in response.json()["detail"]
        assert http.get("/api/v1/jobs/job_nope").status_code == 404
        assert http.get("/api/v1/jobs", params={"status": "odd"}).status_code == 422
    assert remote.jobs() == []


def test_another_owner_cannot_submit_or_cancel_on_the_model(
    live_server: LiveServer, ctx: Context, remote: Steward, credit: object
) -> None:
    import steward

    remote.update_model("credit", owner="alice")
    job = remote.submit_job("evidence_pack", "credit")
    bob = steward.connect(live_server.url, token=_token(ctx, "bob", "owner"))
    try:
        with pytest.raises(Forbidden):
            bob.submit_job("evidence_pack", "credit")
        with pytest.raises(Forbidden):
            bob.submit_validation(
                "credit",
                1,
                data=credit.test,
                target=TARGET,  # type: ignore[attr-defined]
            )
        with pytest.raises(Forbidden):
            bob.cancel_job(job.id)
        with pytest.raises(NotFound):
            bob.job("job_0000000000000000")
        with pytest.raises(InvalidInput):
            bob.submit_job("validation", "credit", 1)
    finally:
        bob.close()
    assert [j.id for j in remote.jobs()] == [job.id]
    assert remote.cancel_job(job.id).status is JobStatus.CANCELLED
