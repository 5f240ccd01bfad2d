"""What an operator's probes and dashboards ask: is it ready, and how busy is it.

Liveness needs nothing (the process answers); readiness means a request could be
served now: the database answers at the schema this code expects and the artifact
store can be listed. The gauges are read from the store at scrape time, so every
API process reports the same numbers whichever one Prometheus reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from steward.services.context import Context
from steward.store import database


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str
    # False: reported, but it does not make the API unready (a dead `steward worker`
    # delays webhooks and scheduled work; the API itself still serves).
    required: bool = True


@dataclass(frozen=True)
class Readiness:
    probes: tuple[Probe, ...]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.probes if p.required)

    def to_dict(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ok else "not ready",
            "checks": {
                p.name: {"ok": p.ok, "detail": p.detail}
                | ({} if p.required else {"required": False})
                for p in self.probes
            },
        }


@dataclass(frozen=True)
class Activity:
    journal_events: int
    deliveries: dict[str, int] = field(default_factory=dict)
    monitor_runs: int = 0
    open_alerts: dict[str, int] = field(default_factory=dict)


def readiness(ctx: Context) -> Readiness:
    probes = [database_probe(ctx), artifacts_probe(ctx)]
    if ctx.settings.worker == "external" and probes[0].ok:
        probes.append(replace(worker_probe(ctx), required=False))
    return Readiness(tuple(probes))


def worker_probe(ctx: Context) -> Probe:
    """Is a `steward worker` alive: its heartbeat is fresh (domain.worker.HEARTBEAT_STALE)."""
    from steward.services.worker import latest_heartbeat

    try:
        beat = latest_heartbeat(ctx)
    except Exception as exc:  # the table is read through the database probe's connection
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Probe("worker", False, f"cannot read worker heartbeats: {first}")
    now = ctx.uow.clock()
    if beat is None:
        return Probe("worker", False, "no `steward worker` is running (none has a heartbeat)")
    age = int((now - beat.seen_at).total_seconds())
    if not beat.fresh(now):
        return Probe(
            "worker", False, f"the last worker ({beat.worker_id}) was last seen {age} s ago"
        )
    return Probe("worker", True, f"{beat.worker_id} seen {age} s ago")


def database_probe(ctx: Context) -> Probe:
    try:
        revision = database.current_revision(ctx.uow.engine)
    except Exception as exc:  # any driver error means "not ready", with its words
        return Probe("database", False, f"cannot reach the database: {exc}")
    if revision != database.SCHEMA_HEAD:
        return Probe(
            "database",
            False,
            f"schema is at {revision}, this Steward needs {database.SCHEMA_HEAD}: "
            "run `steward init`",
        )
    return Probe("database", True, f"schema {revision}")


def artifacts_probe(ctx: Context) -> Probe:
    store = ctx.artifacts
    try:
        # listing the root is the cheapest call every fsspec backend answers
        store.fs.ls(store.root, detail=False)
    except FileNotFoundError:
        return Probe("artifacts", True, "reachable (empty: nothing stored yet)")
    except Exception as exc:  # S3 down, credentials wrong, disk gone
        return Probe("artifacts", False, f"cannot reach the artifact store: {exc}")
    return Probe("artifacts", True, "reachable")


def activity(ctx: Context) -> Activity:
    with ctx.uow.read() as uow:
        return Activity(
            journal_events=uow.ops.journal_size(),
            deliveries=uow.ops.deliveries_by_status(),
            monitor_runs=uow.ops.monitor_runs(),
            open_alerts=uow.ops.open_alerts_by_severity(),
        )
