"""`/mlflow`: the MLflow Model Registry REST API 2.0, answered by Steward's use cases.

Point the `mlflow` client at it (``mlflow.set_registry_uri("http://steward:8080/mlflow")``,
``MLFLOW_TRACKING_TOKEN`` = a Steward API token) and ``register_model``,
``set_registered_model_alias``, ``transition_model_version_stage``… become governed Steward
operations. Requests and answers follow MLflow's JSON (GET arguments in the query string,
others in a JSON body); errors are MLflow's ``{"error_code", "message"}`` with Steward's
reasons in the message. Everything is decided in ``services/mlflow_registry.py``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from steward.api.deps import Caller, caller
from steward.domain import mlflow_bridge as mb
from steward.domain.entities import ModelVersion
from steward.domain.errors import (
    AlreadyExists,
    ArtifactError,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    MissingExtra,
    NotFound,
    SourceUnavailable,
    StewardError,
    Unauthenticated,
)
from steward.domain.permissions import Permission, ensure
from steward.services import mlflow_registry as reg
from steward.services import versions

PREFIX = "/mlflow/api/2.0/mlflow"
ARTIFACTS = "/mlflow/api/2.0/mlflow-artifacts/artifacts"


class MlflowError(BaseModel):
    """MLflow's error body, which its client turns into ``MlflowException``."""

    error_code: str
    message: str


# Every error any /mlflow route can answer, documented once for the whole surface.
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": MlflowError, "description": what}
    for status, what in {
        400: "INVALID_PARAMETER_VALUE, INVALID_STATE or RESOURCE_ALREADY_EXISTS",
        401: "UNAUTHENTICATED: no or an unknown Steward token",
        403: "PERMISSION_DENIED: the role, the object or Steward's gate refused it",
        404: "RESOURCE_DOES_NOT_EXIST",
        409: "a conflicting change (Steward's reason in the message)",
        413: "a body over Steward's size limit",
        429: "too many requests",
        501: "NOT_IMPLEMENTED: a Steward extra is not installed",
        502: "TEMPORARILY_UNAVAILABLE: the MLflow tracking server did not answer",
        503: "the database is unavailable",
    }.items()
}
router = APIRouter(tags=["mlflow"], responses=_ERRORS)
MAX_RESULTS = 200_000  # MLflow's client asks for 10 000 model versions by default


def _error(exc: StewardError) -> JSONResponse:
    """MLflow's error body; the client raises MlflowException(message, error_code)."""
    code, status = "INTERNAL_ERROR", exc.status
    if isinstance(exc, NotFound):
        code, status = "RESOURCE_DOES_NOT_EXIST", 404
    elif isinstance(exc, AlreadyExists):
        code, status = "RESOURCE_ALREADY_EXISTS", 400
    elif isinstance(exc, Unauthenticated):
        code, status = "UNAUTHENTICATED", 401
    elif isinstance(exc, Forbidden):
        code, status = "PERMISSION_DENIED", 403
    elif isinstance(exc, IllegalTransition) and exc.extra.get("policy"):
        # The policy's gate refused the move: a governance refusal, with every reason.
        code, status = "PERMISSION_DENIED", 403
    elif isinstance(exc, IllegalTransition):
        code, status = "INVALID_STATE", 400
    elif isinstance(exc, InvalidInput | ArtifactError):
        code, status = "INVALID_PARAMETER_VALUE", 400
    elif isinstance(exc, SourceUnavailable):
        code, status = "TEMPORARILY_UNAVAILABLE", 502
    elif isinstance(exc, MissingExtra):
        code, status = "NOT_IMPLEMENTED", 501
    return JSONResponse({"error_code": code, "message": exc.detail}, status_code=status)


async def _arguments(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    limit = request.app.state.ctx.settings.max_json_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"The request body is larger than {limit} bytes.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InvalidInput(f"The request body is larger than {limit} bytes.")
    if not body:
        return dict(request.query_params)
    try:
        found = json.loads(body)
    except ValueError:
        raise InvalidInput("The request body is not JSON.") from None
    if not isinstance(found, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return found


def _text(args: dict[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if value is None:
        raise InvalidInput(f"Missing value for parameter '{key}'.", field=key)
    if not isinstance(value, str):
        raise InvalidInput(f"Parameter '{key}' must be a string.", field=key)
    return value


def _number(args: dict[str, Any], key: str) -> int:
    value = args.get(key)
    try:
        number = int(str(value))
    except ValueError:
        raise InvalidInput(f"Parameter '{key}' must be a version number, got {value!r}.") from None
    if number < 1:
        raise InvalidInput(f"Parameter '{key}' must be a positive version number.")
    return number


def _tags(args: dict[str, Any]) -> dict[str, str]:
    raw = args.get("tags") or []
    if not isinstance(raw, list):
        raise InvalidInput("tags must be a list of {key, value}.", field="tags")
    return {str(t.get("key")): str(t.get("value", "")) for t in raw if isinstance(t, dict)}


def _paging(args: dict[str, Any]) -> tuple[int, int]:
    try:
        limit = int(args.get("max_results") or 100)
        offset = int(args.get("page_token") or 0)
    except ValueError:
        raise InvalidInput("max_results and page_token must be numbers.") from None
    if not 1 <= limit <= MAX_RESULTS or offset < 0:
        raise InvalidInput(f"max_results must be 1-{MAX_RESULTS}.", field="max_results")
    return limit, offset


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def version_json(v: ModelVersion) -> dict[str, Any]:
    return {
        "name": v.model,
        "version": str(v.version),
        "creation_timestamp": _ms(v.created_at),
        "last_updated_timestamp": _ms(v.stage_changed_at),
        "user_id": v.created_by,
        "current_stage": mb.MLFLOW_STAGE_OF[v.stage],
        "description": v.description,
        "source": v.tags.get(reg.SOURCE_TAG, f"steward:/{v.model}/{v.version}"),
        "run_id": v.tags.get(reg.RUN_TAG, ""),
        "status": "READY",
        "tags": [{"key": k, "value": val} for k, val in sorted(v.tags.items())],
        "aliases": sorted(v.aliases),
    }


def model_json(found: reg.RegisteredModel) -> dict[str, Any]:
    m = found.model
    return {
        "name": m.name,
        "creation_timestamp": _ms(m.created_at),
        "last_updated_timestamp": _ms(m.updated_at),
        "description": m.description,
        "user_id": m.owner,
        "latest_versions": [version_json(v) for v in found.latest],
        "tags": [{"key": k, "value": v} for k, v in sorted(reg.model_tags(m).items())],
        "aliases": [{"alias": a, "version": str(n)} for a, n in sorted(found.aliases.items())],
    }


Handler = Callable[[Caller, dict[str, Any], Request], Awaitable[dict[str, Any]]]


def _route(method: str, path: str, summary: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` for ``method path``: arguments parsed, errors in MLflow's format."""

    def register(fn: Handler) -> Handler:
        async def endpoint(request: Request, call: Caller = Depends(caller)) -> Response:
            try:
                answer = await fn(call, await _arguments(request), request)
            except StewardError as exc:
                return _error(exc)
            return JSONResponse(answer)

        endpoint.__name__ = f"mlflow_{fn.__name__}"
        endpoint.__doc__ = summary
        router.add_api_route(
            PREFIX + path, endpoint, methods=[method], summary=summary, response_model=None
        )
        return fn

    return register


# -- registered models -------------------------------------------------------------------------


@_route("POST", "/registered-models/create", "MLflow create_registered_model")
async def create_registered_model(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(
        reg.create_registered_model,
        _text(args, "name"),
        _text(args, "description", ""),
        _tags(args),
    )
    return {"registered_model": model_json(found)}


@_route("GET", "/registered-models/get", "MLflow get_registered_model")
async def get_registered_model(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(reg.get_registered_model, _text(args, "name"))
    return {"registered_model": model_json(found)}


@_route("GET", "/registered-models/search", "MLflow search_registered_models")
async def search_registered_models(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    limit, offset = _paging(args)
    flt = reg.parse_filter(args.get("filter"))
    found, more = await call.run(reg.search_registered_models, flt, limit, offset)
    answer: dict[str, Any] = {"registered_models": [model_json(m) for m in found]}
    if more is not None:
        answer["next_page_token"] = str(more)
    return answer


@_route("POST", "/registered-models/get-latest-versions", "MLflow get_latest_versions")
async def get_latest_versions(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(reg.get_registered_model, _text(args, "name"))
    stages = set(args.get("stages") or [])
    return {
        "model_versions": [
            version_json(v)
            for v in found.latest
            if not stages or mb.MLFLOW_STAGE_OF[v.stage] in stages
        ]
    }


@_route("POST", "/registered-models/set-tag", "MLflow set_registered_model_tag")
async def set_registered_model_tag(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    await call.run(reg.set_model_tag, _text(args, "name"), _text(args, "key"), _text(args, "value"))
    return {}


@_route("DELETE", "/registered-models/delete-tag", "MLflow delete_registered_model_tag")
async def delete_registered_model_tag(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    await call.run(reg.set_model_tag, _text(args, "name"), _text(args, "key"), None)
    return {}


@_route("POST", "/registered-models/alias", "MLflow set_registered_model_alias")
async def set_alias(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    await call.run(
        reg.set_alias, _text(args, "name"), _text(args, "alias"), _number(args, "version")
    )
    return {}


@_route("DELETE", "/registered-models/alias", "MLflow delete_registered_model_alias")
async def delete_alias(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    await call.run(versions.delete_alias, _text(args, "name"), _text(args, "alias"))
    return {}


@_route("GET", "/registered-models/alias", "MLflow get_model_version_by_alias")
async def get_by_alias(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(versions.get_by_alias, _text(args, "name"), _text(args, "alias"))
    return {"model_version": version_json(found)}


# -- model versions ----------------------------------------------------------------------------


@_route("POST", "/model-versions/create", "MLflow create_model_version (register_model)")
async def create_model_version(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(
        reg.create_model_version,
        _text(args, "name"),
        _text(args, "source"),
        args.get("run_id") or None,
        _tags(args),
        _text(args, "description", ""),
    )
    return {"model_version": version_json(found)}


@_route("GET", "/model-versions/get", "MLflow get_model_version")
async def get_model_version(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(versions.get_version, _text(args, "name"), _number(args, "version"))
    return {"model_version": version_json(found)}


@_route("GET", "/model-versions/search", "MLflow search_model_versions")
async def search_model_versions(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    limit, offset = _paging(args)
    flt = reg.parse_filter(args.get("filter"))
    found, more = await call.run(reg.search_model_versions, flt, limit, offset)
    answer: dict[str, Any] = {"model_versions": [version_json(v) for v in found]}
    if more is not None:
        answer["next_page_token"] = str(more)
    return answer


@_route("POST", "/model-versions/set-tag", "MLflow set_model_version_tag")
async def set_model_version_tag(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    await call.run(
        versions.set_tag,
        _text(args, "name"),
        _number(args, "version"),
        _text(args, "key"),
        _text(args, "value"),
    )
    return {}


@_route("DELETE", "/model-versions/delete-tag", "MLflow delete_model_version_tag")
async def delete_model_version_tag(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    await call.run(
        versions.set_tag, _text(args, "name"), _number(args, "version"), _text(args, "key"), None
    )
    return {}


@_route("POST", "/model-versions/transition-stage", "MLflow transition_model_version_stage")
async def transition_stage(call: Caller, args: dict[str, Any], _r: Request) -> Any:
    found = await call.run(
        reg.transition_stage,
        _text(args, "name"),
        _number(args, "version"),
        _text(args, "stage"),
    )
    return {"model_version": version_json(found)}


@_route("GET", "/model-versions/get-download-uri", "MLflow get_model_version_download_uri")
async def get_download_uri(call: Caller, args: dict[str, Any], request: Request) -> Any:
    name, number = _text(args, "name"), _number(args, "version")

    def check(ctx: Any, principal: Any) -> None:
        ensure(principal, Permission.ARTIFACT_READ)
        versions.get_version(ctx, principal, name, number)

    await call.run(check)
    base = str(request.base_url).rstrip("/")
    return {"artifact_uri": f"{base}{ARTIFACTS}/{name}/{number}"}


# -- the artifact proxy the client downloads a version's files from ------------------------------


def _split(path: str) -> tuple[str, int, str]:
    name, _, rest = path.strip("/").partition("/")
    number, _, member = rest.partition("/")
    if not name or not number.isdigit():
        raise NotFound("Artifact paths are MODEL/VERSION[/FILE].")
    return name, int(number), member


@router.get(ARTIFACTS, summary="MLflow artifact listing of a version's model folder")
async def list_artifacts(request: Request, call: Caller = Depends(caller)) -> Response:
    try:
        name, number, folder = _split(request.query_params.get("path", ""))
        entries = await call.run(reg.list_files, name, number, folder)
    except StewardError as exc:
        return _error(exc)
    return JSONResponse(
        {
            "files": [
                {"path": e.path, "is_dir": e.is_dir, **({} if e.is_dir else {"file_size": e.size})}
                for e in entries
            ]
        }
    )


@router.get(ARTIFACTS + "/{artifact_path:path}", summary="MLflow artifact download")
async def download_artifact(artifact_path: str, call: Caller = Depends(caller)) -> Response:
    try:
        name, number, member = _split(artifact_path)
        chunks = await call.run(reg.open_file, name, number, member)
    except StewardError as exc:
        return _error(exc)
    return StreamingResponse(chunks, media_type="application/octet-stream")
