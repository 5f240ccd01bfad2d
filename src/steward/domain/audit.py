"""The tamper-evident audit chain.

Each event is hashed as ``sha256(prev_hash_bytes || canonical_event)`` where
``canonical_event`` is the UTF-8 JSON array
``[seq, time, actor, action, subject_type, subject_id, payload]`` written with
sorted keys, no insignificant whitespace and non-ASCII characters kept as-is.
A third party can recompute it from an export with ``json.dumps`` alone
(see docs/audit.md), which is the point: the format is boring on purpose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64
_enc = encode_basestring
_DUMPS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


class Action(StrEnum):
    """Typed event names: every mutation Steward performs is one of these."""

    MODEL_CREATED = "model.created"
    MODEL_UPDATED = "model.updated"
    VERSION_CREATED = "version.created"
    VERSION_TRANSITIONED = "version.transitioned"
    ALIAS_SET = "alias.set"
    ALIAS_DELETED = "alias.deleted"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    # identity (users, teams, roles)
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    PASSWORD_SET = "user.password_set"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    ROLE_CHANGE_DENIED = "role.denied"
    TEAM_CREATED = "team.created"
    TEAM_DELETED = "team.deleted"
    TEAM_UPDATED = "team.updated"  # title, description or line of defence changed
    TEAM_MEMBER_ADDED = "team.member_added"
    TEAM_MEMBER_REMOVED = "team.member_removed"
    LOGIN_SUCCEEDED = "auth.login"
    LOGIN_FAILED = "auth.login_failed"  # first failure of a window; later ones counted
    SSO_LINKED = "auth.sso_linked"  # a provider's subject bound to a Steward user
    LOGIN_LOCKED = "auth.locked_out"  # too many failures: an account or client is locked
    STORE_CLEANED = "store.cleaned"  # steward doctor --fix removed crash leftovers
    STORE_BACKED_UP = "store.backed_up"  # steward backup wrote a consistent snapshot
    # risk assessment
    RISK_ASSESSED = "risk.assessed"
    IMPACT_SUBMITTED = "impact.submitted"
    IMPACT_DECIDED = "impact.decided"
    RISK_OVERRIDDEN = "risk.overridden"  # tier/category set by hand, with the reason
    # policy packs, check runs, transition requests and approvals
    POLICY_LOADED = "policy.loaded"
    POLICY_ACTIVATED = "policy.activated"
    POLICY_DEACTIVATED = "policy.deactivated"
    CHECK_RUN_RECORDED = "check_run.recorded"
    TRANSITION_REQUESTED = "transition.requested"
    REQUEST_WITHDRAWN = "transition.withdrawn"
    APPROVAL_GIVEN = "approval.given"
    APPROVAL_REJECTED = "approval.rejected"
    APPROVAL_DENIED = "approval.denied"
    GATE_FAILED = "gate.failed"
    VERSION_AMENDED = "version.amended"
    VERSION_TAG_SET = "version.tag_set"  # a version's tag set or removed after creation
    # findings, waivers, reviews
    FINDING_OPENED = "finding.opened"
    FINDING_UPDATED = "finding.updated"
    FINDING_COMMENTED = "finding.commented"
    WAIVER_GRANTED = "waiver.granted"
    WAIVER_REVOKED = "waiver.revoked"
    REVIEW_COMPLETED = "review.completed"
    REVIEW_OVERDUE = "review.overdue"
    # signing, deploy records, webhooks
    VERSION_SIGNED = "version.signed"
    DEPLOY_RECORDED = "deploy.recorded"
    DEPLOY_MISMATCH = "deploy.mismatch"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_DELETED = "webhook.deleted"
    # validation
    VALIDATION_REFUSED = "validation.refused"  # a remote caller asked to trust a code format
    # monitoring
    MONITOR_CREATED = "monitor.created"
    MONITOR_UPDATED = "monitor.updated"
    MONITOR_DELETED = "monitor.deleted"
    MONITOR_RUN = "monitor.run"  # a batch compared with the reference, results stored
    MONITOR_LABELS = "monitor.labels"  # late labels joined, performance (re)computed
    MONITOR_RUN_FAILED = "monitor.run_failed"  # a scheduled run failed; retried with backoff
    ALERT_RAISED = "alert.raised"
    ALERT_RESOLVED = "alert.resolved"
    # data connections (what the server may read, registered by an admin)
    CONNECTION_CREATED = "connection.created"
    CONNECTION_DELETED = "connection.deleted"
    # datasets as governed assets
    DATASET_CREATED = "dataset.created"
    DATASET_UPDATED = "dataset.updated"  # field by field, before and after
    DATASET_SNAPSHOT = "dataset.snapshot"  # a dataset version, with its rule results
    DATASET_RULES_SET = "dataset.rules_set"  # a new revision of its quality rules
    DATASET_APPROVED = "dataset.approved"  # a data steward approved a dataset version
    DATASET_FINDING_OPENED = "dataset.finding_opened"  # a quality rule failed
    DATASET_FINDING_RESOLVED = "dataset.finding_resolved"  # a later version passed it
    DATASET_SCANNED = "dataset.scanned"  # a dataset version's personal-data scan (again)
    DATASET_COLUMN_CLASSIFIED = "dataset.column_classified"  # a column's classification decided
    DATASET_RECALLED = "dataset.recalled"  # findings opened on everything built on a version
    # compliance
    NARRATIVE_SET = "modelcard.narrative_set"  # owner-written model card fields
    EVIDENCE_EXPORTED = "evidence.exported"  # a signed evidence pack was produced
    # web UI
    SESSION_ENDED = "session.ended"  # signed out of the web UI (its login token revoked)
    # transparency log: a signed tree head of the journal (it covers the events before it)
    AUDIT_CHECKPOINTED = "audit.checkpointed"
    AUDIT_WITNESS_ADDED = "audit.witness_added"  # a witness key was registered
    AUDIT_WITNESS_REMOVED = "audit.witness_removed"
    AUDIT_COSIGNED = "audit.cosigned"  # a witness's checked cosignature of a checkpoint
    # MLflow bridge: where an imported model or version came from (its MLflow ids)
    MLFLOW_MODEL_LINKED = "mlflow.model_linked"
    MLFLOW_VERSION_IMPORTED = "mlflow.version_imported"
    # background jobs (their results are journalled by the use case each one runs)
    JOB_SUBMITTED = "job.submitted"
    JOB_CANCELLED = "job.cancelled"
    # Steward's decisions written into MLflow (tags, production aliases), and an alias or
    # stage moved in MLflow behind Steward's back (found, and reverted when configured)
    MLFLOW_WRITTEN_BACK = "mlflow.written_back"
    MLFLOW_DRIFT = "mlflow.drift"
    MLFLOW_REVERTED = "mlflow.reverted"


def canonical_json(value: Any) -> str:
    """Canonical text of a JSON value (the form that is hashed and stored)."""
    return _DUMPS(value)


def format_time(moment: datetime) -> str:
    """Audit times are UTC, microsecond precision, fixed width, so they sort as text."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise_time(text: str, field: str = "time") -> str:
    """Any ISO 8601 moment with a zone, as the journal's canonical text."""
    from steward.domain.errors import InvalidInput

    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not an ISO 8601 time; use e.g. 2026-03-01T00:00:00Z.",
            field=field,
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(
            f"{field} {text!r} has no time zone; add Z for UTC or an offset like +08:00.",
            field=field,
        )
    return format_time(moment)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    time: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: str  # canonical JSON text
    prev_hash: str
    hash: str

    def payload_dict(self) -> dict[str, Any]:
        value = json.loads(self.payload)
        assert isinstance(value, dict)
        return value

    def to_export(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "payload": json.loads(self.payload),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def event_message(
    seq: int,
    time: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_text: str,
) -> bytes:
    # Byte-for-byte equal to canonical_json([seq, time, ..., payload]) because
    # payload_text is already canonical and encode_basestring is the encoder
    # json.dumps(ensure_ascii=False) uses; formatting it directly keeps verify fast.
    enc = _enc
    return (
        f"[{int(seq)},{enc(time)},{enc(actor)},{enc(action)},{enc(subject_type)},"
        f"{enc(subject_id)},{payload_text}]"
    ).encode()


def chain_hash(prev_hash: str, message: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + message).hexdigest()


def seal(
    *,
    seq: int,
    time: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> AuditEvent:
    text = canonical_json(payload)
    digest = chain_hash(
        prev_hash, event_message(seq, time, actor, action, subject_type, subject_id, text)
    )
    return AuditEvent(seq, time, actor, action, subject_type, subject_id, text, prev_hash, digest)


def recompute(event: AuditEvent, prev_hash: str | None = None, seq: int | None = None) -> str:
    return chain_hash(
        event.prev_hash if prev_hash is None else prev_hash,
        event_message(
            event.seq if seq is None else seq,
            event.time,
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.payload,
        ),
    )


class Tampering(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"
    # found against signed checkpoints (steward.services.transparency)
    TRUNCATED = "truncated"  # the newest events a checkpoint covers are gone
    REWRITTEN = "rewritten"  # a recomputed chain no longer matches a signed tree head
    SPLIT_VIEW = "split_view"  # two signed tree heads of one size with different roots
    TREE_MISMATCH = "tree_mismatch"  # stored tree nodes disagree with the journal
    # an event's MAC (steward.domain.audit_auth) or a checkpoint's signature is not
    # made with Steward's key
    FORGED = "forged"
    # found by authentication and the state check (steward.domain.audit_auth)
    REPLAYED = "replayed"
    BACKDATED = "backdated"


@dataclass(frozen=True)
class AuditFilter:
    """Which journal events a search or export wants; every field narrows, None is any.

    A domain type so the SDK, REST and web ask for events without importing the store.
    """

    subject_type: str | None = None
    subject_id: str | None = None
    subject_prefix: str | None = None
    actor: str | None = None
    action: str | None = None
    actions: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None
    after_seq: int | None = None


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    kind: Tampering | None = None
    detail: str = ""
    # Events before this seq carry no MAC the key file can check (None: all authenticated).
    unauthenticated_before: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "kind": self.kind.value if self.kind else None,
            "detail": self.detail,
            "unauthenticated_before": self.unauthenticated_before,
        }


EventRow = tuple[int, str, str, str, str, str, str, str, str]


def _as_row(event: AuditEvent | EventRow) -> EventRow:
    if isinstance(event, tuple):
        return event
    return (
        event.seq,
        event.time,
        event.actor,
        event.action,
        event.subject_type,
        event.subject_id,
        event.payload,
        event.prev_hash,
        event.hash,
    )


def verify(
    events: Iterable[AuditEvent | EventRow],
    has_later_successor: Callable[[str, int], bool] = lambda _h, _s: False,
    *,
    start_seq: int = 1,
    start_hash: str = GENESIS,
) -> Verification:
    """Walk the chain in seq order; stop at the first break and say what kind it is.

    A segment of the chain can be checked on its own by giving the seq it
    starts at and the stored hash of the event before it.

    ``events`` are AuditEvents or plain row tuples in column order (the store
    streams tuples: building objects for a million rows would dominate the
    run time). ``has_later_successor(hash, seq)`` answers whether some event
    after ``seq`` claims ``hash`` as its predecessor (used to recognise reordering).
    """
    it = map(_as_row, events)
    expected_seq = start_seq
    prev_hash = start_hash
    before: str | None = None  # stored prev_hash of the last accepted event
    sha = hashlib.sha256
    fromhex = bytes.fromhex
    enc = _enc
    for row in it:
        seq, time, actor, action, stype, sid, payload, row_prev, row_hash = row
        if seq == expected_seq and row_prev == prev_hash:
            message = (
                f"[{seq},{enc(time)},{enc(actor)},{enc(action)},{enc(stype)},{enc(sid)},{payload}]"
            ).encode()
            if sha(fromhex(prev_hash) + message).hexdigest() == row_hash:
                before = prev_hash
                prev_hash = row_hash
                expected_seq += 1
                continue
        event = AuditEvent(*row)
        lookahead = [AuditEvent(*e) for _, e in zip(range(2), it, strict=False)]
        brk = _classify(
            event, lookahead, expected_seq, prev_hash, before, start_seq, has_later_successor
        )
        return Verification(
            False,
            brk.seq - start_seq,
            brk.seq - 1,
            brk.head_hash,
            brk.seq,
            brk.kind,
            brk.detail,
        )
    return Verification(True, expected_seq - start_seq, expected_seq - 1, prev_hash)


# How far back or forward a renumbered event is looked for when explaining a break.
_RENUMBER_WINDOW = 16


@dataclass(frozen=True)
class _Break:
    seq: int  # the first event that cannot be trusted
    head_hash: str  # stored hash of the event before it
    kind: Tampering
    detail: str


def _span(first: int, last: int, verb: str) -> str:
    """'event 3 was removed' / 'events 3-5 were removed'."""
    if first == last:
        return f"event {first} {verb}"
    return f"events {first}-{last} {verb.replace('is ', 'are ').replace('was ', 'were ')}"


def check_anchors(
    result: Verification,
    anchors: Sequence[tuple[int, str]],
    stored_hash: Callable[[int], str | None],
) -> Verification:
    """Compare an intact chain with heads recorded outside the database."""
    for seq, digest in sorted(anchors):
        if seq > result.head_seq:
            return replace(
                result,
                ok=False,
                broken_seq=result.head_seq + 1,
                kind=Tampering.REMOVED,
                detail=(
                    f"the journal ends at event {result.head_seq}, but event {seq} was "
                    "recorded earlier: the newest events were removed"
                ),
            )
        if stored_hash(seq) != digest:
            return replace(
                result,
                ok=False,
                broken_seq=seq,
                kind=Tampering.ALTERED,
                detail=(
                    f"event {seq} no longer has the hash recorded for it ({digest[:12]}...): "
                    "the journal was rewritten from that event on"
                ),
            )
    return result


def _classify(
    event: AuditEvent,
    after: list[AuditEvent],
    expected_seq: int,
    prev_hash: str,
    before: str | None,
    start_seq: int,
    has_later_successor: Callable[[str, int], bool],
) -> _Break:
    """Explain the first event that does not verify.

    Usually that event is the one to blame. Two realistic forgeries are only
    noticed one event late, because the forger recomputed a valid hash for
    the forged event: an event inserted with a correct link (the following,
    renumbered original no longer links to it) and an event edited and then
    re-sealed (its successor still links to the old hash). Both are reported
    at the forged event, which is the one the chain accepted.
    """
    expected = expected_seq

    def here(kind: Tampering, detail: str) -> _Break:
        return _Break(expected, prev_hash, kind, detail)

    nxt = after[0] if after else None
    if event.seq > expected:
        return here(
            Tampering.REMOVED,
            f"{_span(expected, event.seq - 1, 'is missing')}; the chain jumps to {event.seq}",
        )
    if event.seq < expected:
        return here(Tampering.INSERTED, f"event {event.seq} appears again after {expected - 1}")
    if nxt is not None and recompute(nxt, prev_hash, expected) == nxt.hash:
        # The next row is the event that belongs at this position.
        if nxt.prev_hash == prev_hash and recompute(event, nxt.hash, expected + 1) == event.hash:
            return here(Tampering.REORDERED, f"events {expected} and {expected + 1} were swapped")
        return here(
            Tampering.INSERTED,
            f"event {expected} was inserted: the event now numbered {nxt.seq} is the "
            f"original {expected}",
        )
    if event.prev_hash == prev_hash:
        return here(
            Tampering.ALTERED,
            f"event {expected} was changed after it was written: its content no longer "
            "matches its hash",
        )
    if has_later_successor(prev_hash, event.seq):
        return here(
            Tampering.REORDERED,
            f"event {expected} is out of place: the successor of event {expected - 1} "
            "appears later in the journal",
        )
    for gap in range(1, _RENUMBER_WINDOW + 1):
        if recompute(event, seq=event.seq + gap) == event.hash:
            return here(
                Tampering.REMOVED,
                f"{_span(expected, expected + gap - 1, 'was removed')} and the later events "
                f"renumbered: event {expected} is the original {expected + gap}",
            )
    for extra in range(1, min(_RENUMBER_WINDOW, expected - start_seq) + 1):
        if recompute(event, seq=event.seq - extra) == event.hash:
            first = expected - extra
            return _Break(
                first,
                event.prev_hash,
                Tampering.INSERTED,
                f"{_span(first, expected - 1, 'was inserted')}: the event now numbered {expected} "
                f"is the original {first}",
            )
    if before is not None and recompute(event) == event.hash:
        return _Break(
            expected - 1,
            before,
            Tampering.ALTERED,
            f"event {expected - 1} was changed and its hash recomputed: event {expected} "
            "still links to its original hash",
        )
    return here(
        Tampering.ALTERED,
        f"event {expected} was changed after it was written: its content and link no "
        "longer match its hash",
    )
