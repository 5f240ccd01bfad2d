"""/api/v1/models/{name}/versions/{version}/validate: run a suite on the server;
/api/v1/validation/suites: the shipped suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from steward.api.deps import Caller, caller, respond
from steward.artifacts import spool
from steward.domain.checks import CheckRun
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Principal
from steward.services.context import Context
from steward.validation.options import ValidateOptions

router = APIRouter(prefix="/api/v1", tags=["validation"])
CHUNK = 1024 * 1024
_SUFFIXES = (".parquet", ".pq", ".csv")


def _options(text: str) -> ValidateOptions:
    try:
        raw = json.loads(text or "{}")
    except ValueError as exc:
        raise InvalidInput(f"options is not valid JSON: {exc}.", field="options") from None
    from steward.services.validation import options_from_json  # loads pandas: not at start

    return options_from_json(raw)


def spool_data(upload: UploadFile, limit: int, field: str, folder: Path) -> Path:
    return spool.write_data(upload.file, upload.filename or "", folder, limit, field)


@router.post("/models/{name}/versions/{version}/validate", status_code=201, response_model=CheckRun)
async def validate(
    name: str,
    version: int,
    options: str = Form(
        "{}",
        description="JSON: target, sensitive, suite or suite_yaml, predictions "
        "{y_true, y_pred, y_score}, features, trusted_types, trust_pickle, baseline, settings",
    ),
    data: UploadFile = File(..., description="Evaluation data, Parquet or CSV"),
    reference: UploadFile | None = File(None, description="Training data (drift, leakage)"),
    call: Caller = Depends(caller),
) -> Response:
    """Run a validation suite on the version's artifact (or on predictions) and store it."""
    parsed = _options(options)

    def run(ctx: Context, who: Principal) -> CheckRun:
        paths: list[Path] = []
        try:
            limit = ctx.settings.max_artifact_bytes
            paths.append(spool_data(data, limit, "data", ctx.settings.spool_dir))
            ref: Any = None
            if reference is not None:
                paths.append(spool_data(reference, limit, "reference", ctx.settings.spool_dir))
                ref = paths[-1]
            from steward.services import validation  # loads pandas: not at server start

            return validation.validate(ctx, who, name, version, paths[0], parsed, reference=ref)
        finally:
            for path in paths:
                path.unlink(missing_ok=True)

    return respond(await call.run(run), 201)


@router.get("/validation/suites", response_model=list[dict[str, Any]])
async def suites(call: Caller = Depends(caller)) -> Response:
    """The shipped validation suites with their checks."""
    from steward.services import validation

    return respond(await call.run(validation.list_suites), tp=list[dict[str, Any]])
