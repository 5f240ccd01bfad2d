"""Remote backend: the same contract over the REST API (httpx)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from steward import wire
from steward.domain import names, specs
from steward.domain.audit import AuditEvent, Verification
from steward.domain.entities import (
    HistoryEntry,
    Model,
    ModelVersion,
    NewToken,
    Page,
    TokenInfo,
    Transition,
    TransitionResult,
)
from steward.domain.errors import ERRORS_BY_CODE, IntegrityError, StewardError
from steward.domain.lifecycle import Decision
from steward.domain.specs import VersionSpec
from steward.store.audit_repo import AuditFilter

T = TypeVar("T")


def _q(part: str) -> str:
    return quote(part, safe="")


class RemoteBackend:
    def __init__(
        self, url: str, token: str | None, *, transport: Any = None, timeout: float = 300.0
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self._actor: str | None = None

    @property
    def actor(self) -> str:
        if self._actor is None:
            me = self._call("GET", "/api/v1/me", dict[str, object])
            self._actor = str(me["user"])
        return self._actor

    # -- plumbing -------------------------------------------------------------------
    def _raise_for(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict) or "detail" not in body:
            raise StewardError(
                f"{response.request.method} {response.request.url} failed with HTTP "
                f"{response.status_code}: {response.text[:300]}"
            )
        cls = ERRORS_BY_CODE.get(str(body.get("code")), StewardError)
        extra = {
            k: v for k, v in body.items() if k not in {"type", "title", "status", "detail", "code"}
        }
        raise cls(str(body["detail"]), **extra)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise StewardError(
                f"Cannot reach the Steward server at {self._http.base_url}: {exc}"
            ) from exc
        self._raise_for(response)
        return response

    def _call(self, method: str, path: str, tp: type[T], **kwargs: Any) -> T:
        return wire.load(tp, self._send(method, path, **kwargs).json(), what="server response")

    @staticmethod
    def _params(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if v is not None}

    # -- inventory ----------------------------------------------------------------
    # The domain's own validation runs here too, before anything is sent, so a bad
    # call raises exactly the error (class and message) the embedded store raises;
    # the server validates again.
    def create_model(self, name: str, fields: dict[str, Any]) -> Model:
        names.model_name(name)
        specs.model_fields(fields)
        body = {**fields, "name": name}
        return self._call(
            "POST",
            "/api/v1/models",
            Model,
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )

    def update_model(self, name: str, fields: dict[str, Any]) -> Model:
        specs.model_fields(fields)
        return self._call(
            "PATCH",
            f"/api/v1/models/{_q(name)}",
            Model,
            content=_json(fields),
            headers={"Content-Type": "application/json"},
        )

    def get_model(self, name: str) -> Model:
        return self._call("GET", f"/api/v1/models/{_q(name)}", Model)

    def list_models(self, filters: dict[str, Any]) -> Page[Model]:
        return self._call("GET", "/api/v1/models", Page[Model], params=self._params(filters))

    # -- versions -----------------------------------------------------------------
    def create_version(
        self, model: str, spec: VersionSpec, artifact: Path, sha256: str
    ) -> ModelVersion:
        specs.validate_version_spec(spec)
        metadata = json.dumps(wire.dump(spec))
        with artifact.open("rb") as fh:
            return self._call(
                "POST",
                f"/api/v1/models/{_q(model)}/versions",
                ModelVersion,
                data={"metadata": metadata, "sha256": sha256},
                files={"artifact": (spec.filename, fh, "application/octet-stream")},
            )

    def get_version(self, model: str, version: int) -> ModelVersion:
        return self._call("GET", f"/api/v1/models/{_q(model)}/versions/{version}", ModelVersion)

    def list_versions(self, model: str | None, filters: dict[str, Any]) -> Page[ModelVersion]:
        path = f"/api/v1/models/{_q(model)}/versions" if model else "/api/v1/versions"
        return self._call("GET", path, Page[ModelVersion], params=self._params(filters))

    def download(self, model: str, version: int, dest: Path) -> ModelVersion:
        found = self.get_version(model, version)
        tmp = dest.with_name(f".{dest.name}.partial")
        digest = hashlib.sha256()
        try:
            with self._http.stream(
                "GET", f"/api/v1/models/{_q(model)}/versions/{version}/artifact"
            ) as response:
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes(1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
            if digest.hexdigest() != found.artifact.sha256:
                raise IntegrityError(
                    f"Downloaded bytes hash to {digest.hexdigest()}, expected "
                    f"{found.artifact.sha256}; nothing was written. Try again."
                )
            tmp.replace(dest)
        except httpx.TransportError as exc:
            raise StewardError(f"Download interrupted: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return found

    def set_alias(self, model: str, alias: str, version: int) -> ModelVersion:
        return self._call(
            "PUT",
            f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}",
            ModelVersion,
            json={"version": version},
        )

    def get_by_alias(self, model: str, alias: str) -> ModelVersion:
        return self._call("GET", f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}", ModelVersion)

    def delete_alias(self, model: str, alias: str) -> None:
        self._send("DELETE", f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}")

    # -- lifecycle ------------------------------------------------------------------
    def transition(self, model: str, version: int, to: str, justification: str) -> TransitionResult:
        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/versions/{version}/transitions",
            TransitionResult,
            json={"to": to, "justification": justification},
        )

    def check_transition(self, model: str, version: int, to: str) -> Decision:
        return self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/gate",
            Decision,
            params={"to": to},
        )

    def transitions(self, model: str, version: int) -> list[Transition]:
        return self._call(
            "GET", f"/api/v1/models/{_q(model)}/versions/{version}/transitions", list[Transition]
        )

    def history(self, at: datetime, model: str | None) -> list[HistoryEntry]:
        path = f"/api/v1/models/{_q(model)}/history" if model else "/api/v1/history"
        return self._call("GET", path, list[HistoryEntry], params={"at": at.isoformat()})

    # -- audit and tokens -------------------------------------------------------------
    def audit_events(self, flt: AuditFilter, limit: int) -> list[AuditEvent]:
        params = self._params({**flt.__dict__, "limit": limit})
        params["model"] = params.pop("subject_prefix", None)
        if params.pop("actions", None):
            raise StewardError("Filtering by several actions is not available over HTTP.")
        params = self._params(params)
        return self._call("GET", "/api/v1/audit/events", list[AuditEvent], params=params)

    def verify_audit(self, workers: int = 1, anchors: Sequence[str] = ()) -> Verification:
        # workers: the server decides how to verify
        params = {"anchor": list(anchors)} if anchors else None
        return self._call("GET", "/api/v1/audit/verify", Verification, params=params)

    def export_audit(self, dest: Path) -> int:
        count = 0
        tmp = dest.with_name(f".{dest.name}.partial")
        try:
            with self._http.stream("GET", "/api/v1/audit/export") as response:
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                # Raw bytes, split on "\n" only: iter_lines() would also break lines at
                # U+2028 and other separators a justification may legitimately contain.
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes(1024 * 1024):
                        out.write(chunk)
                        count += chunk.count(b"\n")
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return count

    def create_token(self, user: str, name: str, expires_in_days: int | None) -> NewToken:
        return self._call(
            "POST",
            "/api/v1/tokens",
            NewToken,
            json={"user": user, "name": name, "expires_in_days": expires_in_days},
        )

    def list_tokens(self, user: str | None) -> list[TokenInfo]:
        return self._call(
            "GET", "/api/v1/tokens", list[TokenInfo], params=self._params({"user": user})
        )

    def revoke_token(self, token_id: str) -> TokenInfo:
        return self._call("DELETE", f"/api/v1/tokens/{_q(token_id)}", TokenInfo)

    def close(self) -> None:
        self._http.close()


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, default=str).encode()
