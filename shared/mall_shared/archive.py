"""The event archive: every event published on `mall.events`, kept in publish order, so that
any read model can be rebuilt from the start (`mall-replay <service>`).

- On RabbitMQ it is a stream, `mall.archive` (x-queue-type=stream), bound to the exchange with
  `#`. Every relay declares it before it publishes, so it holds every event from the first one.
  Reading a stream does not consume it: any number of replays may read it, from the first
  message or from a point in time (`x-stream-offset`).
- On the embedded default (kombu's filesystem bus, which has no streams) it is a table in its
  own SQLite file beside the bus's folders (`<bus folder>/archive.db`; `MALL_ARCHIVE_URL` may
  name another database) that every relay appends to, keyed by event id, before it marks its
  outbox rows sent.
"""
from __future__ import annotations

import json
import logging
import os
import queue
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from kombu import Consumer, Queue, binding
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select

from .config import Settings, data_dir
from .db import UTCDateTime, conflict_insert, make_engine

log = logging.getLogger(__name__)

STREAM = "mall.archive"
metadata = MetaData()
archive_table = Table(
    "archive", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(80), nullable=False),
    Column("time", UTCDateTime, nullable=False, index=True),
    Column("envelope", Text, nullable=False),
)


def is_stream(settings: Settings) -> bool:
    """The broker keeps the archive itself (RabbitMQ); else the embedded table does."""
    return not settings.broker_url.startswith("filesystem:")


def stream_queue(**kwargs) -> Queue:
    from .outbox import exchange

    return Queue(STREAM, exchange=exchange, durable=True, bindings=[binding(exchange, routing_key="#")],
                 queue_arguments={"x-queue-type": "stream"}, **kwargs)


def declare(channel, settings: Settings) -> None:
    """Make sure the archive exists before anything is published (the relay calls this)."""
    if is_stream(settings):
        stream_queue()(channel).declare()


def _time(env: dict) -> datetime:
    return datetime.fromisoformat(env["time"].replace("Z", "+00:00"))


class TableArchive:
    """The embedded archive: an append-only table, idempotent on the event id."""

    def __init__(self, settings: Settings):
        folder = Path(settings.broker_options.get("data_folder_in") or data_dir() / "bus" / "messages").parent
        folder.mkdir(parents=True, exist_ok=True)
        self.url = os.environ.get("MALL_ARCHIVE_URL") or f"sqlite:///{folder / 'archive.db'}"
        self.engine = make_engine(self.url)
        metadata.create_all(self.engine)

    def append(self, envelopes: Iterable[str]) -> None:
        rows = []
        for raw in envelopes:
            env = json.loads(raw)
            rows.append({"event_id": env["id"], "type": env["type"], "time": _time(env), "envelope": raw})
        if rows:
            with self.engine.begin() as conn:  # a relay that published twice appends once
                conn.execute(conflict_insert(self.engine, archive_table).values(rows).on_conflict_do_nothing())

    def read(self, since: datetime | None = None, batch: int = 1000) -> Iterator[dict]:
        last = 0
        while True:
            stmt = select(archive_table.c.seq, archive_table.c.envelope).where(archive_table.c.seq > last)
            if since is not None:
                stmt = stmt.where(archive_table.c.time >= since)
            with self.engine.connect() as conn:
                rows = conn.execute(stmt.order_by(archive_table.c.seq).limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield json.loads(row.envelope)
            last = rows[-1].seq


def read_stream(settings: Settings, since: datetime | None = None, idle: float = 1.0,
                prefetch: int = 500) -> Iterator[dict]:
    """Every archived envelope from the start (or from `since`), in publish order, until the
    stream has had nothing new for `idle` seconds."""
    from .outbox import connection

    offset = since if since is not None else "first"
    received: queue.SimpleQueue = queue.SimpleQueue()
    with connection(settings) as conn:
        channel = conn.channel()
        declare(channel, settings)
        channel.basic_qos(0, prefetch, False)  # a stream is read with a bounded prefetch and acks
        q = stream_queue(consumer_arguments={"x-stream-offset": offset})
        consumer = Consumer(channel, queues=[q], on_message=received.put, no_ack=False)
        with consumer:
            while True:
                while not received.empty():
                    message = received.get()
                    env = json.loads(message.body)
                    message.ack()
                    if since is None or _time(env) >= since:  # a timestamp offset is chunk-precise
                        yield env
                try:
                    conn.drain_events(timeout=idle)
                except TimeoutError:
                    if received.empty():
                        return


def appender(settings: Settings) -> TableArchive | None:
    """What a relay appends to besides publishing: the table on the embedded bus, else nothing
    (the stream is filled by the broker itself)."""
    return None if is_stream(settings) else TableArchive(settings)


def read(settings: Settings, since: datetime | None = None, idle: float = 1.0) -> Iterator[dict]:
    """The archive of this deployment, whichever kind it is."""
    if is_stream(settings):
        return read_stream(settings, since, idle)
    return TableArchive(settings).read(since)
