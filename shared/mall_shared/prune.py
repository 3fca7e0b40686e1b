"""Keeping the outbox and the inbox small: rows older than the retention window go.

- Outbox: a row is deleted once it was published (`published_at`) longer ago than the window;
  an unpublished row is never deleted, however old (it still has to reach the bus).
- Inbox: an event id is forgotten once it was handled longer ago than the window. Dedup stays
  exact for any redelivery within the window: the relay's repeats (seconds), the consumer's
  retries (`MALL_RETRY_DELAYS`, minutes), a broker's requeue after a crash. The window must
  stay longer than all of those (default 7 days). A dead letter replayed later is safe
  whatever its age: it was never handled, so it has no inbox row to lose.

The worker runs it every `MALL_BUS_PRUNE_INTERVAL` seconds (default 3600), in batches so that
no transaction holds many rows; several workers of one service pruning at once is harmless.
"""
from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .db import Database, utcnow

BATCH = 5000


def retention() -> timedelta:
    return timedelta(seconds=float(os.environ.get("MALL_BUS_RETENTION") or 7 * 24 * 3600))


def prune_interval() -> float:
    return float(os.environ.get("MALL_BUS_PRUNE_INTERVAL") or 3600)


def prune_bus(db: Database, older_than: timedelta) -> tuple[int, int]:
    """Delete published outbox rows and inbox rows older than `older_than`: (outbox, inbox)."""
    cutoff = utcnow() - older_than
    outbox, inbox = db.outbox, db.inbox
    totals = [0, 0]
    for i, (table, key, stamp) in enumerate(((outbox, outbox.c.id, outbox.c.published_at),
                                             (inbox, inbox.c.event_id, inbox.c.handled_at))):
        while True:
            with db.transaction() as session:
                ids = select(key).where(stamp.is_not(None), stamp < cutoff).limit(BATCH).scalar_subquery()
                deleted = session.execute(delete(table).where(key.in_(ids))).rowcount
            totals[i] += deleted
            if deleted < BATCH:
                break
    return totals[0], totals[1]


def pruning_job(db: Database):
    """The worker's periodic job (its session is unused: each batch commits on its own)."""

    def prune_outbox_and_inbox(_session: Session) -> None:
        prune_bus(db, retention())

    return prune_outbox_and_inbox
