"""Journal events carry a MAC made with a key kept outside the database.

``audit_events.mac`` is ``KEYID:HMAC-SHA256`` (see ``steward.domain.audit_auth``).
When the upgrade runs with the audit key file available (``steward init`` creates
it), every existing event is authenticated now: the upgrade vouches for the
journal as it stands, which the hash chain has protected so far. Without the key
the column stays empty and ``steward audit verify`` reports those events as
unauthenticated rather than pretending they were checked.

Revision ID: 0018
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("mac", sa.String(96), nullable=True))
    config = op.get_context().config
    mac: Callable[[int, str], str] | None = (
        None if config is None else config.attributes.get("audit_mac")
    )
    if mac is None:
        return
    conn = op.get_bind()
    events = sa.table(
        "audit_events", sa.column("seq", sa.BigInteger), sa.column("hash"), sa.column("mac")
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.seq, events.c.hash)
            .where(events.c.seq > after, events.c.mac.is_(None))
            .order_by(events.c.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            events.update().where(events.c.seq == sa.bindparam("s")),
            [{"s": seq, "mac": mac(seq, digest)} for seq, digest in rows],
        )
        after = int(rows[-1][0])


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("mac")
