"""The public SDK client: ``steward.connect()`` returns one of these.

Client-side work (serialising the model, fingerprinting and profiling data,
capturing git lineage) happens here, identically for both backends; only the
final calls differ, and they raise the same :mod:`steward.errors` exceptions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from steward.domain.errors import InvalidInput
from steward.sdk.datasets import DatasetMethods
from steward.sdk.personal_data import PersonalDataMethods

if TYPE_CHECKING:
    from steward.compliance.coverage import ModelCoverage, OrganisationCoverage
    from steward.compliance.dashboard import Dashboard
    from steward.compliance.evidence import PackSummary, PackVerification
    from steward.compliance.mapping import CatalogInfo, ControlInfo, Crosswalk
    from steward.compliance.modelcard import ModelCard, Narrative, RenderedCard
    from steward.domain.audit import AuditEvent, Verification
    from steward.domain.checkpoint import (
        ConsistencyProof,
        InclusionProof,
        StoredCheckpoint,
        Witness,
    )
    from steward.domain.checks import (
        CheckResult,
        CheckRun,
    )
    from steward.domain.connections import Connection
    from steward.domain.doctor import DoctorReport
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
    from steward.domain.findings import Finding, FindingComment, Waiver
    from steward.domain.identity import Team, User
    from steward.domain.impact import ImpactAssessment, ImpactForm
    from steward.domain.jobs import Job
    from steward.domain.notifications import Notification, OutboxStatus, Preferences
    from steward.domain.reconcile import Reconciliation
    from steward.domain.requests import GateReport, PolicyPackInfo, RequestResult, TransitionRequest
    from steward.domain.reviews import Review, ReviewDue
    from steward.domain.risk import AssessmentStatus, Questionnaire, RiskAssessment
    from steward.domain.trust import (
        Deployment,
        SignatureRecord,
        SigningKeyInfo,
        VerifyReport,
    )
    from steward.domain.webhooks import DeliveryReport, NewWebhook, Webhook, WebhookDelivery
    from steward.sdk.backend import Backend
    from steward.validation.options import ValidateOptions

T = TypeVar("T")


def _all_pages(
    list_page: Callable[..., Page[T]], *args: Any, page_size: int, **filters: Any
) -> Iterator[T]:
    """Every item of one listing method (``list_models``, ``findings``…), fetching page after
    page with its ``limit``/``cursor`` as the caller iterates: the one paginator of the SDK."""
    cursor: str | None = None
    while True:
        page = list_page(*args, limit=page_size, cursor=cursor, **filters)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


MODEL_FILTERS = ("owner", "team", "risk_tier", "regulatory_category", "status", "stage", "tag", "q")


class Steward(DatasetMethods, PersonalDataMethods):
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        # exact references by content hash: a monitor's never changes, so a client feeding
        # batch after batch downloads it once
        self._exact: dict[str, bytes] = {}

    @property
    def actor(self) -> str:
        return self._backend.actor

    # -- inventory ----------------------------------------------------------------
    def create_model(self, name: str, **fields: Any) -> Model:
        """Register a model: title, description, purpose, business_unit, owner, team, tags..."""
        return self._backend.create_model(name, fields)

    def update_model(self, name: str, **fields: Any) -> Model:
        return self._backend.update_model(name, fields)

    def get_model(self, name: str) -> Model:
        return self._backend.get_model(name)

    def list_models(
        self, *, limit: int = 100, cursor: str | None = None, **filters: Any
    ) -> Page[Model]:
        """Filters: owner, team, risk_tier, regulatory_category, status, stage, tag, q."""
        unknown = sorted(set(filters) - set(MODEL_FILTERS))
        if unknown:
            # Checked here so both backends refuse alike (a server ignores unknown
            # query parameters, which would silently return everything).
            from steward.domain.errors import InvalidInput

            raise InvalidInput(
                f"Unknown model filter(s): {', '.join(unknown)}. "
                f"Filter by: {', '.join(MODEL_FILTERS)}."
            )
        return self._backend.list_models({**filters, "limit": limit, "cursor": cursor})

    def iter_models(self, *, page_size: int = 500, **filters: Any) -> Iterator[Model]:
        """Every model matching the filters, fetching page after page as you iterate."""
        return _all_pages(self.list_models, page_size=page_size, **filters)

    # -- versions -----------------------------------------------------------------
    def log_version(
        self,
        model_name: str,
        model: Any = None,
        *,
        artifact: str | Path | None = None,
        flavor: str | None = None,
        training_data: Any = None,
        evaluation_data: Any = None,
        target: str | None = None,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
        description: str = "",
        parent_version: int | None = None,
        capture_git: bool = True,
        code_path: str | Path | None = None,
    ) -> ModelVersion:
        """Store a new version: the model object (or an artifact file/folder) plus lineage."""
        from steward.artifacts import packaging
        from steward.domain.entities import Signature
        from steward.domain.specs import VersionSpec
        from steward.lineage import datasets, git

        if (model is None) == (artifact is None):
            from steward.domain.errors import InvalidInput

            raise InvalidInput("Pass either a model object or an artifact path (exactly one).")
        source = artifact if artifact is not None else model
        training = (
            datasets.describe(training_data, name=f"{model_name}-training")
            if training_data is not None
            else None
        )
        evaluation = (
            datasets.describe(evaluation_data, name=f"{model_name}-evaluation")
            if evaluation_data is not None
            else None
        )
        signature = None
        if training_data is not None:
            inputs, outputs = datasets.infer_signature_columns(training_data, target, model)
            signature = Signature(inputs=inputs, outputs=outputs)
        code = git.capture(Path(code_path) if code_path else _caller_dir()) if capture_git else None
        prepared = packaging.prepare(source, flavor=flavor)
        try:
            spec = VersionSpec(
                flavor=prepared.flavor,
                filename=prepared.filename,
                is_directory=prepared.is_directory,
                description=description,
                params=params or {},
                metrics=metrics or {},
                tags=tags or {},
                signature=signature,
                code=code,
                training_data=training,
                evaluation_data=evaluation,
                parent_version=parent_version,
            )
            return self._backend.create_version(model_name, spec, prepared.path, prepared.sha256)
        finally:
            prepared.cleanup()

    def amend_version(
        self,
        model_name: str,
        version: int,
        model: Any = None,
        *,
        justification: str,
        artifact: str | Path | None = None,
        flavor: str | None = None,
        training_data: Any = None,
        evaluation_data: Any = None,
    ) -> ModelVersion:
        """Correct a version before production: a new artifact and/or datasets, on the record.

        Approvals given for the old content lapse, so the gate asks for them again.
        """
        from steward.artifacts import packaging
        from steward.lineage import datasets

        if model is not None and artifact is not None:
            from steward.domain.errors import InvalidInput

            raise InvalidInput("Pass a model object or an artifact path, not both.")
        training = (
            datasets.describe(training_data, name=f"{model_name}-training")
            if training_data is not None
            else None
        )
        evaluation = (
            datasets.describe(evaluation_data, name=f"{model_name}-evaluation")
            if evaluation_data is not None
            else None
        )
        source = artifact if artifact is not None else model
        if source is None:
            return self._backend.amend_version(
                model_name, version, justification, training, evaluation, None, None
            )
        prepared = packaging.prepare(source, flavor=flavor)
        try:
            return self._backend.amend_version(
                model_name,
                version,
                justification,
                training,
                evaluation,
                prepared.path,
                prepared.sha256,
            )
        finally:
            prepared.cleanup()

    def get_version(self, model: str, version: int | str) -> ModelVersion:
        """``version`` is a number or an alias such as ``"champion"``."""
        if isinstance(version, str) and not version.isdigit():
            return self._backend.get_by_alias(model, version)
        return self._backend.get_version(model, int(version))

    def list_versions(
        self,
        model: str | None,
        *,
        stage: str | None = None,
        tag: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[ModelVersion]:
        return self._backend.list_versions(
            model, {"stage": stage, "tag": tag, "limit": limit, "cursor": cursor}
        )

    def iter_versions(
        self,
        model: str | None = None,
        *,
        stage: str | None = None,
        tag: str | None = None,
        page_size: int = 500,
    ) -> Iterator[ModelVersion]:
        """Every version of ``model`` (or of all models), newest first, fetched page by page."""
        return _all_pages(self.list_versions, model, stage=stage, tag=tag, page_size=page_size)

    def search_versions(
        self,
        *,
        tag: str | None = None,
        stage: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[ModelVersion]:
        """Across all models; ``tag`` is ``key`` or ``key=value``."""
        return self._backend.list_versions(
            None, {"stage": stage, "tag": tag, "limit": limit, "cursor": cursor}
        )

    def download(self, model: str, version: int | str, dest: str | Path) -> Path:
        """Write the exact stored bytes (verified against the hash); folders are unpacked.

        Into an existing folder, a file artifact is written under its own name; so is a
        folder artifact unless that folder is empty (then it is unpacked right there).
        """
        from steward.artifacts import packaging

        found = self.get_version(model, version)
        # absolute(): "." (the CLI's default) has no name to derive a temporary file from.
        target = Path(dest).absolute()
        if target.is_dir() and (not found.artifact.is_directory or any(target.iterdir())):
            target = target / found.artifact.filename
        if found.artifact.is_directory:
            tar = target.with_name(f".{target.name}.tar")
            try:
                self._backend.download(model, found.version, tar)
                packaging.extract_directory(tar, target)
            finally:
                tar.unlink(missing_ok=True)
        else:
            self._backend.download(model, found.version, target)
        return target

    def load_model(
        self, model: str, version: int | str, *, trusted: list[str] | None = None
    ) -> Any:
        """Load a scikit-learn (skops) version. Unknown types must be listed in ``trusted``."""
        import tempfile

        import skops.io as sio

        found = self.get_version(model, version)
        if found.artifact.flavor.value != "sklearn":
            from steward.domain.errors import ArtifactError

            raise ArtifactError(
                f"Version {found.version} of {model!r} is a {found.artifact.flavor.value} "
                "artifact; use download() and that framework's loader."
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = self.download(model, found.version, Path(tmp) / found.artifact.filename)
            data = path.read_bytes()
        untrusted = sio.get_untrusted_types(data=data)
        refused = sorted(set(untrusted) - set(trusted or []))
        if refused:
            from steward.domain.errors import ArtifactError

            raise ArtifactError(
                "This artifact contains types skops does not trust by default: "
                f"{', '.join(refused)}. Review them and pass trusted=[...] to load it."
            )
        return sio.loads(data, trusted=untrusted)

    # -- aliases and lifecycle -----------------------------------------------------
    def set_alias(self, model: str, alias: str, version: int) -> ModelVersion:
        return self._backend.set_alias(model, alias, version)

    def delete_alias(self, model: str, alias: str) -> None:
        self._backend.delete_alias(model, alias)

    def transition(
        self, model: str, version: int, *, to: str, justification: str
    ) -> TransitionResult:
        return self._backend.transition(model, version, to, justification)

    def check_transition(self, model: str, version: int, *, to: str) -> GateReport:
        """Would this move be allowed now? Each requirement met, unmet or waived, with why."""
        return self._backend.check_transition(model, version, to)

    gate_check = check_transition

    def transitions(self, model: str, version: int) -> list[Transition]:
        return self._backend.transitions(model, version)

    def history(
        self, model: str | None = None, *, at: datetime | None = None
    ) -> list[HistoryEntry]:
        """What each model had in production and under each alias at ``at`` (default now)."""
        return self._backend.history(at or datetime.now(UTC), model)

    # -- audit and tokens -----------------------------------------------------------
    def audit_events(self, *, limit: int = 100, **filters: Any) -> list[AuditEvent]:
        from steward.domain.audit import AuditFilter

        return self._backend.audit_events(AuditFilter(**filters), limit)

    def verify_audit(
        self,
        *,
        workers: int = 1,
        anchors: Sequence[str] = (),
        checkpoints: Sequence[str | Path] = (),
    ) -> Verification:
        """Recompute the chain; ``workers`` > 1 checks segments in parallel (embedded only).

        ``anchors`` are ``"SEQ:HASH"`` heads recorded earlier outside the database; they
        reveal deleted newest events or a rewritten tail, which the chain alone cannot.
        Every stored and published signed checkpoint is checked too; ``checkpoints`` adds
        checkpoint files you kept (read here, sent as text).
        """
        given = [(str(p), _read_checkpoint(Path(p))) for p in checkpoints]
        return self._backend.verify_audit(workers, anchors, given)

    def create_checkpoint(self, *, publish_to: Sequence[str] | None = None) -> StoredCheckpoint:
        """Sign the journal's current tree head and publish it (folders, ``s3://`` prefixes).

        ``publish_to`` replaces the configured destinations (embedded use only).
        """
        return self._backend.create_checkpoint(publish_to)

    def checkpoints(self, *, limit: int = 100) -> list[StoredCheckpoint]:
        """Signed checkpoints, newest first, with where each was published."""
        return self._backend.list_checkpoints(limit)

    def prove_inclusion(self, seq: int, *, checkpoint: int | None = None) -> InclusionProof:
        """Proof that event ``seq`` is in the tree of a checkpoint (default: the latest)."""
        return self._backend.inclusion_proof(seq, checkpoint)

    def prove_consistency(self, old: int, new: int) -> ConsistencyProof:
        """Proof that checkpoint ``new``'s tree extends checkpoint ``old``'s."""
        return self._backend.consistency_proof(old, new)

    def add_witness(self, name: str, public_key: str) -> Witness:
        """Register a witness by its signed-note verifier key (admin)."""
        return self._backend.add_witness(name, public_key)

    def witnesses(self) -> list[Witness]:
        """The registered witnesses, by name."""
        return self._backend.list_witnesses()

    def remove_witness(self, name: str) -> None:
        """Unregister a witness (its stored cosignatures stay)."""
        self._backend.remove_witness(name)

    def submit_cosignature(
        self, note: str | Path, *, checkpoint: int | None = None
    ) -> StoredCheckpoint:
        """Store a witness's cosignature: ``note`` is the cosigned note's text or its file.

        Refused unless its text is a stored checkpoint's and a registered witness signed it.
        """
        text = _read_checkpoint(note) if isinstance(note, Path) else note
        return self._backend.add_cosignature(text, checkpoint)

    def reconcile_audit(self) -> Reconciliation:
        """Replay the journal and name every state row it does not explain.

        ``ok`` is False when a model, version stage, alias, user, role grant, team,
        membership, transition request or approval was written outside Steward
        (e.g. by SQL), or an explained row was deleted.
        """
        return self._backend.reconcile_audit()

    def export_audit(self, dest: str | Path) -> int:
        return self._backend.export_audit(Path(dest))

    def create_token(
        self, user: str, *, name: str = "", expires_in_days: int | None = None
    ) -> NewToken:
        return self._backend.create_token(user, name, expires_in_days)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        return self._backend.list_tokens(user)

    def revoke_token(self, token_id: str) -> TokenInfo:
        return self._backend.revoke_token(token_id)

    # -- one's own notifications --------------------------------------------------------
    def notifications(
        self, *, unread_only: bool = False, limit: int = 50, before: int | None = None
    ) -> list[Notification]:
        """Your notifications, newest first (``before``: older than that id)."""
        return self._backend.notifications(unread_only, limit, before)

    def mark_notification_read(self, notification_id: int) -> int:
        """Mark one of your notifications read; 0 when it already was."""
        return self._backend.mark_notification_read(notification_id)

    def mark_all_notifications_read(self) -> int:
        return self._backend.mark_all_notifications_read()

    def notification_preferences(self) -> Preferences:
        return self._backend.notification_preferences()

    def set_notification_preferences(
        self,
        *,
        email_kinds: Sequence[str] | None = None,
        delivery: str | None = None,
        language: str | None = None,
        timezone: str | None = None,
    ) -> Preferences:
        """Change what you are e-mailed and how (``delivery``: immediate or digest); an
        empty ``language`` or ``timezone`` means the organisation's."""
        changes = {
            "email_kinds": None if email_kinds is None else list(email_kinds),
            "delivery": delivery,
            "language": language,
            "timezone": timezone,
        }
        return self._backend.set_notification_preferences(
            {k: v for k, v in changes.items() if v is not None}
        )

    def send_test_email(self) -> str:
        """Send yourself a test e-mail now; the address it went to."""
        return self._backend.send_test_email()

    def notification_outbox(self) -> OutboxStatus:
        """The e-mail outbox: counts per status and the messages that failed (admin)."""
        return self._backend.notification_outbox()

    # -- users, teams, roles ------------------------------------------------------------
    def create_user(
        self,
        name: str,
        *,
        display_name: str = "",
        email: str = "",
        roles: Sequence[str] = (),
        teams: Sequence[str] = (),
        password: str | None = None,
    ) -> User:
        """Create a user (admin). Roles: admin, owner, validator, risk_officer, approver,
        auditor; teams must exist already."""
        fields: dict[str, Any] = {
            "display_name": display_name,
            "email": email,
            "roles": list(roles),
            "teams": list(teams),
        }
        if password is not None:
            fields["password"] = password
        return self._backend.create_user(name, fields)

    def get_user(self, name: str) -> User:
        return self._backend.get_user(name)

    def list_users(
        self, *, role: str | None = None, team: str | None = None, active: bool | None = None
    ) -> list[User]:
        return self._backend.list_users({"role": role, "team": team, "active": active})

    def update_user(
        self, name: str, *, display_name: str | None = None, email: str | None = None
    ) -> User:
        fields = {"display_name": display_name, "email": email}
        return self._backend.update_user(name, {k: v for k, v in fields.items() if v is not None})

    def doctor(self, *, fix: bool = False) -> DoctorReport:
        """Crash leftovers: dead spool files, unreferenced artifacts; ``fix`` removes them."""
        return self._backend.doctor(fix)

    def disable_user(self, name: str, *, reason: str = "") -> User:
        """Disable a user; their API tokens are revoked at once."""
        return self._backend.disable_user(name, reason)

    def enable_user(self, name: str) -> User:
        return self._backend.enable_user(name)

    def set_password(
        self, name: str, password: str, *, current_password: str | None = None
    ) -> User:
        """An admin sets anyone's password; users change their own with the current one."""
        return self._backend.set_password(name, password, current_password)

    def grant_role(self, name: str, role: str) -> User:
        return self._backend.grant_role(name, role)

    def revoke_role(self, name: str, role: str) -> User:
        return self._backend.revoke_role(name, role)

    def login(self, user: str, password: str) -> NewToken:
        """Check a password; returns an API token that expires after a few hours."""
        return self._backend.login(user, password)

    def sso_device_start(self) -> dict[str, Any]:
        """Start a single sign-on device sign-in: ``verification_uri`` (or
        ``verification_uri_complete``) to open, ``user_code`` to type there, and the
        ``device_code`` to pass to :meth:`sso_device_token`."""
        return self._backend.sso_device_start()

    def sso_device_token(self, device_code: str) -> NewToken:
        """The session token once the person approved at the provider; raises
        ``SignInPending`` until then."""
        return self._backend.sso_device_token(device_code)

    def create_team(
        self,
        name: str,
        *,
        title: str = "",
        description: str = "",
        members: Sequence[str] = (),
        line: str | None = None,
    ) -> Team:
        """Create a team; ``line`` is its line of defence: first, second or third."""
        fields: dict[str, Any] = {
            "title": title,
            "description": description,
            "members": list(members),
        }
        if line is not None:
            fields["line"] = line
        return self._backend.create_team(name, fields)

    def update_team(
        self,
        name: str,
        *,
        title: str | None = None,
        description: str | None = None,
        line: str | None = None,
    ) -> Team:
        """Change a team's title, description or line of defence (``line=""`` clears it)."""
        changes = {
            k: v
            for k, v in {"title": title, "description": description, "line": line}.items()
            if v is not None
        }
        return self._backend.update_team(name, changes)

    def get_team(self, name: str) -> Team:
        return self._backend.get_team(name)

    def list_teams(self) -> list[Team]:
        return self._backend.list_teams()

    def delete_team(self, name: str) -> Team:
        return self._backend.delete_team(name)

    def add_team_member(self, team: str, user: str) -> Team:
        return self._backend.add_team_member(team, user)

    def remove_team_member(self, team: str, user: str) -> Team:
        return self._backend.remove_team_member(team, user)

    # -- findings, waivers, periodic reviews -------------------------------------------
    def open_finding(
        self,
        model: str,
        *,
        title: str,
        severity: str,
        description: str = "",
        version: int | None = None,
        owner: str | None = None,
        due_date: date | str | None = None,
        evidence: dict[str, Any] | None = None,
        scope: str | None = None,
    ) -> Finding:
        """Raise a finding on a model (or one version); severity low/medium/high/critical.

        ``scope`` is ``version`` (this version only; the default when a version is given) or
        ``model`` (every version of the model, e.g. a data or drift problem).
        """
        return self._backend.open_finding(
            model,
            {
                "title": title,
                "severity": severity,
                "description": description,
                "version": version,
                "owner": owner,
                "due_date": _day(due_date),
                "evidence": evidence,
                "scope": scope,
            },
        )

    def findings(
        self,
        model: str | None = None,
        *,
        version: int | None = None,
        status: str | None = None,
        severity_at_least: str | None = None,
        owner: str | None = None,
        source: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        dataset: str | None = None,
    ) -> Page[Finding]:
        """Findings, oldest first; ``status``: active (default), closed, all or one status;
        ``dataset`` (NAME or NAME@V): the findings a data recall of it opened."""
        return self._backend.list_findings(
            {
                "dataset": dataset,
                "model": model,
                "version": version,
                "status": status,
                "severity_at_least": severity_at_least,
                "owner": owner,
                "source": source,
                "limit": limit,
                "cursor": cursor,
            }
        )

    def iter_findings(
        self,
        model: str | None = None,
        *,
        version: int | None = None,
        status: str | None = None,
        severity_at_least: str | None = None,
        owner: str | None = None,
        source: str | None = None,
        page_size: int = 500,
    ) -> Iterator[Finding]:
        """Every finding :meth:`findings` would list, oldest first, fetched page by page."""
        return _all_pages(
            self.findings,
            model,
            version=version,
            status=status,
            severity_at_least=severity_at_least,
            owner=owner,
            source=source,
            page_size=page_size,
        )

    def finding(self, finding_id: int) -> Finding:
        return self._backend.get_finding(finding_id)

    def update_finding(
        self,
        finding_id: int,
        *,
        status: str | None = None,
        severity: str | None = None,
        owner: str | None = None,
        due_date: date | str | None = None,
        note: str | None = None,
    ) -> Finding:
        """Move along open -> in_remediation -> resolved | accepted (closing needs a note)."""
        return self._backend.update_finding(
            finding_id,
            {
                "status": status,
                "severity": severity,
                "owner": owner,
                "due_date": _day(due_date),
                "note": note,
            },
        )

    def comment_finding(self, finding_id: int, body: str) -> FindingComment:
        return self._backend.comment_finding(finding_id, body)

    def finding_comments(self, finding_id: int) -> list[FindingComment]:
        return self._backend.finding_comments(finding_id)

    def grant_waiver(
        self,
        model: str,
        version: int,
        *,
        requirement: str,
        reason: str,
        expires: datetime | date | str,
    ) -> Waiver:
        """Excuse one policy requirement on one version until ``expires`` (a date = its end)."""
        text = expires.isoformat() if isinstance(expires, date) else str(expires)
        return self._backend.grant_waiver(model, version, requirement, reason, text)

    def waivers(
        self,
        model: str | None = None,
        *,
        version: int | None = None,
        active_only: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Waiver]:
        return self._backend.list_waivers(
            {
                "model": model,
                "version": version,
                "active_only": active_only,
                "limit": limit,
                "cursor": cursor,
            }
        )

    def iter_waivers(
        self,
        model: str | None = None,
        *,
        version: int | None = None,
        active_only: bool = False,
        page_size: int = 500,
    ) -> Iterator[Waiver]:
        """Every waiver :meth:`waivers` would list, fetched page by page."""
        return _all_pages(
            self.waivers, model, version=version, active_only=active_only, page_size=page_size
        )

    def waiver(self, waiver_id: int) -> Waiver:
        return self._backend.get_waiver(waiver_id)

    def revoke_waiver(self, waiver_id: int, *, reason: str) -> Waiver:
        return self._backend.revoke_waiver(waiver_id, reason)

    def complete_review(self, model: str, *, outcome: str, notes: str) -> Review:
        """Record a periodic review; the next review date follows the model's risk tier."""
        return self._backend.complete_review(model, outcome, notes)

    def reviews(self, model: str) -> list[Review]:
        return self._backend.list_reviews(model)

    def reviews_due(self, *, within_days: int = 30) -> list[ReviewDue]:
        """Overdue reviews, those due within ``within_days``, and never-scheduled models."""
        return self._backend.reviews_due(within_days)

    # -- risk assessment -------------------------------------------------------------
    def risk_questionnaire(self) -> Questionnaire:
        """The questionnaire risk assessments answer (id, version, questions and values)."""
        return self._backend.risk_questionnaire()

    def assess_risk(self, model: str, answers: Mapping[str, Any] | str | Path) -> RiskAssessment:
        """Answer the risk questionnaire for ``model``; returns the stored assessment.

        ``answers`` maps question ids to answers (a list for "all that apply"
        questions), or is the path of a YAML answers file — problems in a file are
        reported with its line numbers. The model's ``risk_tier`` and
        ``regulatory_category`` are set from the result.
        """
        if isinstance(answers, str | Path):
            from steward.domain import risk

            path = Path(answers)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                from steward.domain.errors import InvalidInput

                raise InvalidInput(f"Cannot read the answers file {path}: {exc}.") from None
            doc = risk.load_answers(text, path.name)
            answers = risk.check_answers(self._backend.risk_questionnaire(), doc, path.name)
        return self._backend.assess_risk(model, dict(answers))

    def risk_assessment(self, model: str) -> AssessmentStatus:
        """The model's current assessment and, in ``problem``, why it is missing or stale."""
        return self._backend.risk_assessment(model)

    def risk_history(self, model: str) -> list[RiskAssessment]:
        """Every assessment of ``model``, newest first."""
        return self._backend.risk_history(model)

    def get_risk_assessment(self, assessment_id: str) -> RiskAssessment:
        return self._backend.get_risk_assessment(assessment_id)

    # -- policy packs, transition requests and approvals, check runs -----------------
    def load_policy(
        self, path: str | Path | None = None, *, text: str | None = None, activate: bool = False
    ) -> PolicyPackInfo:
        """Load a policy pack from a YAML file (or ``text``); ``activate`` makes it apply."""
        if (path is None) == (text is None):
            from steward.domain.errors import InvalidInput

            raise InvalidInput("Give either the path of a policy pack file or its text.")
        source = "policy pack"
        if path is not None:
            source = str(path)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                from steward.domain.errors import InvalidInput

                raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from None
        assert text is not None
        return self._backend.load_policy(text, source, activate)

    def load_default_policy(self, *, activate: bool = True) -> PolicyPackInfo:
        """Load (and by default activate) the policy pack shipped with Steward."""
        from steward.domain.policy import default_pack_text

        return self._backend.load_policy(default_pack_text(), "default-pack.yaml", activate)

    def activate_policy(self, name: str, version: str) -> PolicyPackInfo:
        return self._backend.activate_policy(name, version)

    def deactivate_policy(self) -> None:
        self._backend.deactivate_policy()

    def policies(self) -> list[PolicyPackInfo]:
        return self._backend.list_policies()

    def policy(
        self, name: str | None = None, version: str | None = None
    ) -> tuple[PolicyPackInfo, str]:
        """A loaded pack's record and YAML (the active pack when no name is given)."""
        return self._backend.get_policy(name, version)

    def request_transition(
        self, model: str, version: int, *, to: str, justification: str
    ) -> RequestResult:
        """Ask for a move; it applies at once when the gate is already satisfied."""
        return self._backend.request_transition(model, version, to, justification)

    def approve(self, request_id: str, comment: str = "") -> RequestResult:
        return self._backend.decide(request_id, "approve", comment)

    def reject(self, request_id: str, comment: str) -> RequestResult:
        return self._backend.decide(request_id, "reject", comment)

    def withdraw_request(self, request_id: str, reason: str = "") -> TransitionRequest:
        return self._backend.withdraw_request(request_id, reason)

    def apply_request(self, request_id: str) -> RequestResult:
        return self._backend.apply_request(request_id)

    def get_request(self, request_id: str) -> RequestResult:
        return self._backend.get_request(request_id)

    def requests(
        self, *, status: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[TransitionRequest]:
        return self._backend.list_requests(status, model, limit)

    def inbox(self) -> list[RequestResult]:
        """Open requests you may decide, each with its gate."""
        return self._backend.inbox()

    def record_checks(
        self,
        model: str,
        version: int,
        results: Sequence[CheckResult],
        *,
        suite: str = "external",
        suite_version: str = "1",
        data_fingerprint: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        summary: dict[str, Any] | None = None,
    ) -> CheckRun:
        """Record results computed outside Steward (stored with source "external")."""
        from steward.domain.checks import RunRecord, RunSource, validate_record

        now = datetime.now(UTC)
        record = RunRecord(
            suite=suite,
            suite_version=suite_version,
            source=RunSource.EXTERNAL,
            data_fingerprint=data_fingerprint,
            results=tuple(results),
            started_at=started_at or finished_at or now,
            finished_at=finished_at or now,
            summary=summary or {},
        )
        # Checked here too: NaN does not survive JSON, so a server could not refuse it.
        validate_record(record)
        return self._backend.record_checks(model, version, record)

    def check_run(self, run_id: str) -> CheckRun:
        return self._backend.get_check_run(run_id)

    def check_runs(self, model: str, version: int, *, limit: int = 100) -> list[CheckRun]:
        return self._backend.list_check_runs(model, version, limit)

    # -- validation engine ------------------------------------------------------------
    def validate(
        self,
        model: str,
        version: int,
        *,
        data: Any,
        target: str | None = None,
        sensitive_features: Sequence[str] | str = (),
        suite: str | Path | None = None,
        reference_data: Any = None,
        y_pred: Any = None,
        y_score: Any = None,
        id_columns: Sequence[str] = (),
        features: Sequence[str] | None = None,
        trusted: Sequence[str] = (),
        trust: bool = False,
        baseline: int | None = None,
        settings: dict[str, Any] | None = None,
        positive_means: str | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> CheckRun:
        """Run a validation suite on a version and store the results as evidence.

        ``data`` is a pandas/Polars/Arrow frame or a CSV/Parquet path holding the features,
        the ``target`` and the ``sensitive_features``. ``suite`` is a shipped suite name
        (``steward check suites``) or a suite ``.yaml`` file; by default the classification or
        regression default suite. Predictions mode (no model artifact needed): pass ``y_pred``
        (and optionally ``y_score``) as column names or arrays; ``target`` holds the true
        labels; ``id_columns`` names row identifiers, which (like the label, prediction, score
        and sensitive columns) are not features and are left out of the duplicate, leakage and
        drift checks. ``trusted`` lists skops types you reviewed; ``trust=True`` allows a
        pickle/joblib artifact (it can run arbitrary code). Both are honoured on your own
        machine (embedded); a server refuses them (``Forbidden``) unless its administrator
        set ``STEWARD_ALLOW_UNTRUSTED_FORMATS``, and then runs the model in a sandbox.
        ``positive_means`` is ``"favourable"`` or ``"adverse"`` — what a positive prediction
        means for the person; fairness checks need it unless the model states it
        (``update_model(..., positive_means=...)``) or the suite sets ``favorable_label``.
        Returns the stored :class:`CheckRun`: ``run.passed``,
        ``run.result("fairness.demographic_parity_ratio")``.
        """
        frame, reference, options = _validation_inputs(
            data,
            target,
            sensitive_features,
            suite,
            reference_data,
            y_pred,
            y_score,
            id_columns,
            features,
            trusted,
            trust,
            baseline,
            settings,
            positive_means,
        )
        return self._backend.validate(model, version, frame, options, reference, progress)

    def validation_suites(self) -> list[dict[str, Any]]:
        """The shipped suites: name, version, task, description and checks."""
        return self._backend.validation_suites()

    # -- background jobs (run by `steward worker`) ----------------------------------
    def submit_validation(
        self,
        model: str,
        version: int,
        *,
        data: Any = None,
        target: str | None = None,
        sensitive_features: Sequence[str] | str = (),
        suite: str | Path | None = None,
        reference_data: Any = None,
        y_pred: Any = None,
        y_score: Any = None,
        id_columns: Sequence[str] = (),
        features: Sequence[str] | None = None,
        trusted: Sequence[str] = (),
        trust: bool = False,
        baseline: int | None = None,
        settings: dict[str, Any] | None = None,
        positive_means: str | None = None,
        stored_data: str | None = None,
        stored_reference: str | None = None,
    ) -> Job:
        """Queue the run :meth:`validate` would make, for `steward worker`; returns the
        queued :class:`Job` at once (follow it with :meth:`wait_job`). The data is uploaded
        (as Parquet) with the submission; its result is ``job.result["check_run"]``.

        Instead of ``data`` / ``reference_data``, ``stored_data`` / ``stored_reference`` name
        data the server already holds: ``"NAME@VERSION"`` (a registered dataset version, read
        through its source by the worker) or ``"training"`` / ``"evaluation"`` (the version's
        own data, when a registered dataset version has its rows). ``y_pred`` and ``y_score``
        then name columns of that data."""
        import tempfile

        from steward.domain.errors import InvalidInput

        for role, given, named in (
            ("data", data, stored_data),
            ("reference", reference_data, stored_reference),
        ):
            if given is not None and named is not None:
                raise InvalidInput(
                    f"Pass {role} or name stored {role}, not both.", field=role
                )
        if data is None and stored_data is None:
            raise InvalidInput(
                "Pass data (a frame or file) or stored_data (NAME@VERSION, training or "
                "evaluation).",
                field="data",
            )
        if stored_data is not None and not all(v is None or isinstance(v, str)
                                               for v in (y_pred, y_score)):
            raise InvalidInput(
                "With stored data, y_pred and y_score name columns of that data.",
                field="y_pred",
            )
        stored = {
            role: text
            for role, text in (("data", stored_data), ("reference", stored_reference))
            if text is not None
        }
        frame, reference, options = _validation_inputs(
            data,
            target,
            sensitive_features,
            suite,
            reference_data,
            y_pred,
            y_score,
            id_columns,
            features,
            trusted,
            trust,
            baseline,
            settings,
            positive_means,
        )
        with tempfile.TemporaryDirectory(prefix="steward-job-") as tmp:
            data_path = None
            if frame is not None:
                data_path = Path(tmp) / "data.parquet"
                frame.to_parquet(data_path, index=False)
            reference_path = None
            if reference is not None:
                reference_path = Path(tmp) / "reference.parquet"
                reference.to_parquet(reference_path, index=False)
            return self._backend.submit_validation_job(
                model, version, data_path, options, reference_path, stored
            )

    def submit_job(self, kind: str, model: str, version: int | None = None, **params: Any) -> Job:
        """Queue a ``monitor_run`` (``monitor=``, ``engine=``), ``evidence_pack``
        (``versions=``, ``include_pdf=``) or ``model_card_pdf`` (needs ``version``) job."""
        from steward.domain.jobs import JobKind, parse_kind

        parsed = parse_kind(kind)
        if parsed is JobKind.VALIDATION:
            raise InvalidInput("Submit a validation job with submit_validation().", field="kind")
        return self._backend.submit_job(parsed.value, model, version, params)

    def job(self, job_id: str) -> Job:
        """A job's status, progress, stage, result reference or error."""
        return self._backend.job(job_id)

    def jobs(
        self,
        model: str | None = None,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """Jobs, newest first, on the models you may see."""
        from steward.domain.jobs import JobFilter, parse_kind, parse_status

        return self._backend.jobs(
            JobFilter(
                model=model,
                status=None if status is None else parse_status(status),
                kind=None if kind is None else parse_kind(kind),
                limit=limit,
            )
        )

    def cancel_job(self, job_id: str) -> Job:
        """Cancel a queued job, or ask a running one to stop at its next stage."""
        return self._backend.cancel_job(job_id)

    def wait_job(
        self,
        job_id: str,
        *,
        poll: float = 1.0,
        timeout: float | None = None,
        on_update: Callable[[Job], None] | None = None,
    ) -> Job:
        """Poll until the job has finished (succeeded, failed or cancelled) and return it;
        ``on_update`` sees every state read. Raises ``TimeoutError`` after ``timeout`` s."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = self._backend.job(job_id)
            if on_update is not None:
                on_update(found)
            if found.finished:
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Job {job_id} is still {found.status.value}.")
            time.sleep(poll)

    def job_result(self, job_id: str, dest: str | Path) -> Path:
        """Save the file an evidence-pack or model-card job made; ``dest`` is a file or a
        folder (then the job's file name is used). Returns the path written."""
        filename, content = self._backend.job_result(job_id)
        target = Path(dest)
        if target.is_dir():
            target = target / Path(filename).name
        target.write_bytes(content)
        return target

    # -- signing, deploy records, webhooks -------------------------------------------
    def signing_key(self) -> SigningKeyInfo:
        """The public key Steward signs approved versions with."""
        return self._backend.signing_key()

    def signatures(self, model: str, version: int) -> list[SignatureRecord]:
        """Every signing of a version (newest first): manifest and file hashes."""
        return self._backend.signatures(model, version)

    def export_signature(self, model: str, version: int, dest: str | Path) -> list[Path]:
        """Write the newest signature's files into folder ``dest`` for offline checks:
        ``steward-manifest.json`` (+ ``.sig``), ``model.sig`` (model_signing) and the
        public key. Returns the paths written."""
        found = self._backend.signature_bundle(model, version)
        folder = Path(dest)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in found.files().items():
            target = folder / name
            tmp = folder / f".{name}.partial"
            tmp.write_bytes(data)
            tmp.replace(target)
            written.append(target)
        return written

    @staticmethod
    def verify_artifact(
        artifact: str | Path,
        *,
        manifest: str | Path | None = None,
        manifest_signature: str | Path | None = None,
        model_signature: str | Path | None = None,
        public_key: str | Path | None = None,
    ) -> VerifyReport:
        """Check an artifact file or folder offline against an exported signature.

        ``manifest`` defaults to ``steward-manifest.json`` beside the artifact; the
        other files default to the manifest's siblings. Pin ``public_key`` to a copy
        you trust (``signing_key()``) rather than the one shipped with the manifest.
        """
        from steward.domain.trust import MANIFEST_FILE
        from steward.trust.verify import verify_artifact

        path = Path(artifact)
        return verify_artifact(
            path,
            manifest=Path(manifest) if manifest else path.absolute().parent / MANIFEST_FILE,
            manifest_signature=Path(manifest_signature) if manifest_signature else None,
            model_signature=Path(model_signature) if model_signature else None,
            public_key=Path(public_key) if public_key else None,
        )

    def record_deployment(
        self,
        model: str,
        *,
        environment: str,
        sha256: str | None = None,
        artifact: str | Path | None = None,
        version: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """Report what a deployment actually loaded: its ``sha256``, or the ``artifact``
        file/folder to hash. A hash that is not an approved production artifact opens a
        critical finding (the result's ``status`` is ``mismatch``)."""
        from steward.artifacts import packaging

        if (sha256 is None) == (artifact is None):
            from steward.domain.errors import InvalidInput

            raise InvalidInput(
                "Give either sha256 or artifact (the file or folder that was loaded).",
                field="sha256",
            )
        if artifact is not None:
            prepared = packaging.prepare(artifact)
            prepared.cleanup()
            sha256 = prepared.sha256
        assert sha256 is not None
        extra = None if details is None else {str(k): str(v) for k, v in details.items()}
        return self._backend.record_deployment(model, environment, sha256, version, extra)

    def deployments(
        self,
        *,
        model: str | None = None,
        environment: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[Deployment]:
        return self._backend.list_deployments(model, environment, status, limit)

    def create_webhook(
        self,
        url: str,
        *,
        events: Sequence[str],
        description: str = "",
        secret: str | None = None,
    ) -> NewWebhook:
        """Subscribe ``url`` to events (or ``["*"]``); the result holds the secret once."""
        return self._backend.create_webhook(url, list(events), description, secret)

    def webhooks(self, *, include_deleted: bool = False) -> list[Webhook]:
        return self._backend.list_webhooks(include_deleted)

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self._backend.get_webhook(webhook_id)

    def delete_webhook(self, webhook_id: str) -> Webhook:
        return self._backend.delete_webhook(webhook_id)

    def webhook_deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        return self._backend.webhook_deliveries(webhook_id, status, limit)

    def deliver_webhooks(self, *, limit: int = 100) -> DeliveryReport:
        """Send every delivery that is due now (a server also does it in the background)."""
        return self._backend.deliver_webhooks(limit)

    # -- data connections (admin) ------------------------------------------------------
    def create_connection(
        self,
        name: str,
        *,
        kind: str,
        location: str,
        description: str = "",
        options: Mapping[str, str] | None = None,
        credentials: Mapping[str, str] | None = None,
        roles: Sequence[str] = (),
        teams: Sequence[str] = (),
    ) -> Connection:
        """Register where the server may read data (``folder``, ``s3``, ``postgresql``).

        ``credentials`` (s3 key/secret/token, postgresql password) are sealed at rest and
        never returned; ``roles``/``teams`` may use the connection (admins always may)."""
        return self._backend.create_connection(
            name,
            {
                "kind": kind,
                "location": location,
                "description": description,
                "options": dict(options or {}),
                "credentials": dict(credentials or {}),
                "roles": list(roles),
                "teams": list(teams),
            },
        )

    def connections(self) -> list[Connection]:
        return self._backend.list_connections()

    def get_connection(self, name: str) -> Connection:
        return self._backend.get_connection(name)

    def delete_connection(self, name: str) -> Connection:
        return self._backend.delete_connection(name)

    # -- model cards and evidence packs ---------------------------------------------
    @staticmethod
    def narrative_fields() -> list[dict[str, str]]:
        """The narrative fields an owner writes for a model card, with what each should say."""
        from dataclasses import asdict

        from steward.compliance.modelcard import NARRATIVE_FIELDS

        return [asdict(f) for f in NARRATIVE_FIELDS]

    def set_narrative(
        self,
        model: str,
        version: int,
        fields: Mapping[str, str] | None = None,
        **more: str,
    ) -> list[Narrative]:
        """Write model card narrative fields of a version (e.g. ``intended_use="..."``).

        Each changed field becomes a new revision, journalled; returns what the card shows.
        """
        values = {**dict(fields or {}), **more}
        return self._backend.set_narrative(model, version, values)

    def narratives(self, model: str, version: int) -> list[Narrative]:
        """The narrative fields the version's card shows (own text or carried over)."""
        return self._backend.narratives(model, version)

    def narrative_history(
        self, model: str, version: int, field: str | None = None
    ) -> list[Narrative]:
        """Every revision written for this version, superseded ones included."""
        return self._backend.narrative_history(model, version, field)

    def compliance_export(
        self,
        format: str,
        *,
        framework: str | None = None,
        model: str | None = None,
        out: str | Path | None = None,
    ) -> RenderedCard:
        """An OSCAL document: ``oscal-catalog`` (of ``framework``), ``oscal-profile`` (the
        active policy pack) or ``oscal-ar`` (assessment results of ``model``); written to
        ``out`` if given."""
        return _written(self._backend.compliance_export(format, framework, model), out)

    def version_bom(
        self,
        model: str,
        version: int,
        *,
        format: str = "cyclonedx",
        out: str | Path | None = None,
        sign: bool = False,
    ) -> RenderedCard:
        """The version's bill of materials: ``cyclonedx`` (1.6 ML-BOM) or ``spdx`` (3.0
        JSON-LD, AI and Dataset profiles); written to ``out`` if given. ``sign`` embeds
        a JSF signature by the server's governance key in a CycloneDX BOM (check it with
        :func:`steward.trust.jsf.verify`)."""
        return _written(self._backend.version_bom(model, version, format, sign), out)

    def impact_form(self) -> ImpactForm:
        """The AI impact assessment form (ISO/IEC 42005 structure, EU AI Act Art. 27)."""
        return self._backend.impact_form()

    def submit_impact_assessment(
        self, model: str, answers: Mapping[str, Any] | str | Path
    ) -> ImpactAssessment:
        """Submit a new revision: ``answers`` maps field ids to text, or is a YAML file."""
        if isinstance(answers, str | Path):
            import yaml

            loaded = yaml.safe_load(Path(answers).read_text(encoding="utf-8"))
            answers = loaded if isinstance(loaded, dict) else {}
        return self._backend.submit_impact_assessment(model, dict(answers))

    def decide_impact_assessment(
        self, model: str, *, approve: bool, comment: str, revision: int | None = None
    ) -> ImpactAssessment:
        """Approve or reject the revision awaiting a decision (not its submitter, not the
        model's owner)."""
        return self._backend.decide_impact_assessment(model, approve, comment, revision)

    def impact_assessment(self, model: str) -> ImpactAssessment | None:
        """The approved impact assessment that counts (``stale`` says why it no longer
        does), or None."""
        return self._backend.impact_assessment(model)

    def impact_history(self, model: str) -> list[ImpactAssessment]:
        """Every revision of the model's impact assessment, newest first."""
        return self._backend.impact_history(model)

    def model_card(self, model: str, version: int) -> ModelCard:
        """The model card (Annex IV technical documentation) generated from the evidence."""
        return self._backend.model_card(model, version)

    def render_model_card(
        self, model: str, version: int, *, format: str = "html", out: str | Path | None = None
    ) -> RenderedCard:
        """The card as ``md``, ``html``, ``pdf`` or ``json`` bytes; written to ``out`` if given."""
        return _written(self._backend.render_model_card(model, version, format), out)

    def export_evidence(
        self,
        model: str,
        out: str | Path,
        *,
        versions: Sequence[int] | None = None,
        include_pdf: bool = True,
    ) -> PackSummary:
        """Write the model's signed evidence pack (a zip) to ``out``.

        ``versions`` to document default to those in production or under review.
        """
        return self._backend.export_evidence(
            model, Path(out), None if versions is None else list(versions), include_pdf
        )

    @staticmethod
    def verify_evidence(
        pack: str | Path,
        *,
        public_key: str | Path | None = None,
        anchors: Sequence[str] = (),
    ) -> PackVerification:
        """Check an evidence pack offline: signature, every file hash, the audit chain.

        Pin ``public_key`` to a PEM you obtained from Steward yourself (``signing_key()``).
        """
        from steward.compliance.evidence import verify_pack

        pem = Path(public_key).read_bytes() if public_key is not None else None
        return verify_pack(Path(pack), public_key=pem, anchors=anchors)

    # -- compliance: catalogs, coverage, organisation dashboard ------------------------
    def compliance_catalogs(self) -> list[CatalogInfo]:
        """The shipped control catalogs with sources, verification status and licence notes."""
        return self._backend.compliance_catalogs()

    def compliance_controls(self, framework: str, *, all_levels: bool = False) -> list[ControlInfo]:
        """A catalog's assessable controls and the entries addressing them (NIST AI 600-1
        suggested actions); ``all_levels``: functions, clauses... too."""
        return self._backend.compliance_controls(framework, all_levels)

    def compliance_control(self, framework: str, control: str) -> ControlInfo:
        return self._backend.compliance_control(framework, control)

    def crosswalk(self, source: str, target: str) -> Crosswalk:
        """Controls of two frameworks that the same evidence (or a published crosswalk) links."""
        return self._backend.crosswalk(source, target)

    def coverage(self, model: str, *, frameworks: Sequence[str] | None = None) -> ModelCoverage:
        """Which controls a model's live evidence covers: current, stale or missing."""
        return self._backend.model_coverage(model, list(frameworks) if frameworks else None)

    def organisation_coverage(
        self, *, frameworks: Sequence[str] | None = None, controls: bool = True
    ) -> OrganisationCoverage:
        """Coverage over every model that is not retired, per framework and control."""
        return self._backend.organisation_coverage(
            list(frameworks) if frameworks else None, controls
        )

    def compliance_dashboard(self) -> Dashboard:
        """Models by tier and stage, overdue reviews, open findings, production gaps, coverage."""
        return self._backend.compliance_dashboard()

    # -- monitoring -----------------------------------------------------------------
    def create_monitor(
        self,
        model: str,
        version: int,
        *,
        reference: Any = None,
        name: str = "default",
        **config: Any,
    ) -> Any:
        """Monitor a version: profile ``reference`` (frame or CSV/Parquet path; default the
        version's recorded training/evaluation data location) here, then store the monitor.

        ``config``: columns, categorical, prediction, score, label, id_column, sensitive,
        positive_label, window (batch|daily|weekly), method (auto|psi|ks|...), mode
        (exact — the default: keeps an exact reference and computes exact statistics —,
        sketch, or auto: exact up to 10 M batch rows),
        schedule_every ("7d"), what scheduled runs read — connection (a data connection's
        name) with path (file/glob under its root), table or query (one SELECT; ``batch``
        is the path's files) — or, on the embedded store only, a raw source; rules (list of
        {id, metric, column, op, threshold, severity, consecutive}).
        """
        from steward.domain.monitoring import parse_config
        from steward.monitoring.batches import build_reference

        parsed = parse_config(config)
        if reference is None:
            reference = self._backend.monitor_reference_data(model, version)
        payload = build_reference(reference, parsed)
        return self._backend.create_monitor(model, version, name, config, payload)

    def monitors(
        self, model: str | None = None, version: int | None = None, *, include_deleted: bool = False
    ) -> list[Any]:
        return self._backend.monitors(model, version, include_deleted)

    def monitor(self, ref: str) -> Any:
        """A monitor by id (``mon_…``) or by the name of a model with one monitor."""
        return self._backend.get_monitor(ref)

    def update_monitor(self, ref: str, *, active: bool | None = None, **config: Any) -> Any:
        return self._backend.update_monitor(ref, config, active)

    def delete_monitor(self, ref: str, *, reason: str = "") -> Any:
        return self._backend.delete_monitor(ref, reason)

    def run_monitor(
        self,
        ref: str,
        data: Any,
        *,
        engine: str = "duckdb",
        observed_at: datetime | None = None,
        mode: str | None = None,
    ) -> Any:
        """Feed a batch: a pandas/Polars/Arrow frame, a CSV/Parquet path or glob, an
        ``s3://`` URL, ``steward.monitoring.Query`` or a PostgreSQL table or query
        (``steward.monitoring.PostgresSource(url, table=...)`` or the text
        ``"postgresql://user@host/db#table=events"``, read in bounded chunks). It is reduced
        here (one scan in ``engine``: duckdb, numpy or spark); only the aggregate is sent,
        with — in exact mode (``mode``: exact, sketch or auto; default the monitor's) — the
        drift computed here on the raw batch against the monitor's exact reference."""
        from steward.domain.monitoring import run_mode
        from steward.monitoring.batches import reduce_batch

        monitor = self._backend.get_monitor(ref)
        profile = self._backend.monitor_profile(monitor.id)
        requested = mode or monitor.config.mode
        run_mode(requested, 0, monitor.reference.exact is not None)  # refuse early
        exact = None
        digest = monitor.reference.exact
        if requested != "sketch" and digest is not None:
            if digest not in self._exact:
                self._exact = {digest: self._backend.monitor_exact_reference(monitor.id)}
            exact = self._exact[digest]
        payload = reduce_batch(
            data,
            profile,
            monitor.config,
            engine=engine,
            observed_at=observed_at,
            mode=requested,
            exact_reference=exact,
        )
        return self._backend.record_monitor_batch(monitor.id, payload)

    def monitor_labels(self, ref: str, labels: Mapping[str, float] | Any) -> Any:
        """Labels that arrived later: {prediction_id: label} or a frame with id and label."""
        if not isinstance(labels, Mapping):
            monitor = self._backend.get_monitor(ref)
            key, label = monitor.config.id_column, monitor.config.label or "label"
            frame = labels
            if isinstance(labels, (str, Path)):
                from steward.validation import loading

                frame = loading.load_data(labels, "labels")
            labels = dict(zip(frame[key].astype(str), frame[label].astype(float), strict=True))
        return self._backend.record_monitor_labels(ref, dict(labels))

    def monitor_runs(self, ref: str, *, limit: int = 50, results: bool = False) -> list[Any]:
        return self._backend.monitor_runs(ref, limit, results)

    def monitor_run(self, run_id: str) -> Any:
        return self._backend.monitor_run(run_id)

    def monitor_history(
        self,
        ref: str,
        *,
        column: str | None = None,
        metric: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        by: str = "run",
    ) -> list[Any]:
        """Time series (oldest first) of a monitor's results, e.g. metric="psi".

        ``by="window"``: one point per window (the monitor's batch/daily/weekly), computed
        by merging the stored aggregates of the window's runs rather than averaging scores.
        """
        return self._backend.monitor_history(ref, column, metric, since, limit, by)

    def alerts(
        self,
        *,
        model: str | None = None,
        version: int | None = None,
        monitor: str | None = None,
        status: str = "open",
        limit: int = 100,
    ) -> list[Any]:
        return self._backend.alerts(model, version, monitor, status, limit)

    def alert(self, alert_id: str) -> Any:
        return self._backend.get_alert(alert_id)

    def resolve_alert(self, alert_id: str, note: str) -> Any:
        return self._backend.resolve_alert(alert_id, note)

    def run_due_monitors(self, *, limit: int = 100, engine: str = "duckdb") -> Any:
        """Run the monitors whose schedule is due (reads each one's source)."""
        return self._backend.run_due_monitors(limit, engine)

    # -- lifetime --------------------------------------------------------------------
    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Steward:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _caller_dir() -> Path:
    """The folder of the script that called the SDK (falls back to the working dir)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).resolve().parent if path else Path.cwd()


def _day(value: date | str | None) -> date | None:
    """A calendar date from a ``date`` or ``YYYY-MM-DD`` text."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        from steward.domain.errors import InvalidInput

        raise InvalidInput(f"{value!r} is not a date; use YYYY-MM-DD.", field="due_date") from None


def _read_checkpoint(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"Cannot read the checkpoint file {path}: {exc}. Give a file published by "
            "`steward audit checkpoint` (e.g. <folder>/checkpoint).",
            field="checkpoint",
        ) from exc


def _written(rendered: RenderedCard, out: str | Path | None) -> RenderedCard:
    """Write a rendered document to ``out`` atomically (when given) and return it."""
    if out is not None:
        target = Path(out)
        tmp = target.with_name(f".{target.name}.partial")
        tmp.write_bytes(rendered.content)
        tmp.replace(target)
    return rendered


def _validation_inputs(
    data: Any,
    target: str | None,
    sensitive_features: Sequence[str] | str,
    suite: str | Path | None,
    reference_data: Any,
    y_pred: Any,
    y_score: Any,
    id_columns: Sequence[str],
    features: Sequence[str] | None,
    trusted: Sequence[str],
    trust: bool,
    baseline: int | None,
    settings: dict[str, Any] | None,
    positive_means: str | None,
) -> tuple[Any, Any, ValidateOptions]:
    """The frames and options of a validation run, as :meth:`Steward.validate` takes them
    (shared with :meth:`Steward.submit_validation`)."""
    from steward.validation import loading
    from steward.validation.options import Predictions, ValidateOptions

    frame = None if data is None else loading.load_data(data, "data")
    reference = (
        None if reference_data is None else loading.load_data(reference_data, "reference_data")
    )
    predictions = None
    if y_pred is not None and frame is None:
        # stored data (submit_validation): the predictions are columns of that data
        predictions = Predictions(
            y_true=target or "y_true",
            y_pred=str(y_pred),
            y_score=None if y_score is None else str(y_score),
            id_columns=tuple(id_columns),
        )
    elif y_pred is not None:
        assert frame is not None
        frame = frame.copy()
        columns = {}
        for role, value in (("y_pred", y_pred), ("y_score", y_score)):
            if value is None or isinstance(value, str):
                columns[role] = value
                continue
            values = value if hasattr(value, "__len__") else list(value)
            if len(values) != len(frame):
                from steward.domain.errors import InvalidInput

                raise InvalidInput(
                    f"{role} has {len(values)} values but the data has {len(frame)} rows; "
                    "pass one prediction per row, in the data's order.",
                    field=role,
                )
            name = f"__steward_{role}"
            to_numpy = getattr(values, "to_numpy", None)
            frame[name] = to_numpy() if callable(to_numpy) else list(values)
            columns[role] = name
        predictions = Predictions(
            y_true=target or "y_true",
            y_pred=str(columns["y_pred"]),
            y_score=columns["y_score"],
            id_columns=tuple(id_columns),
        )
    suite_name: str | None = None
    suite_yaml: str | None = None
    if suite is not None:
        path = Path(suite)
        if path.suffix in (".yaml", ".yml"):
            if not path.is_file():
                from steward.domain.errors import InvalidInput

                raise InvalidInput(f"Suite file {str(path)!r} does not exist.", field="suite")
            suite_name, suite_yaml = path.name, path.read_text(encoding="utf-8")
        else:
            suite_name = str(suite)
    if isinstance(sensitive_features, str):
        sensitive_features = [s for s in sensitive_features.split(",") if s]
    options = ValidateOptions(
        target=target,
        sensitive=tuple(sensitive_features),
        suite=suite_name,
        suite_yaml=suite_yaml,
        predictions=predictions,
        features=None if features is None else tuple(features),
        trusted_types=tuple(trusted),
        trust_pickle=trust,
        baseline=baseline,
        settings=dict(settings or {}),
        positive_means=positive_means,
    )
    return frame, reference, options
