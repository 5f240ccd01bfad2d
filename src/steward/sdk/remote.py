"""Remote backend: the same contract over the REST API (httpx)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from steward import wire
from steward.domain.errors import ERRORS_BY_CODE, IntegrityError, InvalidInput, StewardError

if TYPE_CHECKING:
    from steward.compliance.coverage import ModelCoverage, OrganisationCoverage
    from steward.compliance.dashboard import Dashboard
    from steward.compliance.evidence import PackSummary
    from steward.compliance.mapping import CatalogInfo, ControlInfo, Crosswalk
    from steward.compliance.modelcard import ModelCard, Narrative, RenderedCard
    from steward.domain.audit import AuditEvent, AuditFilter, Verification
    from steward.domain.checkpoint import (
        ConsistencyProof,
        InclusionProof,
        StoredCheckpoint,
        Witness,
    )
    from steward.domain.checks import CheckRun, RunRecord
    from steward.domain.connections import Connection
    from steward.domain.datasets import (
        DataFinding,
        DataLineage,
        Dataset,
        DatasetSnapshot,
        Impact,
        Recall,
        RuleSet,
    )
    from steward.domain.discovery import Discovery
    from steward.domain.doctor import DoctorReport
    from steward.domain.entities import (
        DatasetVersion,
        HistoryEntry,
        Model,
        ModelVersion,
        NewToken,
        Page,
        TokenInfo,
        Transition,
        TransitionResult,
    )
    from steward.domain.findings import Finding, FindingComment, Waiver
    from steward.domain.identity import Team, User
    from steward.domain.impact import ImpactAssessment, ImpactForm
    from steward.domain.jobs import Job, JobFilter
    from steward.domain.notifications import Notification, OutboxStatus, Preferences
    from steward.domain.personal_data import ColumnClass, PersonalData
    from steward.domain.reconcile import Reconciliation
    from steward.domain.requests import GateReport, PolicyPackInfo, RequestResult, TransitionRequest
    from steward.domain.reviews import Review, ReviewDue
    from steward.domain.risk import AssessmentStatus, Questionnaire, RiskAssessment
    from steward.domain.specs import VersionSpec
    from steward.domain.trust import Deployment, SignatureBundle, SignatureRecord, SigningKeyInfo
    from steward.domain.webhooks import DeliveryReport, NewWebhook, Webhook, WebhookDelivery
    from steward.validation.options import ValidateOptions

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
        from steward.domain import names, specs
        from steward.domain.entities import Model

        names.model_name(name)
        specs.model_fields(_without_override(fields))
        body = {**fields, "name": name}
        return self._call(
            "POST",
            "/api/v1/models",
            Model,
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )

    def update_model(self, name: str, fields: dict[str, Any]) -> Model:
        from steward.domain import specs
        from steward.domain.entities import Model

        specs.model_fields(_without_override(fields))
        return self._call(
            "PATCH",
            f"/api/v1/models/{_q(name)}",
            Model,
            content=_json(fields),
            headers={"Content-Type": "application/json"},
        )

    def get_model(self, name: str) -> Model:
        from steward.domain.entities import Model

        return self._call("GET", f"/api/v1/models/{_q(name)}", Model)

    def list_models(self, filters: dict[str, Any]) -> Page[Model]:
        from steward.domain.entities import Model, Page

        return self._call("GET", "/api/v1/models", Page[Model], params=self._params(filters))

    # -- versions -----------------------------------------------------------------
    def create_version(
        self, model: str, spec: VersionSpec, artifact: Path, sha256: str
    ) -> ModelVersion:
        from steward.domain import specs
        from steward.domain.entities import ModelVersion

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

    def amend_version(
        self,
        model: str,
        version: int,
        justification: str,
        training: DatasetVersion | None,
        evaluation: DatasetVersion | None,
        artifact: Path | None,
        sha256: str | None,
    ) -> ModelVersion:
        from steward.domain.entities import DatasetVersion, ModelVersion

        metadata = json.dumps(
            {
                "justification": justification,
                "training_data": wire.dump(training, DatasetVersion | None),
                "evaluation_data": wire.dump(evaluation, DatasetVersion | None),
            }
        )
        path = f"/api/v1/models/{_q(model)}/versions/{version}/amend"
        if artifact is None:
            return self._call("POST", path, ModelVersion, data={"metadata": metadata})
        with artifact.open("rb") as fh:
            return self._call(
                "POST",
                path,
                ModelVersion,
                data={"metadata": metadata, "sha256": sha256 or ""},
                files={"artifact": (artifact.name, fh, "application/octet-stream")},
            )

    def get_version(self, model: str, version: int) -> ModelVersion:
        from steward.domain.entities import ModelVersion

        return self._call("GET", f"/api/v1/models/{_q(model)}/versions/{version}", ModelVersion)

    def list_versions(self, model: str | None, filters: dict[str, Any]) -> Page[ModelVersion]:
        from steward.domain.entities import ModelVersion, Page

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
        from steward.domain.entities import ModelVersion

        return self._call(
            "PUT",
            f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}",
            ModelVersion,
            json={"version": version},
        )

    def get_by_alias(self, model: str, alias: str) -> ModelVersion:
        from steward.domain.entities import ModelVersion

        return self._call("GET", f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}", ModelVersion)

    def delete_alias(self, model: str, alias: str) -> None:
        self._send("DELETE", f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}")

    # -- lifecycle ------------------------------------------------------------------
    def transition(self, model: str, version: int, to: str, justification: str) -> TransitionResult:
        from steward.domain.entities import TransitionResult

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/versions/{version}/transitions",
            TransitionResult,
            json={"to": to, "justification": justification},
        )

    def check_transition(self, model: str, version: int, to: str) -> GateReport:
        from steward.domain.requests import GateReport

        return self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/gate",
            GateReport,
            params={"to": to},
        )

    def transitions(self, model: str, version: int) -> list[Transition]:
        from steward.domain.entities import Transition

        return self._call(
            "GET", f"/api/v1/models/{_q(model)}/versions/{version}/transitions", list[Transition]
        )

    def history(self, at: datetime, model: str | None) -> list[HistoryEntry]:
        from steward.domain.entities import HistoryEntry

        path = f"/api/v1/models/{_q(model)}/history" if model else "/api/v1/history"
        return self._call("GET", path, list[HistoryEntry], params={"at": at.isoformat()})

    # -- audit and tokens -------------------------------------------------------------
    def audit_events(self, flt: AuditFilter, limit: int) -> list[AuditEvent]:
        from steward.domain.audit import AuditEvent

        params = self._params({**flt.__dict__, "limit": limit})
        params["model"] = params.pop("subject_prefix", None)
        if params.pop("actions", None):
            raise StewardError("Filtering by several actions is not available over HTTP.")
        params = self._params(params)
        return self._call("GET", "/api/v1/audit/events", list[AuditEvent], params=params)

    def verify_audit(
        self,
        workers: int = 1,
        anchors: Sequence[str] = (),
        checkpoints: Sequence[tuple[str, str]] = (),
    ) -> Verification:
        # workers: the server decides how to verify. Checkpoints travel as their text
        # (a few hundred bytes each), never as a path on the server.
        from steward.domain.audit import Verification

        params: dict[str, Any] = {}
        if anchors:
            params["anchor"] = list(anchors)
        if checkpoints:
            params["checkpoint"] = [text for _, text in checkpoints]
        return self._call("GET", "/api/v1/audit/verify", Verification, params=params or None)

    def create_checkpoint(self, publish_to: Sequence[str] | None) -> StoredCheckpoint:
        from steward.domain.checkpoint import StoredCheckpoint

        if publish_to is not None:
            raise InvalidInput(
                "A server publishes checkpoints only to the destinations its administrator "
                "configured (STEWARD_CHECKPOINT_PUBLISH); leave out publish_to.",
                field="publish_to",
            )
        return self._call("POST", "/api/v1/audit/checkpoints", StoredCheckpoint)

    def list_checkpoints(self, limit: int) -> list[StoredCheckpoint]:
        from steward.domain.checkpoint import StoredCheckpoint

        return self._call(
            "GET", "/api/v1/audit/checkpoints", list[StoredCheckpoint], params={"limit": limit}
        )

    def inclusion_proof(self, seq: int, checkpoint: int | None) -> InclusionProof:
        from steward.domain.checkpoint import InclusionProof

        params = self._params({"checkpoint": checkpoint})
        return self._call(
            "GET", f"/api/v1/audit/proofs/inclusion/{int(seq)}", InclusionProof, params=params
        )

    def consistency_proof(self, old: int, new: int) -> ConsistencyProof:
        from steward.domain.checkpoint import ConsistencyProof

        return self._call(
            "GET",
            "/api/v1/audit/proofs/consistency",
            ConsistencyProof,
            params={"old": old, "new": new},
        )

    def reconcile_audit(self) -> Reconciliation:
        from steward.domain.reconcile import Reconciliation

        return self._call("GET", "/api/v1/audit/reconcile", Reconciliation)

    def add_witness(self, name: str, public_key: str) -> Witness:
        from steward.domain.checkpoint import Witness

        return self._call(
            "POST",
            "/api/v1/audit/witnesses",
            Witness,
            json={"name": name, "public_key": public_key},
        )

    def list_witnesses(self) -> list[Witness]:
        from steward.domain.checkpoint import Witness

        return self._call("GET", "/api/v1/audit/witnesses", list[Witness])

    def remove_witness(self, name: str) -> None:
        self._send("DELETE", f"/api/v1/audit/witnesses/{_q(name)}")

    def add_cosignature(self, note: str, checkpoint: int | None) -> StoredCheckpoint:
        from steward.domain.checkpoint import StoredCheckpoint

        if checkpoint is None:
            # The route names the checkpoint; find it by the note's tree size here.
            from steward.domain import checkpoint as cp

            try:
                size = cp.parse(note)[0].tree_size
            except cp.CheckpointFormatError as exc:
                raise InvalidInput(f"Not a cosigned checkpoint: {exc}.", field="note") from exc
            matches = [c for c in self.list_checkpoints(10_000) if c.tree_size == size]
            if not matches:
                raise InvalidInput(
                    f"The server has no checkpoint of {size} events; list them with "
                    "`steward audit checkpoint --list`.",
                    field="note",
                )
            checkpoint = matches[-1].id
        return self._call(
            "POST",
            f"/api/v1/audit/checkpoints/{int(checkpoint)}/cosignatures",
            StoredCheckpoint,
            json={"note": note},
        )

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
        from steward.domain.entities import NewToken

        return self._call(
            "POST",
            "/api/v1/tokens",
            NewToken,
            json={"user": user, "name": name, "expires_in_days": expires_in_days},
        )

    def list_tokens(self, user: str | None) -> list[TokenInfo]:
        from steward.domain.entities import TokenInfo

        return self._call(
            "GET", "/api/v1/tokens", list[TokenInfo], params=self._params({"user": user})
        )

    def revoke_token(self, token_id: str) -> TokenInfo:
        from steward.domain.entities import TokenInfo

        return self._call("DELETE", f"/api/v1/tokens/{_q(token_id)}", TokenInfo)

    # -- one's own notifications ------------------------------------------------------
    def notifications(
        self, unread_only: bool, limit: int, before: int | None
    ) -> list[Notification]:
        from steward.domain.notifications import Notification

        params = self._params({"unread_only": unread_only, "limit": limit, "before": before})
        return self._call("GET", "/api/v1/notifications", list[Notification], params=params)

    def mark_notification_read(self, notification_id: int) -> int:
        path = f"/api/v1/notifications/{int(notification_id)}/read"
        return self._call("POST", path, dict[str, int])["changed"]

    def mark_all_notifications_read(self) -> int:
        return self._call("POST", "/api/v1/notifications/read-all", dict[str, int])["changed"]

    def notification_preferences(self) -> Preferences:
        from steward.domain.notifications import Preferences

        return self._call("GET", "/api/v1/notifications/preferences", Preferences)

    def set_notification_preferences(self, changes: dict[str, Any]) -> Preferences:
        from steward.domain.notifications import Preferences

        body = {k: list(v) if k == "email_kinds" else v for k, v in changes.items()}
        return self._call(
            "PUT",
            "/api/v1/notifications/preferences",
            Preferences,
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )

    def send_test_email(self) -> str:
        return self._call("POST", "/api/v1/notifications/test-email", dict[str, str])["address"]

    def notification_outbox(self) -> OutboxStatus:
        from steward.domain.notifications import OutboxStatus

        return self._call("GET", "/api/v1/notifications/outbox", OutboxStatus)

    # -- users, teams, roles ------------------------------------------------------------
    def create_user(self, name: str, fields: dict[str, Any]) -> User:
        from steward.domain.identity import User

        body = {"name": name, **fields}
        for key in ("roles", "teams"):
            if key in body:
                body[key] = list(body[key])
        return self._call("POST", "/api/v1/users", User, json=body)

    def get_user(self, name: str) -> User:
        from steward.domain.identity import User

        return self._call("GET", f"/api/v1/users/{_q(name)}", User)

    def list_users(self, filters: dict[str, Any]) -> list[User]:
        from steward.domain.identity import User

        params = self._params(filters)
        if "active" in params:
            params["active"] = "true" if params["active"] else "false"
        return self._call("GET", "/api/v1/users", list[User], params=params)

    def update_user(self, name: str, fields: dict[str, Any]) -> User:
        from steward.domain.identity import User

        return self._call("PATCH", f"/api/v1/users/{_q(name)}", User, json=fields)

    def doctor(self, fix: bool) -> DoctorReport:
        from steward.domain.doctor import DoctorReport

        return self._call("POST", "/api/v1/system/doctor", DoctorReport, json={"fix": fix})

    def disable_user(self, name: str, reason: str) -> User:
        from steward.domain.identity import User

        path = f"/api/v1/users/{_q(name)}/disable"
        return self._call("POST", path, User, json={"reason": reason})

    def enable_user(self, name: str) -> User:
        from steward.domain.identity import User

        return self._call("POST", f"/api/v1/users/{_q(name)}/enable", User)

    def set_password(self, name: str, password: str, current_password: str | None) -> User:
        from steward.domain.identity import User

        body = {"password": password, "current_password": current_password}
        return self._call("PUT", f"/api/v1/users/{_q(name)}/password", User, json=body)

    def grant_role(self, name: str, role: str) -> User:
        from steward.domain.identity import User

        return self._call("PUT", f"/api/v1/users/{_q(name)}/roles/{_q(role)}", User)

    def revoke_role(self, name: str, role: str) -> User:
        from steward.domain.identity import User

        return self._call("DELETE", f"/api/v1/users/{_q(name)}/roles/{_q(role)}", User)

    def login(self, user: str, password: str) -> NewToken:
        from steward.domain.entities import NewToken

        body = {"user": user, "password": password}
        return self._call("POST", "/api/v1/auth/login", NewToken, json=body)

    def sso_device_start(self) -> dict[str, Any]:
        return self._call("POST", "/api/v1/auth/sso/device", dict[str, Any])

    def sso_device_token(self, device_code: str) -> NewToken:
        from steward.domain.entities import NewToken

        body = {"device_code": device_code}
        return self._call("POST", "/api/v1/auth/sso/device/token", NewToken, json=body)

    def create_team(self, name: str, fields: dict[str, Any]) -> Team:
        from steward.domain.identity import Team

        body = {"name": name, **fields}
        if "members" in body:
            body["members"] = list(body["members"])
        return self._call("POST", "/api/v1/teams", Team, json=body)

    def get_team(self, name: str) -> Team:
        from steward.domain.identity import Team

        return self._call("GET", f"/api/v1/teams/{_q(name)}", Team)

    def list_teams(self) -> list[Team]:
        from steward.domain.identity import Team

        return self._call("GET", "/api/v1/teams", list[Team])

    def update_team(self, name: str, changes: dict[str, Any]) -> Team:
        from steward.domain.identity import Team

        return self._call("PATCH", f"/api/v1/teams/{_q(name)}", Team, json=changes)

    def delete_team(self, name: str) -> Team:
        from steward.domain.identity import Team

        return self._call("DELETE", f"/api/v1/teams/{_q(name)}", Team)

    def add_team_member(self, team: str, user: str) -> Team:
        from steward.domain.identity import Team

        return self._call("PUT", f"/api/v1/teams/{_q(team)}/members/{_q(user)}", Team)

    def remove_team_member(self, team: str, user: str) -> Team:
        from steward.domain.identity import Team

        return self._call("DELETE", f"/api/v1/teams/{_q(team)}/members/{_q(user)}", Team)

    # -- findings, waivers, periodic reviews -------------------------------------------
    def open_finding(self, model: str, fields: dict[str, Any]) -> Finding:
        from steward.domain.findings import Finding

        body = {k: v for k, v in fields.items() if v is not None}
        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/findings",
            Finding,
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )

    def list_findings(self, filters: dict[str, Any]) -> Page[Finding]:
        from steward.domain.entities import Page
        from steward.domain.findings import Finding

        return self._call("GET", "/api/v1/findings", Page[Finding], params=self._params(filters))

    def get_finding(self, finding_id: int) -> Finding:
        from steward.domain.findings import Finding

        return self._call("GET", f"/api/v1/findings/{int(finding_id)}", Finding)

    def update_finding(self, finding_id: int, changes: dict[str, Any]) -> Finding:
        from steward.domain.findings import Finding

        body = {k: v for k, v in changes.items() if v is not None}
        return self._call(
            "PATCH",
            f"/api/v1/findings/{int(finding_id)}",
            Finding,
            content=_json(body),
            headers={"Content-Type": "application/json"},
        )

    def comment_finding(self, finding_id: int, body: str) -> FindingComment:
        from steward.domain.findings import FindingComment

        return self._call(
            "POST",
            f"/api/v1/findings/{int(finding_id)}/comments",
            FindingComment,
            json={"body": body},
        )

    def finding_comments(self, finding_id: int) -> list[FindingComment]:
        from steward.domain.findings import FindingComment

        return self._call(
            "GET", f"/api/v1/findings/{int(finding_id)}/comments", list[FindingComment]
        )

    def grant_waiver(
        self, model: str, version: int, requirement: str, reason: str, expires: str
    ) -> Waiver:
        from steward.domain.findings import Waiver

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/versions/{int(version)}/waivers",
            Waiver,
            json={"requirement": requirement, "reason": reason, "expires": expires},
        )

    def list_waivers(self, filters: dict[str, Any]) -> Page[Waiver]:
        from steward.domain.entities import Page
        from steward.domain.findings import Waiver

        params = dict(filters)
        params["active"] = params.pop("active_only", False)
        return self._call("GET", "/api/v1/waivers", Page[Waiver], params=self._params(params))

    def get_waiver(self, waiver_id: int) -> Waiver:
        from steward.domain.findings import Waiver

        return self._call("GET", f"/api/v1/waivers/{int(waiver_id)}", Waiver)

    def revoke_waiver(self, waiver_id: int, reason: str) -> Waiver:
        from steward.domain.findings import Waiver

        return self._call(
            "POST", f"/api/v1/waivers/{int(waiver_id)}/revoke", Waiver, json={"reason": reason}
        )

    def complete_review(self, model: str, outcome: str, notes: str) -> Review:
        from steward.domain.reviews import Review

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/reviews",
            Review,
            json={"outcome": outcome, "notes": notes},
        )

    def list_reviews(self, model: str) -> list[Review]:
        from steward.domain.reviews import Review

        return self._call("GET", f"/api/v1/models/{_q(model)}/reviews", list[Review])

    def reviews_due(self, within_days: int) -> list[ReviewDue]:
        from steward.domain.reviews import ReviewDue

        return self._call(
            "GET", "/api/v1/reviews/due", list[ReviewDue], params={"within_days": within_days}
        )

    # -- risk assessment -------------------------------------------------------------
    def risk_questionnaire(self) -> Questionnaire:
        from steward.domain.risk import Questionnaire

        return self._call("GET", "/api/v1/risk/questionnaire", Questionnaire)

    def assess_risk(self, model: str, answers: dict[str, Any]) -> RiskAssessment:
        from steward.domain.risk import RiskAssessment

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/risk-assessments",
            RiskAssessment,
            content=_json({"answers": answers}),
            headers={"Content-Type": "application/json"},
        )

    def risk_assessment(self, model: str) -> AssessmentStatus:
        from steward.domain.risk import AssessmentStatus

        return self._call("GET", f"/api/v1/models/{_q(model)}/risk-assessment", AssessmentStatus)

    def risk_history(self, model: str) -> list[RiskAssessment]:
        from steward.domain.risk import RiskAssessment

        return self._call(
            "GET", f"/api/v1/models/{_q(model)}/risk-assessments", list[RiskAssessment]
        )

    def get_risk_assessment(self, assessment_id: str) -> RiskAssessment:
        from steward.domain.risk import RiskAssessment

        return self._call("GET", f"/api/v1/risk-assessments/{_q(assessment_id)}", RiskAssessment)

    # -- compliance: catalogs, coverage, organisation dashboard ------------------------
    def compliance_catalogs(self) -> list[CatalogInfo]:
        from steward.compliance.mapping import CatalogInfo

        return self._call("GET", "/api/v1/compliance/catalogs", list[CatalogInfo])

    def compliance_controls(self, framework: str, all_levels: bool) -> list[ControlInfo]:
        from steward.compliance.mapping import ControlInfo

        return self._call(
            "GET",
            f"/api/v1/compliance/catalogs/{_q(framework)}/controls",
            list[ControlInfo],
            params={"all_levels": all_levels},
        )

    def compliance_control(self, framework: str, control: str) -> ControlInfo:
        from steward.compliance.mapping import ControlInfo

        return self._call(
            "GET",
            f"/api/v1/compliance/catalogs/{_q(framework)}/controls/{_q(control)}",
            ControlInfo,
        )

    def crosswalk(self, source: str, target: str) -> Crosswalk:
        from steward.compliance.mapping import Crosswalk

        return self._call(
            "GET",
            "/api/v1/compliance/crosswalk",
            Crosswalk,
            params={"source": source, "target": target},
        )

    def model_coverage(self, model: str, frameworks: list[str] | None) -> ModelCoverage:
        from steward.compliance.coverage import ModelCoverage

        return self._call(
            "GET",
            f"/api/v1/compliance/coverage/{_q(model)}",
            ModelCoverage,
            params={"framework": frameworks or []},
        )

    def organisation_coverage(
        self, frameworks: list[str] | None, controls: bool
    ) -> OrganisationCoverage:
        from steward.compliance.coverage import OrganisationCoverage

        return self._call(
            "GET",
            "/api/v1/compliance/coverage",
            OrganisationCoverage,
            params={"framework": frameworks or [], "controls": controls},
        )

    def compliance_dashboard(self) -> Dashboard:
        from steward.compliance.dashboard import Dashboard

        return self._call("GET", "/api/v1/compliance/dashboard", Dashboard)

    # -- model cards and evidence packs ---------------------------------------------
    def set_narrative(self, model: str, version: int, fields: dict[str, str]) -> list[Narrative]:
        from steward.compliance.modelcard import Narrative

        return self._call(
            "PUT",
            f"/api/v1/models/{_q(model)}/versions/{version}/narratives",
            list[Narrative],
            json={"fields": fields},
        )

    def narratives(self, model: str, version: int) -> list[Narrative]:
        from steward.compliance.modelcard import Narrative

        return self._call(
            "GET", f"/api/v1/models/{_q(model)}/versions/{version}/narratives", list[Narrative]
        )

    def narrative_history(self, model: str, version: int, field: str | None) -> list[Narrative]:
        from steward.compliance.modelcard import Narrative

        return self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/narratives/history",
            list[Narrative],
            params=self._params({"field": field}),
        )

    def _document(self, path: str, params: dict[str, Any], fallback: str) -> RenderedCard:
        """A downloaded document, named as the server's Content-Disposition names it."""
        from steward.compliance.modelcard import RenderedCard

        response = self._send("GET", path, params=self._params(params))
        disposition = response.headers.get("content-disposition", "")
        found = re.search(r'filename="([^"/\\]+)"', disposition)
        media = response.headers.get("content-type", "application/json").split(";")[0]
        return RenderedCard(found.group(1) if found else fallback, media, response.content)

    def compliance_export(self, fmt: str, framework: str | None, model: str | None) -> RenderedCard:
        return self._document(
            "/api/v1/compliance/export",
            {"format": fmt, "framework": framework, "model": model},
            f"steward-{fmt}.json",
        )

    def version_bom(self, model: str, version: int, fmt: str, sign: bool = False) -> RenderedCard:
        return self._document(
            f"/api/v1/models/{_q(model)}/versions/{version}/bom",
            {"format": fmt, "sign": "true" if sign else "false"},
            f"{model}-v{version}.{fmt}.json",
        )

    def impact_form(self) -> ImpactForm:
        from steward.domain.impact import ImpactForm

        return self._call("GET", "/api/v1/impact/form", ImpactForm)

    def submit_impact_assessment(self, model: str, answers: dict[str, Any]) -> ImpactAssessment:
        from steward.domain.impact import ImpactAssessment

        path = f"/api/v1/models/{_q(model)}/impact-assessments"
        return self._call("POST", path, ImpactAssessment, json={"answers": answers})

    def decide_impact_assessment(
        self, model: str, approve: bool, comment: str, revision: int | None
    ) -> ImpactAssessment:
        from steward.domain.impact import ImpactAssessment

        body = {"approve": approve, "comment": comment, "revision": revision}
        path = f"/api/v1/models/{_q(model)}/impact-assessment/decision"
        return self._call("POST", path, ImpactAssessment, json=body)

    def impact_assessment(self, model: str) -> ImpactAssessment | None:
        from steward.domain.impact import ImpactAssessment

        path = f"/api/v1/models/{_q(model)}/impact-assessment"
        return self._call("GET", path, ImpactAssessment | None)  # type: ignore[arg-type]

    def impact_history(self, model: str) -> list[ImpactAssessment]:
        from steward.domain.impact import ImpactAssessment

        path = f"/api/v1/models/{_q(model)}/impact-assessments"
        return self._call("GET", path, list[ImpactAssessment])

    def model_card(self, model: str, version: int) -> ModelCard:
        from steward.compliance.modelcard import ModelCard

        return self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/model-card",
            ModelCard,
            params={"format": "json"},
        )

    def render_model_card(self, model: str, version: int, fmt: str) -> RenderedCard:
        from steward.compliance import modelcard as mc
        from steward.compliance.modelcard import RenderedCard

        fmt = mc.check_format(fmt)
        response = self._send(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/model-card",
            params={"format": fmt},
        )
        return RenderedCard(
            f"{model}-v{version}-model-card.{fmt}", mc.MEDIA_TYPES[fmt], response.content
        )

    def export_evidence(
        self, model: str, dest: Path, versions: list[int] | None, include_pdf: bool
    ) -> PackSummary:
        from steward.compliance.evidence import read_summary

        tmp = dest.with_name(f".{dest.name}.partial")
        body = {"versions": versions, "include_pdf": include_pdf}
        try:
            with self._http.stream(
                "POST", f"/api/v1/models/{_q(model)}/evidence-pack", json=body
            ) as response:
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
            tmp.replace(dest)
        except httpx.TransportError as exc:
            raise StewardError(
                f"Cannot reach the Steward server at {self._http.base_url}: {exc}"
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return read_summary(dest)

    # -- signing, deploy records, webhooks -------------------------------------------
    def signing_key(self) -> SigningKeyInfo:
        from steward.domain.trust import SigningKeyInfo

        return self._call("GET", "/api/v1/signing/key", SigningKeyInfo)

    def signatures(self, model: str, version: int) -> list[SignatureRecord]:
        from steward.domain.trust import SignatureRecord

        return self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/signatures",
            list[SignatureRecord],
        )

    def signature_bundle(self, model: str, version: int) -> SignatureBundle:
        from steward.domain.trust import SignatureBundle

        return self._call(
            "GET", f"/api/v1/models/{_q(model)}/versions/{version}/signature", SignatureBundle
        )

    def record_deployment(
        self,
        model: str,
        environment: str,
        sha256: str,
        version: int | None,
        details: dict[str, str] | None,
    ) -> Deployment:
        from steward.domain.trust import Deployment

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/deployments",
            Deployment,
            json={
                "environment": environment,
                "sha256": sha256,
                "version": version,
                "details": details,
            },
        )

    def list_deployments(
        self, model: str | None, environment: str | None, status: str | None, limit: int
    ) -> list[Deployment]:
        from steward.domain.trust import Deployment

        params = self._params(
            {"model": model, "environment": environment, "status": status, "limit": limit}
        )
        return self._call("GET", "/api/v1/deployments", list[Deployment], params=params)

    def create_webhook(
        self, url: str, events: list[str], description: str, secret: str | None
    ) -> NewWebhook:
        from steward.domain.webhooks import NewWebhook

        body = {"url": url, "events": events, "description": description, "secret": secret}
        return self._call("POST", "/api/v1/webhooks", NewWebhook, json=body)

    def list_webhooks(self, include_deleted: bool) -> list[Webhook]:
        from steward.domain.webhooks import Webhook

        return self._call(
            "GET",
            "/api/v1/webhooks",
            list[Webhook],
            params={"include_deleted": str(include_deleted).lower()},
        )

    def get_webhook(self, webhook_id: str) -> Webhook:
        from steward.domain.webhooks import Webhook

        return self._call("GET", f"/api/v1/webhooks/{_q(webhook_id)}", Webhook)

    def delete_webhook(self, webhook_id: str) -> Webhook:
        from steward.domain.webhooks import Webhook

        return self._call("DELETE", f"/api/v1/webhooks/{_q(webhook_id)}", Webhook)

    def webhook_deliveries(
        self, webhook_id: str, status: str | None, limit: int
    ) -> list[WebhookDelivery]:
        from steward.domain.webhooks import WebhookDelivery

        return self._call(
            "GET",
            f"/api/v1/webhooks/{_q(webhook_id)}/deliveries",
            list[WebhookDelivery],
            params=self._params({"status": status, "limit": limit}),
        )

    def deliver_webhooks(self, limit: int) -> DeliveryReport:
        from steward.domain.webhooks import DeliveryReport

        return self._call("POST", "/api/v1/webhooks/deliver", DeliveryReport, json={"limit": limit})

    # -- datasets --------------------------------------------------------------------------
    def create_dataset(self, name: str, values: dict[str, Any]) -> Dataset:
        from steward.domain.datasets import Dataset

        return self._call("POST", "/api/v1/datasets", Dataset, json={"name": name, **values})

    def update_dataset(self, name: str, values: dict[str, Any]) -> Dataset:
        from steward.domain.datasets import Dataset

        return self._call("PATCH", f"/api/v1/datasets/{_q(name)}", Dataset, json=values)

    def get_dataset(self, name: str) -> Dataset:
        from steward.domain.datasets import Dataset

        return self._call("GET", f"/api/v1/datasets/{_q(name)}", Dataset)

    def list_datasets(self, filters: dict[str, Any]) -> Page[Dataset]:
        from steward.domain.datasets import Dataset
        from steward.domain.entities import Page

        return self._call("GET", "/api/v1/datasets", Page[Dataset], params=self._params(filters))

    def dataset_versions(self, name: str) -> list[DatasetSnapshot]:
        from steward.domain.datasets import DatasetSnapshot

        return self._call("GET", f"/api/v1/datasets/{_q(name)}/versions", list[DatasetSnapshot])

    def dataset_version(self, name: str, version: int) -> DatasetSnapshot:
        from steward.domain.datasets import DatasetSnapshot

        return self._call(
            "GET", f"/api/v1/datasets/{_q(name)}/versions/{int(version)}", DatasetSnapshot
        )

    def snapshot_dataset(self, name: str, frame: Any, source: str) -> DatasetSnapshot:
        """Upload the rows as Parquet; without rows the server reads the source's connection."""
        from steward.domain.datasets import DatasetSnapshot

        path = f"/api/v1/datasets/{_q(name)}/versions"
        if frame is None:
            return self._call("POST", path, DatasetSnapshot, data={"source": source})
        return self._post_frame(path, DatasetSnapshot, frame, {"source": source})

    def _post_frame(self, path: str, tp: type[T], frame: Any, data: dict[str, str]) -> T:
        """POST ``frame`` as a Parquet upload named ``data`` (with form fields ``data``)."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="steward-upload-") as tmp:
            file = Path(tmp) / "data.parquet"
            frame.to_parquet(file, index=False)
            with file.open("rb") as handle:
                return self._call(
                    "POST",
                    path,
                    tp,
                    data=data,
                    files={"data": (file.name, handle, "application/vnd.apache.parquet")},
                )

    def set_dataset_rules(self, name: str, text: str, filename: str) -> RuleSet:
        from steward.domain.datasets import RuleSet

        return self._call(
            "PUT",
            f"/api/v1/datasets/{_q(name)}/rules",
            RuleSet,
            json={"text": text, "filename": filename},
        )

    def dataset_rules(self, name: str) -> list[RuleSet]:
        from steward.domain.datasets import RuleSet

        return self._call("GET", f"/api/v1/datasets/{_q(name)}/rules", list[RuleSet])

    def dataset_findings(self, name: str) -> list[DataFinding]:
        from steward.domain.datasets import DataFinding

        return self._call("GET", f"/api/v1/datasets/{_q(name)}/findings", list[DataFinding])

    def list_data_findings(self, filters: dict[str, Any]) -> list[DataFinding]:
        from steward.domain.datasets import DataFinding

        return self._call(
            "GET", "/api/v1/findings/data", list[DataFinding], params=self._params(filters)
        )

    def approve_dataset(self, name: str, version: int, comment: str) -> DatasetSnapshot:
        from steward.domain.datasets import DatasetSnapshot

        return self._call(
            "POST",
            f"/api/v1/datasets/{_q(name)}/versions/{int(version)}/approvals",
            DatasetSnapshot,
            json={"comment": comment},
        )

    def dataset_impact(self, name: str, version: int) -> Impact:
        from steward.domain.datasets import Impact

        return self._call(
            "GET", f"/api/v1/datasets/{_q(name)}/versions/{int(version)}/impact", Impact
        )

    def dataset_card(self, name: str, fmt: str) -> RenderedCard:
        from steward.compliance import datacard
        from steward.compliance.modelcard import MEDIA_TYPES, RenderedCard

        fmt = datacard.check_format(fmt)
        response = self._send("GET", f"/api/v1/datasets/{_q(name)}/card", params={"format": fmt})
        return RenderedCard(f"{name}-dataset-card.{fmt}", MEDIA_TYPES[fmt], response.content)

    # -- personal data in datasets -------------------------------------------------------
    def dataset_personal_data(self, name: str, version: int) -> PersonalData:
        from steward.domain.personal_data import PersonalData

        path = f"/api/v1/datasets/{_q(name)}/versions/{int(version)}/personal-data"
        return self._call("GET", path, PersonalData)

    def scan_dataset(self, name: str, version: int, frame: Any, rescan: bool) -> PersonalData:
        """Without rows, the server reads the source; with them, they are uploaded."""
        from steward.domain.personal_data import PersonalData

        path = f"/api/v1/datasets/{_q(name)}/versions/{int(version)}/personal-data"
        if frame is None:
            if not rescan:
                return self._call("GET", path, PersonalData)
            return self._call("POST", path + "/scan", PersonalData, data={"rescan": "true"})
        return self._post_frame(path + "/scan", PersonalData, frame, {})

    def classify_column(
        self, name: str, version: int, column: str, categories: list[str] | None, reason: str
    ) -> ColumnClass:
        from steward.domain.personal_data import ColumnClass

        return self._call(
            "POST",
            f"/api/v1/datasets/{_q(name)}/versions/{int(version)}/personal-data/reviews",
            ColumnClass,
            json={"column": column, "categories": categories, "reason": reason},
        )

    def discover_datasets(self, connection: str) -> Discovery:
        from steward.domain.discovery import Discovery, connection_arg

        name = connection_arg(connection)
        return self._call("GET", f"/api/v1/connections/{_q(name)}/discovery", Discovery)

    def recall_dataset(self, name: str, version: int, severity: str, reason: str) -> Recall:
        from steward.domain.datasets import Recall

        return self._call(
            "POST",
            f"/api/v1/datasets/{_q(name)}/versions/{int(version)}/recall",
            Recall,
            json={"severity": severity, "reason": reason},
        )

    def version_datasets(self, model: str, version: int) -> DataLineage:
        from steward.domain.datasets import DataLineage

        return self._call(
            "GET", f"/api/v1/models/{_q(model)}/versions/{int(version)}/datasets", DataLineage
        )

    # -- data connections ----------------------------------------------------------------
    def create_connection(self, name: str, values: dict[str, Any]) -> Connection:
        from steward.domain.connections import Connection

        return self._call("POST", "/api/v1/connections", Connection, json={"name": name, **values})

    def list_connections(self) -> list[Connection]:
        from steward.domain.connections import Connection

        return self._call("GET", "/api/v1/connections", list[Connection])

    def get_connection(self, name: str) -> Connection:
        from steward.domain.connections import Connection

        return self._call("GET", f"/api/v1/connections/{_q(name)}", Connection)

    def delete_connection(self, name: str) -> Connection:
        from steward.domain.connections import Connection

        return self._call("DELETE", f"/api/v1/connections/{_q(name)}", Connection)

    def close(self) -> None:
        self._http.close()

    # -- policy packs, gates, transition requests and approvals, check runs ---------
    def load_policy(self, text: str, source: str, activate: bool) -> PolicyPackInfo:
        from steward.domain.requests import PolicyPackInfo

        return self._call(
            "POST",
            "/api/v1/policies",
            PolicyPackInfo,
            json={"source": text, "filename": source, "activate": activate},
        )

    def activate_policy(self, name: str, version: str) -> PolicyPackInfo:
        from steward.domain.requests import PolicyPackInfo

        return self._call(
            "POST", f"/api/v1/policies/{_q(name)}/{_q(version)}/activate", PolicyPackInfo
        )

    def deactivate_policy(self) -> None:
        self._send("DELETE", "/api/v1/policies/active")

    def list_policies(self) -> list[PolicyPackInfo]:
        from steward.domain.requests import PolicyPackInfo

        return self._call("GET", "/api/v1/policies", list[PolicyPackInfo])

    def get_policy(self, name: str | None, version: str | None) -> tuple[PolicyPackInfo, str]:
        from steward.domain.requests import PolicyPackInfo

        if name is None:
            path = "/api/v1/policies/active"
        else:
            if version is None:
                found = [p for p in self.list_policies() if p.name == name]
                if not found:
                    from steward.domain.errors import NotFound

                    raise NotFound(
                        f"No policy pack {name} is loaded; list them with `steward policy list`."
                    )
                version = found[0].version
            path = f"/api/v1/policies/{_q(name)}/{_q(version)}"
        body = self._call("GET", path, dict[str, Any])
        return wire.load(PolicyPackInfo, body["pack"], what="policy"), str(body["source"])

    def request_transition(
        self, model: str, version: int, to: str, justification: str
    ) -> RequestResult:
        from steward.domain.requests import RequestResult

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/versions/{version}/requests",
            RequestResult,
            json={"to": to, "justification": justification},
        )

    def decide(self, request_id: str, verdict: str, comment: str) -> RequestResult:
        from steward.domain.requests import RequestResult

        return self._call(
            "POST",
            f"/api/v1/requests/{_q(request_id)}/{verdict}",
            RequestResult,
            json={"comment": comment},
        )

    def withdraw_request(self, request_id: str, reason: str) -> TransitionRequest:
        from steward.domain.requests import TransitionRequest

        return self._call(
            "POST",
            f"/api/v1/requests/{_q(request_id)}/withdraw",
            TransitionRequest,
            json={"reason": reason},
        )

    def apply_request(self, request_id: str) -> RequestResult:
        from steward.domain.requests import RequestResult

        return self._call("POST", f"/api/v1/requests/{_q(request_id)}/apply", RequestResult)

    def get_request(self, request_id: str) -> RequestResult:
        from steward.domain.requests import RequestResult

        return self._call("GET", f"/api/v1/requests/{_q(request_id)}", RequestResult)

    def list_requests(
        self, status: str | None, model: str | None, limit: int
    ) -> list[TransitionRequest]:
        from steward.domain.requests import TransitionRequest

        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if model is not None:
            params["model"] = model
        return self._call("GET", "/api/v1/requests", list[TransitionRequest], params=params)

    def inbox(self) -> list[RequestResult]:
        from steward.domain.requests import RequestResult

        return self._call("GET", "/api/v1/requests/inbox", list[RequestResult])

    def record_checks(self, model: str, version: int, record: RunRecord) -> CheckRun:
        from steward.domain.checks import CheckRun

        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/versions/{version}/check-runs",
            CheckRun,
            content=wire.dump_json(record),
            headers={"Content-Type": "application/json"},
        )

    def get_check_run(self, run_id: str) -> CheckRun:
        from steward.domain.checks import CheckRun

        return self._call("GET", f"/api/v1/check-runs/{_q(run_id)}", CheckRun)

    def list_check_runs(self, model: str, version: int, limit: int) -> list[CheckRun]:
        from steward.domain.checks import CheckRun

        return self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/versions/{version}/check-runs",
            list[CheckRun],
            params={"limit": limit},
        )

    # -- monitoring -----------------------------------------------------------------
    def monitor_reference_data(self, model: str, version: int) -> str:
        from steward.domain.errors import InvalidInput

        raise InvalidInput(
            "Over HTTP the reference is profiled on this machine: pass reference=frame or "
            "--reference PATH (the training or evaluation data).",
            field="reference",
        )

    def create_monitor(
        self, model: str, version: int, name: str, config: dict[str, Any], reference: Any
    ) -> Any:
        from steward.domain.monitoring import Monitor

        body = {"name": name, "config": config, "reference": wire.dump(reference)}
        return self._call(
            "POST",
            f"/api/v1/models/{_q(model)}/versions/{version}/monitors",
            Monitor,
            content=_json(body),
            headers={"content-type": "application/json"},
        )

    def monitors(self, model: str | None, version: int | None, include_deleted: bool) -> list[Any]:
        from steward.domain.monitoring import Monitor

        params = self._params(
            {"model": model, "version": version, "include_deleted": include_deleted or None}
        )
        return self._call("GET", "/api/v1/monitors", list[Monitor], params=params)

    def get_monitor(self, ref: str) -> Any:
        from steward.domain.monitoring import Monitor

        return self._call("GET", f"/api/v1/monitors/{_q(ref)}", Monitor)

    def monitor_profile(self, ref: str) -> str:
        return self._send("GET", f"/api/v1/monitors/{_q(ref)}/reference").text

    def monitor_exact_reference(self, ref: str) -> bytes:
        return self._send("GET", f"/api/v1/monitors/{_q(ref)}/reference/exact").content

    def update_monitor(self, ref: str, config: dict[str, Any], active: bool | None) -> Any:
        from steward.domain.monitoring import Monitor

        body = {"config": config, "active": active}
        return self._call(
            "PATCH",
            f"/api/v1/monitors/{_q(ref)}",
            Monitor,
            content=_json(body),
            headers={"content-type": "application/json"},
        )

    def delete_monitor(self, ref: str, reason: str) -> Any:
        from steward.domain.monitoring import Monitor

        return self._call(
            "DELETE", f"/api/v1/monitors/{_q(ref)}", Monitor, params={"reason": reason}
        )

    def record_monitor_batch(self, ref: str, payload: Any) -> Any:
        from steward.domain.monitoring import MonitorRun

        return self._call(
            "POST",
            f"/api/v1/monitors/{_q(ref)}/runs",
            MonitorRun,
            content=_json(wire.dump(payload)),
            headers={"content-type": "application/json"},
        )

    def record_monitor_labels(self, ref: str, labels: dict[str, float]) -> Any:
        from steward.domain.monitoring import LabelReport

        return self._call(
            "POST",
            f"/api/v1/monitors/{_q(ref)}/labels",
            LabelReport,
            content=_json({"labels": labels}),
            headers={"content-type": "application/json"},
        )

    def monitor_runs(self, ref: str, limit: int, results: bool) -> list[Any]:
        from steward.domain.monitoring import MonitorRun

        params = {"limit": limit, "results": results}
        path = f"/api/v1/monitors/{_q(ref)}/runs"
        return self._call("GET", path, list[MonitorRun], params=params)

    def monitor_run(self, run_id: str) -> Any:
        from steward.domain.monitoring import MonitorRun

        return self._call("GET", f"/api/v1/monitor-runs/{_q(run_id)}", MonitorRun)

    def monitor_history(
        self,
        ref: str,
        column: str | None,
        metric: str | None,
        since: datetime | None,
        limit: int,
        by: str = "run",
    ) -> list[Any]:
        from steward.domain.monitoring import HistoryPoint

        params = self._params(
            {
                "column": column,
                "metric": metric,
                "since": None if since is None else since.isoformat(),
                "limit": limit,
                "by": by,
            }
        )
        return self._call(
            "GET", f"/api/v1/monitors/{_q(ref)}/history", list[HistoryPoint], params=params
        )

    def alerts(
        self,
        model: str | None,
        version: int | None,
        monitor: str | None,
        status: str,
        limit: int,
    ) -> list[Any]:
        from steward.domain.monitoring import Alert

        params = self._params(
            {
                "model": model,
                "version": version,
                "monitor": monitor,
                "status": status,
                "limit": limit,
            }
        )
        return self._call("GET", "/api/v1/alerts", list[Alert], params=params)

    def get_alert(self, alert_id: str) -> Any:
        from steward.domain.monitoring import Alert

        return self._call("GET", f"/api/v1/alerts/{_q(alert_id)}", Alert)

    def resolve_alert(self, alert_id: str, note: str) -> Any:
        from steward.domain.monitoring import Alert

        return self._call(
            "POST", f"/api/v1/alerts/{_q(alert_id)}/resolve", Alert, json={"note": note}
        )

    def run_due_monitors(self, limit: int, engine: str) -> Any:
        from steward.domain.monitoring import ScheduleReport

        return self._call(
            "POST",
            "/api/v1/monitors/run-due",
            ScheduleReport,
            json={"limit": limit, "engine": engine},
        )

    # -- validation engine --------------------------------------------------------------
    def validate(
        self,
        model: str,
        version: int,
        data: Any,
        options: ValidateOptions,
        reference: Any,
        progress: Any,
    ) -> CheckRun:
        """Upload the data as Parquet; the server loads the artifact and runs the suite."""
        import tempfile

        from steward.domain.checks import CheckRun

        with tempfile.TemporaryDirectory(prefix="steward-validate-") as tmp:
            files: dict[str, Any] = {}
            handles = []
            try:
                for field, frame in (("data", data), ("reference", reference)):
                    if frame is None:
                        continue
                    path = Path(tmp) / f"{field}.parquet"
                    frame.to_parquet(path, index=False)
                    handle = path.open("rb")
                    handles.append(handle)
                    files[field] = (path.name, handle, "application/vnd.apache.parquet")
                if progress:
                    progress(0, 1, "running on the server")
                run = self._call(
                    "POST",
                    f"/api/v1/models/{_q(model)}/versions/{version}/validate",
                    CheckRun,
                    data={"options": json.dumps(options.to_json())},
                    files=files,
                )
            finally:
                for handle in handles:
                    handle.close()
        if progress:
            progress(1, 1, "done")
        return run

    def validation_suites(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/validation/suites", list[dict[str, Any]])

    # -- background jobs ------------------------------------------------------------------
    def submit_validation_job(
        self,
        model: str,
        version: int,
        data: Path | None,
        options: ValidateOptions,
        reference: Path | None,
        stored: dict[str, str],
    ) -> Job:
        from steward.domain.jobs import Job

        with contextlib.ExitStack() as stack:
            files: dict[str, Any] = {}
            for field, path in (("data", data), ("reference", reference)):
                if path is not None:
                    handle = stack.enter_context(path.open("rb"))
                    files[field] = (path.name, handle, "application/octet-stream")
            return self._call(
                "POST",
                f"/api/v1/models/{_q(model)}/versions/{version}/validation-jobs",
                Job,
                data={
                    "options": json.dumps(options.to_json()),
                    **{f"stored_{role}": text for role, text in stored.items()},
                },
                files=files or None,
            )

    def submit_job(self, kind: str, model: str, version: int | None, params: dict[str, Any]) -> Job:
        from steward.domain.jobs import Job

        body = {"kind": kind, "model": model, "version": version, "params": params}
        return self._call("POST", "/api/v1/jobs", Job, json=body)

    def job(self, job_id: str) -> Job:
        from steward.domain.jobs import Job

        return self._call("GET", f"/api/v1/jobs/{_q(job_id)}", Job)

    def jobs(self, flt: JobFilter) -> list[Job]:
        from steward.domain.jobs import Job

        params: dict[str, Any] = {"limit": flt.limit}
        if flt.model is not None:
            params["model"] = flt.model
        if flt.status is not None:
            params["status"] = flt.status.value
        if flt.kind is not None:
            params["kind"] = flt.kind.value
        return self._call("GET", "/api/v1/jobs", list[Job], params=params)

    def cancel_job(self, job_id: str) -> Job:
        from steward.domain.jobs import Job

        return self._call("POST", f"/api/v1/jobs/{_q(job_id)}/cancel", Job)

    def job_result(self, job_id: str) -> tuple[str, bytes]:
        response = self._send("GET", f"/api/v1/jobs/{_q(job_id)}/result")
        disposition = response.headers.get("content-disposition", "")
        name = disposition.split('filename="', 1)[-1].split('"', 1)[0] or job_id
        return name, response.content


def _without_override(fields: dict[str, Any]) -> dict[str, Any]:
    # risk_override_reason travels with the fields but is not a field of the model.
    return {k: v for k, v in fields.items() if k != "risk_override_reason"}


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, default=str).encode()
