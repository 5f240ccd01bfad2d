"""Embedded backend: calls the service layer in-process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

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
from steward.domain.jobs import Job, JobFilter, JobKind
from steward.domain.notifications import Notification, OutboxStatus, Preferences
from steward.domain.permissions import Principal
from steward.domain.personal_data import ColumnClass, PersonalData
from steward.domain.reconcile import Reconciliation
from steward.domain.requests import (
    GateReport,
    PolicyPackInfo,
    RequestResult,
    TransitionRequest,
    Verdict,
)
from steward.domain.reviews import Review, ReviewDue
from steward.domain.risk import AssessmentStatus, Questionnaire, RiskAssessment
from steward.domain.specs import VersionSpec
from steward.domain.trust import Deployment, SignatureBundle, SignatureRecord, SigningKeyInfo
from steward.domain.webhooks import DeliveryReport, NewWebhook, Webhook, WebhookDelivery
from steward.services import (
    approvals,
    audit,
    checks,
    doctor,
    findings,
    gates,
    identity,
    lifecycle,
    models,
    policies,
    reconcile,
    reviews,
    risk,
    sso,
    tokens,
    transparency,
    versions,
    waivers,
    witnesses,
)
from steward.services.context import Context
from steward.validation.options import ValidateOptions

T = TypeVar("T")


class LocalBackend:
    def __init__(self, ctx: Context, actor: str) -> None:
        self.ctx = ctx
        self._actor = actor
        self._principal: Principal | None = None

    @property
    def principal(self) -> Principal:
        """The operator (every permission) plus the stored roles and teams of a user of
        that name, resolved on first use and again after each identity change made here."""
        if self._principal is None:
            self._principal = identity.principal_for(self.ctx, self._actor, operator=True)
        return self._principal

    def _changed(self, value: T) -> T:
        self._principal = None
        return value

    @property
    def actor(self) -> str:
        return self._actor

    def create_model(self, name: str, fields: dict[str, Any]) -> Model:
        return models.create_model(self.ctx, self.principal, name, **fields)

    def update_model(self, name: str, fields: dict[str, Any]) -> Model:
        return models.update_model(self.ctx, self.principal, name, **fields)

    def get_model(self, name: str) -> Model:
        return models.get_model(self.ctx, self.principal, name)

    def list_models(self, filters: dict[str, Any]) -> Page[Model]:
        return models.list_models(self.ctx, self.principal, **filters)

    def create_version(
        self, model: str, spec: VersionSpec, artifact: Path, sha256: str
    ) -> ModelVersion:
        return versions.create_version(
            self.ctx, self.principal, model, spec, artifact, sha256=sha256
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
        return versions.amend_version(
            self.ctx,
            self.principal,
            model,
            version,
            justification=justification,
            training_data=training,
            evaluation_data=evaluation,
            artifact=artifact,
            sha256=sha256,
        )

    def get_version(self, model: str, version: int) -> ModelVersion:
        return versions.get_version(self.ctx, self.principal, model, version)

    def list_versions(self, model: str | None, filters: dict[str, Any]) -> Page[ModelVersion]:
        return versions.list_versions(self.ctx, self.principal, model, **filters)

    def download(self, model: str, version: int, dest: Path) -> ModelVersion:
        return versions.download_artifact(self.ctx, self.principal, model, version, dest)

    def set_alias(self, model: str, alias: str, version: int) -> ModelVersion:
        return versions.set_alias(self.ctx, self.principal, model, alias, version)

    def get_by_alias(self, model: str, alias: str) -> ModelVersion:
        return versions.get_by_alias(self.ctx, self.principal, model, alias)

    def delete_alias(self, model: str, alias: str) -> None:
        versions.delete_alias(self.ctx, self.principal, model, alias)

    def transition(self, model: str, version: int, to: str, justification: str) -> TransitionResult:
        return lifecycle.transition(self.ctx, self.principal, model, version, to, justification)

    def check_transition(self, model: str, version: int, to: str) -> GateReport:
        return gates.check_gate(self.ctx, self.principal, model, version, to)

    def transitions(self, model: str, version: int) -> list[Transition]:
        return lifecycle.transitions(self.ctx, self.principal, model, version)

    def history(self, at: datetime, model: str | None) -> list[HistoryEntry]:
        return lifecycle.history(self.ctx, self.principal, at=at, model=model)

    def audit_events(self, flt: AuditFilter, limit: int) -> list[AuditEvent]:
        return audit.list_events(self.ctx, self.principal, flt, limit)

    def verify_audit(
        self,
        workers: int = 1,
        anchors: Sequence[str] = (),
        checkpoints: Sequence[tuple[str, str]] = (),
    ) -> Verification:
        return audit.verify(
            self.ctx, self.principal, workers=workers, anchors=anchors, checkpoints=checkpoints
        )

    def create_checkpoint(self, publish_to: Sequence[str] | None) -> StoredCheckpoint:
        return transparency.create_checkpoint(self.ctx, self.principal, publish_to=publish_to)

    def list_checkpoints(self, limit: int) -> list[StoredCheckpoint]:
        return transparency.list_checkpoints(self.ctx, self.principal, limit)

    def inclusion_proof(self, seq: int, checkpoint: int | None) -> InclusionProof:
        return transparency.inclusion_proof(self.ctx, self.principal, seq, checkpoint)

    def consistency_proof(self, old: int, new: int) -> ConsistencyProof:
        return transparency.consistency_proof(self.ctx, self.principal, old, new)

    def reconcile_audit(self) -> Reconciliation:
        return reconcile.reconcile(self.ctx, self.principal)

    def add_witness(self, name: str, public_key: str) -> Witness:
        return witnesses.add_witness(self.ctx, self.principal, name, public_key)

    def list_witnesses(self) -> list[Witness]:
        return witnesses.list_witnesses(self.ctx, self.principal)

    def remove_witness(self, name: str) -> None:
        witnesses.remove_witness(self.ctx, self.principal, name)

    def add_cosignature(self, note: str, checkpoint: int | None) -> StoredCheckpoint:
        return witnesses.add_cosignature(self.ctx, self.principal, note, checkpoint)

    def export_audit(self, dest: Path) -> int:
        count = 0
        with dest.open("w", encoding="utf-8") as out:
            for line in audit.export_lines(self.ctx, self.principal):
                out.write(line)
                count += 1
        return count

    def create_token(self, user: str, name: str, expires_in_days: int | None) -> NewToken:
        return tokens.create_token(
            self.ctx, self.principal, user=user, name=name, expires_in_days=expires_in_days
        )

    def list_tokens(self, user: str | None) -> list[TokenInfo]:
        return tokens.list_tokens(self.ctx, self.principal, user)

    def revoke_token(self, token_id: str) -> TokenInfo:
        return tokens.revoke_token(self.ctx, self.principal, token_id)

    # one's own notifications
    def notifications(
        self, unread_only: bool, limit: int, before: int | None
    ) -> list[Notification]:
        from steward.services import notifications

        return notifications.list_mine(
            self.ctx, self.principal, unread_only=unread_only, limit=limit, before=before
        )

    def mark_notification_read(self, notification_id: int) -> int:
        from steward.services import notifications

        return notifications.mark_read(self.ctx, self.principal, notification_id)

    def mark_all_notifications_read(self) -> int:
        from steward.services import notifications

        return notifications.mark_all_read(self.ctx, self.principal)

    def notification_preferences(self) -> Preferences:
        from steward.services import notifications

        return notifications.get_prefs(self.ctx, self.principal)

    def set_notification_preferences(self, changes: dict[str, Any]) -> Preferences:
        from steward.services import notifications

        return notifications.set_prefs(self.ctx, self.principal, **changes)

    def send_test_email(self) -> str:
        from steward.services import notifications

        return notifications.send_test(self.ctx, self.principal)

    def notification_outbox(self) -> OutboxStatus:
        from steward.services import notifications

        return notifications.status(self.ctx, self.principal)

    # users, teams, roles
    def create_user(self, name: str, fields: dict[str, Any]) -> User:
        return self._changed(identity.create_user(self.ctx, self.principal, name, **fields))

    def get_user(self, name: str) -> User:
        return identity.get_user(self.ctx, self.principal, name)

    def list_users(self, filters: dict[str, Any]) -> list[User]:
        return identity.list_users(self.ctx, self.principal, **filters)

    def update_user(self, name: str, fields: dict[str, Any]) -> User:
        return identity.update_user(self.ctx, self.principal, name, **fields)

    def doctor(self, fix: bool) -> DoctorReport:
        return doctor.check(self.ctx, self.principal, fix=fix)

    def disable_user(self, name: str, reason: str) -> User:
        return self._changed(identity.disable_user(self.ctx, self.principal, name, reason))

    def enable_user(self, name: str) -> User:
        return self._changed(identity.enable_user(self.ctx, self.principal, name))

    def set_password(self, name: str, password: str, current_password: str | None) -> User:
        return identity.set_password(
            self.ctx, self.principal, name, password, current_password=current_password
        )

    def grant_role(self, name: str, role: str) -> User:
        return self._changed(identity.grant_role(self.ctx, self.principal, name, role))

    def revoke_role(self, name: str, role: str) -> User:
        return self._changed(identity.revoke_role(self.ctx, self.principal, name, role))

    def login(self, user: str, password: str) -> NewToken:
        return identity.login(self.ctx, user, password)

    def sso_device_start(self) -> dict[str, Any]:
        return sso.device_start(self.ctx)

    def sso_device_token(self, device_code: str) -> NewToken:
        return sso.device_poll(self.ctx, device_code).token

    def create_team(self, name: str, fields: dict[str, Any]) -> Team:
        return self._changed(identity.create_team(self.ctx, self.principal, name, **fields))

    def get_team(self, name: str) -> Team:
        return identity.get_team(self.ctx, self.principal, name)

    def list_teams(self) -> list[Team]:
        return identity.list_teams(self.ctx, self.principal)

    def update_team(self, name: str, changes: dict[str, Any]) -> Team:
        return self._changed(identity.update_team(self.ctx, self.principal, name, **changes))

    def delete_team(self, name: str) -> Team:
        return self._changed(identity.delete_team(self.ctx, self.principal, name))

    def add_team_member(self, team: str, user: str) -> Team:
        return self._changed(identity.add_member(self.ctx, self.principal, team, user))

    def remove_team_member(self, team: str, user: str) -> Team:
        return self._changed(identity.remove_member(self.ctx, self.principal, team, user))

    # -- findings, waivers, periodic reviews ---------------------------------------
    def open_finding(self, model: str, fields: dict[str, Any]) -> Finding:
        return findings.open_finding(self.ctx, self.principal, model, **fields)

    def list_findings(self, filters: dict[str, Any]) -> Page[Finding]:
        return findings.list_findings(self.ctx, self.principal, **filters)

    def get_finding(self, finding_id: int) -> Finding:
        return findings.get_finding(self.ctx, self.principal, finding_id)

    def update_finding(self, finding_id: int, changes: dict[str, Any]) -> Finding:
        return findings.update_finding(self.ctx, self.principal, finding_id, **changes)

    def comment_finding(self, finding_id: int, body: str) -> FindingComment:
        return findings.comment_finding(self.ctx, self.principal, finding_id, body)

    def finding_comments(self, finding_id: int) -> list[FindingComment]:
        return findings.finding_comments(self.ctx, self.principal, finding_id)

    def grant_waiver(
        self, model: str, version: int, requirement: str, reason: str, expires: str
    ) -> Waiver:
        return waivers.grant_waiver(
            self.ctx,
            self.principal,
            model,
            version,
            requirement=requirement,
            reason=reason,
            expires=expires,
        )

    def list_waivers(self, filters: dict[str, Any]) -> Page[Waiver]:
        return waivers.list_waivers(self.ctx, self.principal, **filters)

    def get_waiver(self, waiver_id: int) -> Waiver:
        return waivers.get_waiver(self.ctx, self.principal, waiver_id)

    def revoke_waiver(self, waiver_id: int, reason: str) -> Waiver:
        return waivers.revoke_waiver(self.ctx, self.principal, waiver_id, reason)

    def complete_review(self, model: str, outcome: str, notes: str) -> Review:
        return reviews.complete_review(
            self.ctx, self.principal, model, outcome=outcome, notes=notes
        )

    def list_reviews(self, model: str) -> list[Review]:
        return reviews.list_reviews(self.ctx, self.principal, model)

    def reviews_due(self, within_days: int) -> list[ReviewDue]:
        return reviews.reviews_due(self.ctx, self.principal, within_days=within_days)

    # -- risk assessment -------------------------------------------------------------
    def risk_questionnaire(self) -> Questionnaire:
        return risk.questionnaire(self.ctx, self.principal)

    def assess_risk(self, model: str, answers: dict[str, Any]) -> RiskAssessment:
        return risk.assess(self.ctx, self.principal, model, answers)

    def risk_assessment(self, model: str) -> AssessmentStatus:
        return risk.get_assessment(self.ctx, self.principal, model)

    def risk_history(self, model: str) -> list[RiskAssessment]:
        return risk.history(self.ctx, self.principal, model)

    def get_risk_assessment(self, assessment_id: str) -> RiskAssessment:
        return risk.get_by_id(self.ctx, self.principal, assessment_id)

    # -- compliance: catalogs, coverage, organisation dashboard ------------------------
    def compliance_catalogs(self) -> list[CatalogInfo]:
        from steward.services import compliance

        return compliance.list_catalogs(self.ctx, self.principal)

    def compliance_controls(self, framework: str, all_levels: bool) -> list[ControlInfo]:
        from steward.services import compliance

        return compliance.list_controls(self.ctx, self.principal, framework, all_levels=all_levels)

    def compliance_control(self, framework: str, control: str) -> ControlInfo:
        from steward.services import compliance

        return compliance.get_control(self.ctx, self.principal, framework, control)

    def crosswalk(self, source: str, target: str) -> Crosswalk:
        from steward.services import compliance

        return compliance.crosswalk(self.ctx, self.principal, source, target)

    def model_coverage(self, model: str, frameworks: list[str] | None) -> ModelCoverage:
        from steward.services import compliance

        return compliance.model_coverage(self.ctx, self.principal, model, frameworks)

    def organisation_coverage(
        self, frameworks: list[str] | None, controls: bool
    ) -> OrganisationCoverage:
        from steward.services import compliance

        return compliance.organisation_coverage(
            self.ctx, self.principal, frameworks, controls=controls
        )

    def compliance_dashboard(self) -> Dashboard:
        from steward.services import compliance

        return compliance.organisation_dashboard(self.ctx, self.principal)

    # -- model cards and evidence packs ---------------------------------------------
    def set_narrative(self, model: str, version: int, fields: dict[str, str]) -> list[Narrative]:
        from steward.services import modelcards

        return modelcards.set_narrative(self.ctx, self.principal, model, version, fields)

    def narratives(self, model: str, version: int) -> list[Narrative]:
        from steward.services import modelcards

        return modelcards.narratives(self.ctx, self.principal, model, version)

    def narrative_history(self, model: str, version: int, field: str | None) -> list[Narrative]:
        from steward.services import modelcards

        return modelcards.narrative_history(self.ctx, self.principal, model, version, field)

    def compliance_export(self, fmt: str, framework: str | None, model: str | None) -> RenderedCard:
        from steward.services import exports

        return exports.compliance_export(
            self.ctx, self.principal, fmt, framework=framework, model=model
        )

    def version_bom(self, model: str, version: int, fmt: str, sign: bool = False) -> RenderedCard:
        from steward.services import exports

        return exports.version_bom(self.ctx, self.principal, model, version, fmt, sign)

    def impact_form(self) -> ImpactForm:
        from steward.services import impact

        return impact.form(self.ctx, self.principal)

    def submit_impact_assessment(self, model: str, answers: dict[str, Any]) -> ImpactAssessment:
        from steward.services import impact

        return impact.submit(self.ctx, self.principal, model, answers)

    def decide_impact_assessment(
        self, model: str, approve: bool, comment: str, revision: int | None
    ) -> ImpactAssessment:
        from steward.services import impact

        return impact.decide(
            self.ctx, self.principal, model, approve=approve, comment=comment, revision=revision
        )

    def impact_assessment(self, model: str) -> ImpactAssessment | None:
        from steward.services import impact

        return impact.current(self.ctx, self.principal, model)

    def impact_history(self, model: str) -> list[ImpactAssessment]:
        from steward.services import impact

        return impact.history(self.ctx, self.principal, model)

    def model_card(self, model: str, version: int) -> ModelCard:
        from steward.services import modelcards

        return modelcards.model_card(self.ctx, self.principal, model, version)

    def render_model_card(self, model: str, version: int, fmt: str) -> RenderedCard:
        from steward.services import modelcards

        return modelcards.render(self.ctx, self.principal, model, version, fmt)

    def export_evidence(
        self, model: str, dest: Path, versions: list[int] | None, include_pdf: bool
    ) -> PackSummary:
        from steward.services import evidence

        tmp = dest.with_name(f".{dest.name}.partial")
        try:
            with tmp.open("wb") as out:
                found = evidence.export_pack(
                    self.ctx,
                    self.principal,
                    model,
                    out,
                    versions=versions,
                    include_pdf=include_pdf,
                )
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return found

    # -- signing, deploy records, webhooks -------------------------------------------
    def signing_key(self) -> SigningKeyInfo:
        from steward.services import signing

        return signing.key_info(self.ctx, self.principal)

    def signatures(self, model: str, version: int) -> list[SignatureRecord]:
        from steward.services import signing

        return signing.signatures(self.ctx, self.principal, model, version)

    def signature_bundle(self, model: str, version: int) -> SignatureBundle:
        from steward.services import signing

        return signing.bundle(self.ctx, self.principal, model, version)

    def record_deployment(
        self,
        model: str,
        environment: str,
        sha256: str,
        version: int | None,
        details: dict[str, str] | None,
    ) -> Deployment:
        from steward.services import deployments

        return deployments.record_deployment(
            self.ctx,
            self.principal,
            model,
            environment=environment,
            sha256=sha256,
            version=version,
            details=details,
        )

    def list_deployments(
        self, model: str | None, environment: str | None, status: str | None, limit: int
    ) -> list[Deployment]:
        from steward.services import deployments

        return deployments.list_deployments(
            self.ctx,
            self.principal,
            model=model,
            environment=environment,
            status=status,
            limit=limit,
        )

    def create_webhook(
        self, url: str, events: list[str], description: str, secret: str | None
    ) -> NewWebhook:
        from steward.services import webhooks

        return webhooks.create_webhook(
            self.ctx,
            self.principal,
            url=url,
            events=events,
            description=description,
            secret=secret,
        )

    def list_webhooks(self, include_deleted: bool) -> list[Webhook]:
        from steward.services import webhooks

        return webhooks.list_webhooks(self.ctx, self.principal, include_deleted=include_deleted)

    def get_webhook(self, webhook_id: str) -> Webhook:
        from steward.services import webhooks

        return webhooks.get_webhook(self.ctx, self.principal, webhook_id)

    def delete_webhook(self, webhook_id: str) -> Webhook:
        from steward.services import webhooks

        return webhooks.delete_webhook(self.ctx, self.principal, webhook_id)

    def webhook_deliveries(
        self, webhook_id: str, status: str | None, limit: int
    ) -> list[WebhookDelivery]:
        from steward.services import webhooks

        return webhooks.list_deliveries(
            self.ctx, self.principal, webhook_id, status=status, limit=limit
        )

    def deliver_webhooks(self, limit: int) -> DeliveryReport:
        from steward.services import webhooks
        from steward.webhooks.deliver import HttpSender

        sender = HttpSender()
        try:
            return webhooks.deliver(self.ctx, self.principal, sender, limit=limit)
        finally:
            sender.close()

    # -- datasets --------------------------------------------------------------------------
    def create_dataset(self, name: str, values: dict[str, Any]) -> Dataset:
        from steward.services import datasets

        return datasets.create_dataset(self.ctx, self.principal, name, **values)

    def update_dataset(self, name: str, values: dict[str, Any]) -> Dataset:
        from steward.services import datasets

        return datasets.update_dataset(self.ctx, self.principal, name, **values)

    def get_dataset(self, name: str) -> Dataset:
        from steward.services import datasets

        return datasets.get_dataset(self.ctx, self.principal, name)

    def list_datasets(self, filters: dict[str, Any]) -> Page[Dataset]:
        from steward.services import datasets

        return datasets.list_datasets(self.ctx, self.principal, **filters)

    def dataset_versions(self, name: str) -> list[DatasetSnapshot]:
        from steward.services import datasets

        return datasets.versions(self.ctx, self.principal, name)

    def dataset_version(self, name: str, version: int) -> DatasetSnapshot:
        from steward.services import datasets

        return datasets.get_version(self.ctx, self.principal, f"{name}@{version}")

    def snapshot_dataset(self, name: str, frame: Any, source: str) -> DatasetSnapshot:
        from steward.services import data_quality

        return data_quality.snapshot(self.ctx, self.principal, name, frame, source=source)

    def set_dataset_rules(self, name: str, text: str, filename: str) -> RuleSet:
        from steward.services import data_quality

        return data_quality.set_rules(self.ctx, self.principal, name, text, filename)

    def dataset_rules(self, name: str) -> list[RuleSet]:
        from steward.services import datasets

        return datasets.rule_sets(self.ctx, self.principal, name)

    def dataset_findings(self, name: str) -> list[DataFinding]:
        from steward.services import datasets

        return datasets.findings(self.ctx, self.principal, name)

    def list_data_findings(self, filters: dict[str, Any]) -> list[DataFinding]:
        return findings.list_data_findings(self.ctx, self.principal, **filters)

    def approve_dataset(self, name: str, version: int, comment: str) -> DatasetSnapshot:
        from steward.services import datasets

        return datasets.approve(self.ctx, self.principal, f"{name}@{version}", comment)

    def dataset_impact(self, name: str, version: int) -> Impact:
        from steward.services import datasets

        return datasets.impact(self.ctx, self.principal, f"{name}@{version}")

    def dataset_card(self, name: str, fmt: str) -> RenderedCard:
        from steward.services import dataset_cards

        return dataset_cards.render(self.ctx, self.principal, name, fmt)

    def discover_datasets(self, connection: str) -> Discovery:
        from steward.services import data_discovery

        return data_discovery.discover(self.ctx, self.principal, connection)

    def recall_dataset(self, name: str, version: int, severity: str, reason: str) -> Recall:
        from steward.services import data_recall

        return data_recall.recall(
            self.ctx, self.principal, f"{name}@{version}", severity=severity, reason=reason
        )

    def version_datasets(self, model: str, version: int) -> DataLineage:
        from steward.services import datasets

        return datasets.lineage(self.ctx, self.principal, model, version)

    # -- personal data in datasets -------------------------------------------------------
    def dataset_personal_data(self, name: str, version: int) -> PersonalData:
        from steward.services import personal_data

        return personal_data.classification(self.ctx, self.principal, f"{name}@{version}")

    def scan_dataset(self, name: str, version: int, frame: Any, rescan: bool) -> PersonalData:
        from steward.services import personal_data

        ref = f"{name}@{version}"
        return personal_data.scan(self.ctx, self.principal, ref, frame, rescan=rescan)

    def classify_column(
        self, name: str, version: int, column: str, categories: list[str] | None, reason: str
    ) -> ColumnClass:
        from steward.services import personal_data

        ref = f"{name}@{version}"
        return personal_data.classify(self.ctx, self.principal, ref, column, categories, reason)

    # -- data connections ----------------------------------------------------------------
    def create_connection(self, name: str, values: dict[str, Any]) -> Connection:
        from steward.services import connections

        return connections.create_connection(self.ctx, self.principal, name, **values)

    def list_connections(self) -> list[Connection]:
        from steward.services import connections

        return connections.list_connections(self.ctx, self.principal)

    def get_connection(self, name: str) -> Connection:
        from steward.services import connections

        return connections.get_connection(self.ctx, self.principal, name)

    def delete_connection(self, name: str) -> Connection:
        from steward.services import connections

        return connections.delete_connection(self.ctx, self.principal, name)

    def close(self) -> None:
        self.ctx.uow.engine.dispose()

    # -- policy packs, gates, transition requests and approvals, check runs ---------
    def load_policy(self, text: str, source: str, activate: bool) -> PolicyPackInfo:
        return policies.load_pack(self.ctx, self.principal, text, source=source, activate=activate)

    def activate_policy(self, name: str, version: str) -> PolicyPackInfo:
        return policies.activate_pack(self.ctx, self.principal, name, version)

    def deactivate_policy(self) -> None:
        policies.deactivate(self.ctx, self.principal)

    def list_policies(self) -> list[PolicyPackInfo]:
        return policies.list_packs(self.ctx, self.principal)

    def get_policy(self, name: str | None, version: str | None) -> tuple[PolicyPackInfo, str]:
        return policies.get_pack(self.ctx, self.principal, name, version)

    def request_transition(
        self, model: str, version: int, to: str, justification: str
    ) -> RequestResult:
        return approvals.request_transition(
            self.ctx, self.principal, model, version, to, justification
        )

    def decide(self, request_id: str, verdict: str, comment: str) -> RequestResult:
        return approvals.decide(self.ctx, self.principal, request_id, Verdict(verdict), comment)

    def withdraw_request(self, request_id: str, reason: str) -> TransitionRequest:
        return approvals.withdraw(self.ctx, self.principal, request_id, reason)

    def apply_request(self, request_id: str) -> RequestResult:
        return approvals.apply_request(self.ctx, self.principal, request_id)

    def get_request(self, request_id: str) -> RequestResult:
        return approvals.get_request(self.ctx, self.principal, request_id)

    def list_requests(
        self, status: str | None, model: str | None, limit: int
    ) -> list[TransitionRequest]:
        return approvals.list_requests(
            self.ctx, self.principal, status=status, model=model, limit=limit
        )

    def inbox(self) -> list[RequestResult]:
        return approvals.inbox(self.ctx, self.principal)

    def record_checks(self, model: str, version: int, record: RunRecord) -> CheckRun:
        return checks.store_run(self.ctx, self.principal, model, version, record)

    def get_check_run(self, run_id: str) -> CheckRun:
        return checks.get_run(self.ctx, self.principal, run_id)

    def list_check_runs(self, model: str, version: int, limit: int) -> list[CheckRun]:
        return checks.list_runs(self.ctx, self.principal, model, version, limit=limit)

    # -- monitoring -----------------------------------------------------------------
    def monitor_reference_data(self, model: str, version: int) -> str:
        from steward.services import monitoring

        return monitoring.reference_data_for(self.ctx, self.principal, model, version)

    def create_monitor(
        self, model: str, version: int, name: str, config: dict[str, Any], reference: Any
    ) -> Any:
        from steward.services import monitoring

        return monitoring.create_monitor(
            self.ctx, self.principal, model, version, name=name, config=config, reference=reference
        )

    def monitors(self, model: str | None, version: int | None, include_deleted: bool) -> list[Any]:
        from steward.services import monitoring

        return monitoring.list_monitors(
            self.ctx, self.principal, model=model, version=version, include_deleted=include_deleted
        )

    def get_monitor(self, ref: str) -> Any:
        from steward.services import monitoring

        return monitoring.get_monitor(self.ctx, self.principal, ref)

    def monitor_profile(self, ref: str) -> str:
        from steward.services import monitoring

        return monitoring.monitor_reference(self.ctx, self.principal, ref)

    def monitor_exact_reference(self, ref: str) -> bytes:
        from steward.services import monitoring

        return monitoring.monitor_exact_reference(self.ctx, self.principal, ref)

    def update_monitor(self, ref: str, config: dict[str, Any], active: bool | None) -> Any:
        from steward.services import monitoring

        return monitoring.update_monitor(
            self.ctx, self.principal, ref, config=config, active=active
        )

    def delete_monitor(self, ref: str, reason: str) -> Any:
        from steward.services import monitoring

        return monitoring.delete_monitor(self.ctx, self.principal, ref, reason=reason)

    def record_monitor_batch(self, ref: str, payload: Any) -> Any:
        from steward.services import monitoring

        return monitoring.record_batch(self.ctx, self.principal, ref, payload)

    def record_monitor_labels(self, ref: str, labels: dict[str, float]) -> Any:
        from steward.services import monitoring

        return monitoring.record_labels(self.ctx, self.principal, ref, labels)

    def monitor_runs(self, ref: str, limit: int, results: bool) -> list[Any]:
        from steward.services import monitoring

        return monitoring.list_runs(
            self.ctx, self.principal, ref, limit=limit, with_results=results
        )

    def monitor_run(self, run_id: str) -> Any:
        from steward.services import monitoring

        return monitoring.get_run(self.ctx, self.principal, run_id)

    def monitor_history(
        self,
        ref: str,
        column: str | None,
        metric: str | None,
        since: datetime | None,
        limit: int,
        by: str = "run",
    ) -> list[Any]:
        from steward.services import monitoring

        return monitoring.history(
            self.ctx,
            self.principal,
            ref,
            column=column,
            metric=metric,
            since=since,
            limit=limit,
            by=by,
        )

    def alerts(
        self,
        model: str | None,
        version: int | None,
        monitor: str | None,
        status: str,
        limit: int,
    ) -> list[Any]:
        from steward.services import monitoring

        return monitoring.list_alerts(
            self.ctx,
            self.principal,
            model=model,
            version=version,
            monitor=monitor,
            status=status,
            limit=limit,
        )

    def get_alert(self, alert_id: str) -> Any:
        from steward.services import monitoring

        return monitoring.get_alert(self.ctx, self.principal, alert_id)

    def resolve_alert(self, alert_id: str, note: str) -> Any:
        from steward.services import monitoring

        return monitoring.resolve_alert(self.ctx, self.principal, alert_id, note)

    def run_due_monitors(self, limit: int, engine: str) -> Any:
        from steward.services import scheduler

        return scheduler.run_due(self.ctx, self.principal, limit=limit, engine=engine)

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
        from steward.services import validation

        return validation.validate(
            self.ctx,
            self.principal,
            model,
            version,
            data,
            options,
            reference=reference,
            progress=progress,
        )

    def validation_suites(self) -> list[dict[str, Any]]:
        from steward.services import validation

        return validation.list_suites(self.ctx, self.principal)

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
        from steward.services import jobs

        return jobs.submit(
            self.ctx,
            self.principal,
            JobKind.VALIDATION,
            model,
            version,
            {"options": options.to_json(), **stored},
            data=None if data is None else jobs.Upload(data, data.suffix),
            reference=None if reference is None else jobs.Upload(reference, reference.suffix),
        )

    def submit_job(self, kind: str, model: str, version: int | None, params: dict[str, Any]) -> Job:
        from steward.services import jobs

        return jobs.submit(self.ctx, self.principal, kind, model, version, params)

    def job(self, job_id: str) -> Job:
        from steward.services import jobs

        return jobs.get_job(self.ctx, self.principal, job_id)

    def jobs(self, flt: JobFilter) -> list[Job]:
        from steward.services import jobs

        return jobs.list_jobs(self.ctx, self.principal, flt)

    def cancel_job(self, job_id: str) -> Job:
        from steward.services import jobs

        return jobs.cancel(self.ctx, self.principal, job_id)

    def job_result(self, job_id: str) -> tuple[str, bytes]:
        from steward.services import jobs

        found, chunks = jobs.open_result(self.ctx, self.principal, job_id)
        return found.filename, b"".join(chunks)
