"""Unit of work: one database transaction that also appends its audit events."""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from types import TracebackType
from typing import Any

from sqlalchemy import insert, select, text

try:
    import fcntl
except ImportError:  # Windows: threads still queue; processes fall back to busy waiting
    fcntl = None  # type: ignore[assignment]
from sqlalchemy.engine import Connection, Engine

from steward.domain import audit as journal  # `audit` is the repository below
from steward.store import tables as t
from steward.store import worker_repo
from steward.store.audit_repo import AuditRepository
from steward.store.audit_tree_repo import AuditTreeRepository
from steward.store.connections_repo import ConnectionRepository
from steward.store.datasets_repo import DatasetRepository
from steward.store.findings_repo import (
    FindingRepository,
    ReviewRepository,
    WaiverRepository,
)
from steward.store.gates_repo import CheckRunRepository, PolicyRepository, RequestRepository
from steward.store.identity_repo import TeamRepository, UserRepository
from steward.store.impact_repo import ImpactRepository
from steward.store.jobs_repo import JobRepository
from steward.store.mlflow_repo import MlflowLinkRepository
from steward.store.modelcard_repo import NarrativeRepository
from steward.store.models_repo import ModelRepository
from steward.store.monitoring_repo import MonitorRepository
from steward.store.notifications_repo import NotificationRepository
from steward.store.ops_repo import OpsRepository
from steward.store.personal_data_repo import PersonalDataRepository
from steward.store.reconcile_repo import ReconcileRepository
from steward.store.risk_repo import RiskRepository
from steward.store.sso_repo import SsoRepository
from steward.store.throttle_repo import ThrottleRepository
from steward.store.tokens_repo import TokenRepository
from steward.store.trust_repo import (
    DeploymentRepository,
    SigningRepository,
    WebhookOutbox,
    WebhookRepository,
)
from steward.store.versions_repo import VersionRepository
from steward.store.worker_repo import HeartbeatRepository

_HEAD = (
    select(t.audit_events.c.seq, t.audit_events.c.hash, t.audit_events.c.time)
    .order_by(t.audit_events.c.seq.desc())
    .limit(1)
)
_APPEND = insert(t.audit_events)
# Any constant works; it only has to be the same for every Steward process.
_AUDIT_LOCK_KEY = 0x5354_4557_4152_44


class _SQLiteWriterLock:
    """Queue SQLite writers on real locks instead of SQLite's busy handler.

    The busy handler sleeps in steps of up to 100 ms, which turns contention into
    long tail latencies. Threads of one process queue on an RLock; processes (several
    server workers, a CLI next to a server) queue on an ``flock`` of a file beside
    the database, which the kernel hands over the moment it is released.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        if database and database != ":memory:" and fcntl is not None:
            self._fd = os.open(f"{database}.write-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        self._threads.acquire()
        self._depth += 1
        if self._depth == 1 and self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_WRITERS: weakref.WeakKeyDictionary[Engine, _SQLiteWriterLock] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def _sqlite_writer_lock(engine: Engine) -> _SQLiteWriterLock | None:
    if engine.dialect.name != "sqlite":
        return None
    with _WRITERS_GUARD:
        lock = _WRITERS.get(engine)
        if lock is None:
            lock = _WRITERS[engine] = _SQLiteWriterLock(engine.url.database)
            weakref.finalize(engine, lock.close)
        return lock


class UnitOfWork:
    """``with uow: ...; uow.commit()`` — leaving without commit rolls back."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        write: bool,
        authenticator: Callable[[int, str], str] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._write = write
        self._authenticator = authenticator
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self._lock = _sqlite_writer_lock(self._engine) if self._write else None
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.conn: Connection = self._engine.connect().execution_options(
                steward_write=self._write
            )
            self._tx = self.conn.begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self.now = self._clock()
        # Undo steps for side effects outside the database (e.g. blobs published
        # in this transaction), run if it ends without a commit.
        self.on_rollback: list[Callable[[], None]] = []
        return self

    # Repositories are made on first use: a request touches two or three of the
    # twenty-five, and building them all on every transaction showed in the profile.
    @cached_property
    def models(self) -> ModelRepository:
        return ModelRepository(self.conn)

    @cached_property
    def versions(self) -> VersionRepository:
        return VersionRepository(self.conn)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.conn)

    @cached_property
    def audit_tree(self) -> AuditTreeRepository:
        return AuditTreeRepository(self.conn)

    @cached_property
    def reconcile(self) -> ReconcileRepository:
        return ReconcileRepository(self.conn)

    @cached_property
    def tokens(self) -> TokenRepository:
        return TokenRepository(self.conn)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.conn)

    @cached_property
    def teams(self) -> TeamRepository:
        return TeamRepository(self.conn)

    @cached_property
    def risk(self) -> RiskRepository:
        return RiskRepository(self.conn)

    @cached_property
    def impact(self) -> ImpactRepository:
        return ImpactRepository(self.conn)

    @cached_property
    def findings(self) -> FindingRepository:
        return FindingRepository(self.conn)

    @cached_property
    def waivers(self) -> WaiverRepository:
        return WaiverRepository(self.conn)

    @cached_property
    def reviews(self) -> ReviewRepository:
        return ReviewRepository(self.conn)

    @cached_property
    def policies(self) -> PolicyRepository:
        return PolicyRepository(self.conn)

    @cached_property
    def check_runs(self) -> CheckRunRepository:
        return CheckRunRepository(self.conn)

    @cached_property
    def requests(self) -> RequestRepository:
        return RequestRepository(self.conn)

    @cached_property
    def signing(self) -> SigningRepository:
        return SigningRepository(self.conn)

    @cached_property
    def deployments(self) -> DeploymentRepository:
        return DeploymentRepository(self.conn)

    @cached_property
    def webhooks(self) -> WebhookRepository:
        return WebhookRepository(self.conn)

    @cached_property
    def narratives(self) -> NarrativeRepository:
        return NarrativeRepository(self.conn)

    @cached_property
    def outbox(self) -> WebhookOutbox:
        return WebhookOutbox(self.conn, self.now)

    @cached_property
    def monitors(self) -> MonitorRepository:
        return MonitorRepository(self.conn)

    @cached_property
    def connections(self) -> ConnectionRepository:
        return ConnectionRepository(self.conn)

    @cached_property
    def ops(self) -> OpsRepository:
        return OpsRepository(self.conn)

    @cached_property
    def throttle(self) -> ThrottleRepository:
        return ThrottleRepository(self.conn)

    @cached_property
    def heartbeats(self) -> HeartbeatRepository:
        return HeartbeatRepository(self.conn)

    @cached_property
    def datasets(self) -> DatasetRepository:
        return DatasetRepository(self.conn)

    @cached_property
    def personal_data(self) -> PersonalDataRepository:
        return PersonalDataRepository(self.conn)

    @cached_property
    def sso(self) -> SsoRepository:
        return SsoRepository(self.conn)

    @cached_property
    def mlflow(self) -> MlflowLinkRepository:
        return MlflowLinkRepository(self.conn)

    @cached_property
    def notifications(self) -> NotificationRepository:
        return NotificationRepository(self.conn)

    @cached_property
    def jobs(self) -> JobRepository:
        return JobRepository(self.conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx.is_active and not self._committed:
                self._tx.rollback()
        finally:
            self.conn.close()
            if self._lock is not None:
                self._lock.release()
            if not self._committed:
                for undo in reversed(self.on_rollback):
                    with contextlib.suppress(Exception):  # best effort; keep the real error
                        undo()

    def commit(self) -> None:
        self._tx.commit()
        self._committed = True

    def record(
        self,
        actor: str,
        action: journal.Action,
        subject_type: str,
        subject_id: str,
        payload: dict[str, Any],
    ) -> journal.AuditEvent:
        """Append one event to the chain inside this transaction."""
        if not self._write:
            raise RuntimeError("audit events can only be written in a write unit of work")
        if self.conn.dialect.name == "postgresql":
            # Serialise appenders so two transactions never read the same head.
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
        head = self.conn.execute(_HEAD).first()
        seq, prev_hash, last_time = (
            (1, journal.GENESIS, "") if head is None else (head.seq + 1, head.hash, head.time)
        )
        # Journal time never goes backwards along the chain, so replaying
        # "as of T" by sequence is the same as replaying by time. All events of
        # one transaction share its moment, so "as of T" never sees half of it.
        moment = max(journal.format_time(self.now), last_time)
        event = journal.seal(
            seq=seq,
            time=moment,
            actor=actor,
            action=action.value,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload,
            prev_hash=prev_hash,
        )
        self.conn.execute(
            _APPEND,
            {
                "seq": event.seq,
                "time": event.time,
                "actor": event.actor,
                "action": event.action,
                "subject_type": event.subject_type,
                "subject_id": event.subject_id,
                "payload": event.payload,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                # The MAC needs the key file: a database-only writer cannot make one.
                "mac": None
                if self._authenticator is None
                else self._authenticator(event.seq, event.hash),
            },
        )
        # The event is also the next leaf of the journal's Merkle tree (same transaction).
        self.audit_tree.append(event)
        # Transactional outbox: webhook deliveries commit or roll back with the event.
        self.outbox.enqueue(event)
        return event


class UnitOfWorkFactory:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        authenticator: Callable[[int, str], str] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        # (seq, hash) -> MAC of each new journal event (steward.trust.auditkey).
        self.authenticator = authenticator

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock, write=False)

    def write(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock, write=True, authenticator=self.authenticator)

    def job_lock(self, kind: str) -> contextlib.AbstractContextManager[bool]:
        """True while this process holds ``kind``'s worker lock (steward.store.worker_repo)."""
        return worker_repo.job_lock(self.engine, kind)
