"""What one pass of `steward worker` did, and whether a worker is alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Job(StrEnum):
    """The worker's jobs, in the order a pass runs them. Each has its own lock."""

    CHECKPOINTS = "checkpoints"  # sign a due audit checkpoint, retry failed publications
    REVIEWS = "reviews"  # journal overdue periodic reviews (review.overdue) once each
    MONITORS = "monitors"  # run due monitors
    MLFLOW_SYNC = "mlflow_sync"  # new MLflow versions into Steward (STEWARD_MLFLOW_TRACKING_URI)
    WEBHOOKS = "webhooks"  # drain the webhook outbox
    NOTIFICATIONS = "notifications"  # notify people of what needs them; send queued e-mails
    JOBS = "jobs"  # run queued background jobs (domain/jobs.py)
    PROGRAMME = "programme"  # recompute the stored compliance programmes that are due


# Jobs on the schedule (every --schedule-interval); webhooks drain and queued background
# jobs run every --interval (a person waiting for a job is served within one interval).
SCHEDULED = (
    Job.CHECKPOINTS,
    Job.REVIEWS,
    Job.MONITORS,
    Job.MLFLOW_SYNC,
    Job.NOTIFICATIONS,
    Job.PROGRAMME,
)
EVERY_INTERVAL = (Job.WEBHOOKS, Job.JOBS)
# Background jobs are claimed row by row, so every worker works the queue at once: their
# pass takes no lock.
UNLOCKED = frozenset({Job.JOBS})

# A worker refreshes its heartbeat after every job; one not seen for this long is
# taken for dead (a webhook pass sends at most 100 deliveries of at most 10 s each).
HEARTBEAT_STALE = timedelta(minutes=5)


@dataclass(frozen=True)
class JobOutcome:
    job: Job
    ran: bool  # False: another worker held its lock, so this one skipped it
    ok: bool = True
    detail: str = ""


@dataclass(frozen=True)
class PassReport:
    outcomes: tuple[JobOutcome, ...]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


@dataclass(frozen=True)
class Heartbeat:
    worker_id: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    beats: int

    def fresh(self, now: datetime) -> bool:
        return now - self.seen_at <= HEARTBEAT_STALE
