"""The write-back rules: which tags, when an alias has drifted, how MLflow's webhook
signature is checked (against MLflow's own signing function)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.domain import mlflow_writeback as wb
from steward.domain.lifecycle import Stage

# MLflow's own signing function (the `mlflow` extra), so the check is held to the real thing.
_generate_hmac_signature = pytest.importorskip("mlflow.webhooks.delivery")._generate_hmac_signature

SECRET = "s3cret"
BODY = b'{"entity": "model_version", "action": "created", "data": {"name": "m"}}'


def test_desired_tags_say_stage_gate_hash_and_link() -> None:
    tags = wb.desired_tags(Stage.APPROVED, True, "ab" * 32, "https://s/models/m?version=1")
    assert tags == {
        "steward.stage": "approved",
        "steward.gate": "pass",
        "steward.sha256": "ab" * 32,
        "steward.url": "https://s/models/m?version=1",
    }
    assert wb.desired_tags(Stage.VALIDATION, False, "x", None)["steward.gate"] == "blocked"
    assert "steward.url" not in wb.desired_tags(Stage.PRODUCTION, False, "x", None)
    assert wb.desired_tags(Stage.PRODUCTION, False, "x", None)["steward.gate"] == "pass"
    assert wb.tags_to_write({"a": "1", "b": "2"}, {"a": "1", "b": "9"}) == {"b": "2"}
    assert wb.model_url("https://s/", "a b", 3) == "https://s/models/a%20b?version=3"


def test_an_alias_has_drifted_only_where_steward_neither_wants_nor_put_it() -> None:
    assert wb.alias_drifted(2, desired=1, written=1)  # moved by hand
    assert not wb.alias_drifted(1, desired=None, written=1)  # a demotion not yet written
    assert not wb.alias_drifted(1, desired=1, written=None)
    assert not wb.alias_drifted(None, desired=1, written=1)  # removed: written again
    assert wb.alias_drifted(3, desired=None, written=None)
    assert wb.stage_drifted("Production", "None", Stage.VALIDATION)
    assert not wb.stage_drifted("Production", "Production", Stage.VALIDATION)  # as imported
    assert not wb.stage_drifted("Production", "None", Stage.PRODUCTION)


def test_retries_back_off_from_30_seconds_to_an_hour() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert wb.next_attempt(1, now) - now == timedelta(seconds=30)
    assert wb.next_attempt(3, now) - now == timedelta(minutes=2)
    assert wb.next_attempt(50, now) - now == timedelta(hours=1)


def _verify(**changes: object) -> str | None:
    args: dict[str, object] = {
        "delivery_id": "d-1",
        "timestamp": "1700000000",
        "signature": _generate_hmac_signature(SECRET, "d-1", "1700000000", BODY.decode()),
        "body": BODY,
        "now": 1700000010.0,
    }
    args.update(changes)
    return wb.verify_webhook(SECRET, **args)  # type: ignore[arg-type]


def test_a_delivery_signed_by_mlflow_with_the_secret_and_fresh_is_accepted() -> None:
    assert _verify() is None


def test_forged_tampered_stale_or_unsigned_deliveries_are_refused() -> None:
    assert "does not match" in (_verify(body=BODY.replace(b'"m"', b'"n"')) or "")
    assert "does not match" in (_verify(delivery_id="d-2") or "")  # id is signed too
    forged = _generate_hmac_signature("guess", "d-1", "1700000000", BODY.decode())
    assert "does not match" in (_verify(signature=forged) or "")
    assert "more than 300 s" in (_verify(now=1700000000.0 + 301) or "")
    assert "missing" in (_verify(signature=None) or "")
    assert "malformed" in (_verify(timestamp="soon") or "")
