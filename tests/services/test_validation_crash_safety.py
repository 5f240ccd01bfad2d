"""A validation run that fails while being recorded leaves neither a run row nor an orphan
evidence blob; blobs another run already points to stay (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from steward.demo.credit import TARGET, train_credit_model
from steward.sdk.client import Steward
from steward.services import checks, validation
from steward.services.context import Context


class Injected(RuntimeError):
    pass


def _evidence_digests(local: Steward) -> set[str]:
    return {e.sha256 for run in local.check_runs("credit", 1) for e in run.evidence}


def test_a_failure_while_recording_removes_the_runs_new_evidence(
    local: Steward, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = train_credit_model(seed=42, model_kind="logistic")
    local.create_model("credit", owner="alice", positive_means="favourable")
    local.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    sensitive = ["age_in_years", "foreign_worker"]
    first = local.validate(
        "credit", 1, data=trained.test, target=TARGET, sensitive_features=sensitive
    )
    kept = {e.sha256 for e in first.evidence}
    assert kept and all(ctx.artifacts.exists(d) for d in kept)

    uploaded: list[str] = []
    put_bytes = validation._put_bytes

    def spy(ctx_: Context, digest: str, content: bytes) -> None:
        uploaded.append(digest)
        put_bytes(ctx_, digest, content)

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise Injected("the database went away while recording")

    monkeypatch.setattr(validation, "_put_bytes", spy)
    monkeypatch.setattr(checks, "store_run_in_uow", fail)
    # Another population gives other plots: evidence blobs this run alone uploaded.
    other = trained.test.sample(frac=0.7, random_state=3)
    with pytest.raises(Injected):
        local.validate("credit", 1, data=other, target=TARGET, sensitive_features=sensitive)

    assert len(local.check_runs("credit", 1)) == 1
    fresh = set(uploaded) - kept
    assert fresh, "the failed run should have uploaded evidence of its own"
    assert not any(ctx.artifacts.exists(d) for d in fresh)  # no orphan left behind
    assert all(ctx.artifacts.exists(d) for d in kept)  # the first run's evidence stays
    assert _evidence_digests(local) == kept
