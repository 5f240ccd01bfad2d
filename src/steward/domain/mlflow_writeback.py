"""Rules for writing Steward's decisions back into a linked MLflow registry (pure).

Steward decides (stages, gates, production moves); MLflow shows it: each linked version
carries ``steward.*`` tags, and the production aliases (``champion`` unless configured)
point at the version Steward put in production, and at nothing once it leaves. A
production alias or a legacy ``Production`` stage that someone moved in MLflow to a
version Steward has not put there is *drift*: a critical finding, and reverted when the
administrator asked for that. See docs/mlflow.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from urllib.parse import quote

from steward.domain.backoff import doubling
from steward.domain.lifecycle import Stage

STAGE_TAG = "steward.stage"
GATE_TAG = "steward.gate"
SHA256_TAG = "steward.sha256"
URL_TAG = "steward.url"
GATE_PASS = "pass"
GATE_BLOCKED = "blocked"
# Stages in which a version is "in production" as far as MLflow's aliases are concerned.
IN_PRODUCTION = frozenset({Stage.PRODUCTION, Stage.UNDER_REVIEW})
# A failed write is retried after 30 s, 1 min, 2 min, ... at most hourly.
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)


def version_target(mlflow_version: int) -> str:
    return f"version:{mlflow_version}"


def alias_target(alias: str) -> str:
    return f"alias:{alias}"


def model_url(base_url: str | None, model: str, version: int) -> str | None:
    """The version's page in Steward's web UI (None when no public URL is configured)."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/models/{quote(model, safe='')}?version={version}"


def desired_tags(stage: Stage, gate_passes: bool, sha256: str, url: str | None) -> dict[str, str]:
    """The ``steward.*`` tags a linked MLflow version should carry now.

    ``steward.gate`` says whether the version may be (or is) in production by Steward's
    policy: ``pass`` for a version in production or whose production move the gate allows
    now, ``blocked`` otherwise.
    """
    tags = {
        STAGE_TAG: stage.value,
        GATE_TAG: GATE_PASS if stage in IN_PRODUCTION or gate_passes else GATE_BLOCKED,
        SHA256_TAG: sha256,
    }
    if url:
        tags[URL_TAG] = url
    return tags


def tags_to_write(desired: dict[str, str], in_mlflow: dict[str, str]) -> dict[str, str]:
    """The tags MLflow lacks or holds with another value (a tag edited there is restored)."""
    return {k: v for k, v in desired.items() if in_mlflow.get(k) != v}


def alias_drifted(in_mlflow: int | None, desired: int | None, written: int | None) -> bool:
    """True when MLflow's production alias points at a version Steward has not put in
    production: neither where Steward wants it now nor where Steward last set it (the
    latter is a move Steward has yet to write, such as a demotion)."""
    return in_mlflow is not None and in_mlflow != desired and in_mlflow != written


def stage_drifted(mlflow_stage: str, recorded_stage: str, steward_stage: Stage) -> bool:
    """True when a version was moved to MLflow's legacy ``Production`` stage after Steward
    linked it (``recorded_stage``), while Steward has not put it in production."""
    return (
        mlflow_stage == "Production"
        and recorded_stage != "Production"
        and steward_stage not in IN_PRODUCTION
    )


def next_attempt(failures: int, now: datetime) -> datetime:
    """When a write that failed ``failures`` times in a row is tried again."""
    return now + doubling(max(failures - 1, 0), FIRST_RETRY, MAX_RETRY)


# -- MLflow registry webhooks (MLflow 3.3+) ----------------------------------------------------

# MLflow signs ``{delivery_id}.{timestamp}.{body}`` with HMAC-SHA256 and sends
# ``X-MLflow-Signature: v1,<base64>``; a delivery older (or newer) than this is a replay.
WEBHOOK_TOLERANCE_SECONDS = 300
_SIGNATURE_VERSION = "v1"


def expected_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return f"{_SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify_webhook(
    secret: str,
    *,
    delivery_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
) -> str | None:
    """None when the delivery is MLflow's and fresh, else why it is refused.

    The signature is compared in constant time; the timestamp is checked after it, so a
    forged delivery learns nothing about the clock.
    """
    if not delivery_id or not timestamp or not signature:
        return (
            "missing X-MLflow-Delivery-Id, X-MLflow-Timestamp or X-MLflow-Signature: create the "
            "webhook in MLflow with the secret in STEWARD_MLFLOW_WEBHOOK_SECRET"
        )
    if len(delivery_id) > 100 or not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed X-MLflow-Delivery-Id or X-MLflow-Timestamp"
    wanted = expected_signature(secret, delivery_id, timestamp, body)
    if not hmac.compare_digest(wanted.encode(), signature.strip().encode()):
        return "the signature does not match STEWARD_MLFLOW_WEBHOOK_SECRET"
    if abs(now - int(timestamp)) > WEBHOOK_TOLERANCE_SECONDS:
        return (
            f"the delivery's timestamp is more than {WEBHOOK_TOLERANCE_SECONDS} s from this "
            "server's clock (a replay, or a clock out of step)"
        )
    return None
