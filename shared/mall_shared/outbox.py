"""Publish one way: `emit()` writes the event into the service's outbox in the caller's
transaction; the worker's `Relay` publishes committed rows to the broker with confirms.

A crash between commit and publish loses nothing (the row waits); a crash between publish and
marking it sent publishes it again, which the consumers' inbox absorbs (at-least-once).

Events leave at commit, not at the next poll: a transaction that emitted also sends
`NOTIFY mall_outbox` on PostgreSQL (delivered only if it commits) and sets an in-process signal
on the embedded default; the relay sleeps until one of them wakes it. Polling every
`MALL_RELAY_INTERVAL` seconds stays as the fallback (a missed notification, or an embedded
commit made by another process).
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import psycopg
from kombu import Connection, Exchange, Producer
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session

from . import archive, metrics, tracing
from .config import Settings
from .db import Database, utcnow
from .events import CONTENT_TYPE, EXCHANGE, envelope

log = logging.getLogger(__name__)

exchange = Exchange(EXCHANGE, type="topic", durable=True)
CHANNEL = "mall_outbox"
# Set when a transaction of this process that emitted commits (the embedded default's wake-up).
committed = threading.Event()


def connection(settings: Settings, **kwargs) -> Connection:
    """A (lazy) broker connection; on the embedded bus, its folders are made first."""
    for key in ("data_folder_in", "control_folder"):
        if key in settings.broker_options:
            Path(settings.broker_options[key]).mkdir(parents=True, exist_ok=True)
    if settings.broker_url.startswith("filesystem:"):
        kwargs.setdefault("transport", "mall_shared.fsbus:Transport")  # at-least-once (fsbus.py)
    return Connection(settings.broker_url, transport_options=settings.broker_options, **kwargs)


def emit(session: Session, evt: Any, correlation: str | None = None) -> dict:
    """Record `evt` in the outbox, in the same transaction as the state change it reports."""
    outbox = session.info["outbox"]
    env = envelope(evt, session.info["service"], correlation) | tracing.inject()
    session.execute(
        insert(outbox).values(
            event_id=env["id"], type=env["type"], envelope=json.dumps(env), created_at=utcnow()
        )
    )
    session.info["emitted"] = True
    return env


def wake_relay_on_commit(db: Database) -> None:
    """Make every transaction of `db` that emitted wake the relays when it commits."""
    postgres = db.is_postgres

    @event.listens_for(db.Session, "before_commit")
    def _notify(session: Session) -> None:
        if postgres and session.info.get("emitted"):
            session.execute(text(f"NOTIFY {CHANNEL}"))  # delivered at commit, dropped on rollback

    @event.listens_for(db.Session, "after_commit")
    def _signal(session: Session) -> None:
        if session.info.pop("emitted", False):
            committed.set()

    @event.listens_for(db.Session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop("emitted", None)


class Relay:
    """Moves committed outbox rows to the exchange. Several relays may run: rows are claimed
    with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite serializes writers anyway)."""

    def __init__(self, db: Database, settings: Settings, batch: int = 200):
        self.db = db
        self.settings = settings
        self.batch = batch
        self.archive = archive.appender(settings)

    def publish_pending(self, producer: Producer) -> int:
        outbox = self.db.outbox
        with self.db.transaction() as session:
            rows = session.execute(
                select(outbox.c.id, outbox.c.event_id, outbox.c.type, outbox.c.envelope)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                producer.publish(
                    row.envelope.encode(),
                    exchange=exchange,
                    routing_key=row.type,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=row.event_id,
                )
            if rows and self.archive:
                self.archive.append(row.envelope for row in rows)
            if rows:
                session.execute(
                    update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(published_at=utcnow())
                )
        metrics.published(self.settings.service, rows)
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            listener = None
            try:
                with connection(self.settings) as conn:
                    conn.ensure_connection(max_retries=3)
                    producer = Producer(conn.channel())
                    exchange(producer.channel).declare()
                    archive.declare(producer.channel, self.settings)
                    listener = self._listen()
                    log.info("outbox relay connected to %s", conn.as_uri())
                    while not stop.is_set():
                        if self.publish_pending(producer) < self.batch:  # caught up: sleep until a commit
                            self._wait(listener, stop)
            except Exception:
                log.exception("outbox relay failed; retrying in 1s")
                stop.wait(1)
            finally:
                if listener is not None:
                    listener.close()

    def _listen(self) -> psycopg.Connection | None:
        """On PostgreSQL, a connection of its own that LISTENs for the commits' NOTIFY."""
        if not self.db.is_postgres:
            return None
        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        listener = psycopg.connect(url, autocommit=True)
        listener.execute(f"LISTEN {CHANNEL}")
        return listener

    def _wait(self, listener: psycopg.Connection | None, stop: threading.Event) -> None:
        timeout = self.settings.relay_interval
        if listener is None:
            committed.wait(timeout)
            committed.clear()
            return
        # Notifications that came while publishing are queued on the connection: the first
        # returns at once; the rest are drained so that one wake-up serves them all.
        if any(True for _ in listener.notifies(timeout=timeout, stop_after=1)):
            for _ in listener.notifies(timeout=0):
                pass
