"""What a chain alone cannot show: authenticated events, and tables the journal explains.

``authenticate`` runs inside ``steward audit verify`` once the chain holds;
``reconcile`` is ``steward audit reconcile``.
"""

from __future__ import annotations

from dataclasses import replace

from steward.domain import audit_auth
from steward.domain.audit import GENESIS, Tampering, Verification
from steward.domain.audit_auth import key_id
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.reconcile import Reconciliation, compare, replay
from steward.services.context import Context
from steward.settings import Settings
from steward.trust import auditkey


def authenticate(ctx: Context, chain: Verification) -> Verification:
    """Check MACs, time order, and that an empty journal is not hiding a populated store.

    ``chain`` is the result of an intact chain walk; a failure here is reported in
    the same shape, at the first event that cannot be trusted.
    """
    ring = auditkey.load(ctx.settings.audit_key_path)
    with ctx.uow.read() as uow:
        repo = uow.reconcile
        if chain.checked == 0:
            rows = repo.state_rows()
            if rows == 0:
                return chain
            return replace(
                chain,
                ok=False,
                broken_seq=1,
                kind=Tampering.REMOVED,
                detail=(
                    f"the journal is empty but the store holds {rows} models, versions, users, "
                    "roles or teams that Steward journals when it creates them: the journal "
                    "was deleted"
                ),
            )
        report = audit_auth.authenticate(repo.auth_rows(), ring, repo.earlier_copy)
        if report.ok:
            return replace(chain, unauthenticated_before=report.unauthenticated_before)
        assert report.broken_seq is not None and report.problem is not None
        before = report.broken_seq - 1
        head_hash = (uow.audit.hash_at(before) if before else None) or GENESIS
    return Verification(
        ok=False,
        checked=before,
        head_seq=before,
        head_hash=head_hash,
        broken_seq=report.broken_seq,
        kind=Tampering(report.problem.value),
        detail=report.detail,
        unauthenticated_before=report.unauthenticated_before,
    )


def reconcile(ctx: Context, principal: Principal) -> Reconciliation:
    """Replay the journal; name every state row it does not explain, and every one it lacks."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        uow.reconcile.consistent_snapshot()
        expected, events = replay(uow.reconcile.replayed_events())
        actual = uow.reconcile.snapshot()
    return compare(actual, expected, events)


def rotate_key(settings: Settings) -> tuple[str, tuple[str, ...]]:
    """Authenticate new events with a fresh key; returns (new key id, retired key ids).

    Like ``steward init`` this acts on the server's own files: whoever can write
    STEWARD_HOME can rotate, and nobody else (there is deliberately no API route).
    Retired keys stay in the file so the events they authenticated still verify.
    """
    ring = auditkey.rotate(settings.audit_key_path)
    return ring.current_id, tuple(key_id(k) for k in ring.keys[1:])
