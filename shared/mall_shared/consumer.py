"""Consume one way: a service lists `HANDLERS = {"OrderPlaced": on_order_placed, ...}`; the
worker binds one durable queue `<service>.events` to those types and calls each handler as
`handler(event, session)` inside a transaction that also records the event id in the inbox.

- Idempotent: an event id already in the inbox is acked and skipped.
- Ack after commit: a crash before commit leaves the message to be redelivered.
- Failures: a transient one is retried later without blocking the queue, a permanent one (or
  one whose retries are spent) goes to `<service>.events.dead` at once (see retry.py).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from kombu import Consumer, Producer, Queue, binding
from kombu.mixins import ConsumerMixin
from sqlalchemy.orm import Session

from . import logs, metrics, tracing
from .config import Settings
from .db import Database, conflict_insert, utcnow
from .events import InvalidEvent, parse
from .outbox import Relay, connection, exchange
from .prune import prune_interval, pruning_job
from .retry import Retry

log = logging.getLogger(__name__)

Handler = Callable[[Any, Session], None]
Periodic = tuple[float, Callable[[Session], Any]]


def handle(db: Database, handlers: dict[str, Handler], env: dict, evt: Any) -> bool:
    """Run the handler for one event exactly once. Returns False for a duplicate."""
    return bool(handle_batch(db, handlers, [(env, evt)]))


def handle_batch(db: Database, handlers: dict[str, Handler], batch: list[tuple[dict, Any]]) -> int:
    """Run the handlers of several events in one transaction, each exactly once: all their
    effects commit together, or none do. Returns how many were not duplicates."""
    started, done = time.perf_counter(), []
    with db.transaction() as session:
        # One round trip claims the event ids: a duplicate (or a concurrent delivery of the same
        # event, which waits for the first to commit) claims nothing.
        claim = conflict_insert(db.engine, db.inbox).values([
            {"event_id": env["id"], "type": env["type"], "handled_at": utcnow()} for env, _ in batch])
        claimed = set(session.scalars(claim.on_conflict_do_nothing().returning(db.inbox.c.event_id)))
        for env, evt in batch:
            if env["id"] not in claimed:
                continue
            claimed.discard(env["id"])  # the same event twice in one batch runs once
            with logs.event_context(env), tracing.consuming(db.service, env):
                handlers[env["type"]](evt, session)
                # Written while the event is the current one: what a flush hook emits (catalog's
                # SkuChanged) carries this event's correlation id and trace, not a new one at commit.
                session.flush()
            done.append(env)
    _count_handled(db.service, batch, done, time.perf_counter() - started)
    return len(done)


def _count_handled(service: str, batch: list[tuple[dict, Any]], done: list[dict], seconds: float) -> None:
    """After commit: each event's metrics (its batch's time to commit) and one log line."""
    fresh = {env["id"] for env in done}
    for env, _ in batch:
        duplicate = env["id"] not in fresh
        fresh.discard(env["id"])
        metrics.handled(service, env, seconds, duplicate=duplicate)
        with logs.event_context(env):
            log.info("%s %s %s", "duplicate skipped:" if duplicate else "handled", env["type"], env["id"])


def deliver(db: Database, handlers: dict[str, Handler], env: dict) -> bool:
    """Hand an envelope to its handler as the worker would (tests use this directly)."""
    env, evt = parse(env)
    return handle(db, handlers, env, evt)


class Worker(ConsumerMixin):
    """Consumes `<service>.events`. Under load, the messages already delivered (up to `batch`)
    are handled in one transaction: one commit instead of one per event. If any of them fails,
    that transaction is rolled back and each is handled on its own, with its retries; alone, a
    message is handled the moment it arrives."""

    def __init__(self, db: Database, settings: Settings, handlers: dict[str, Handler], prefetch: int = 100,
                 batch: int = 50):
        self.db = db
        self.settings = settings
        self.handlers = handlers
        self.prefetch = prefetch
        self.batch = batch
        self.pending: list = []
        self.connection = connection(settings)
        name = f"{settings.service}.events"
        self.retry = Retry(settings.service, name, settings.retry_delays,
                           embedded=settings.broker_url.startswith("filesystem"))
        self.queue = Queue(name, exchange=exchange, durable=True,
                           bindings=[binding(exchange, routing_key=t) for t in sorted(handlers)] + [self.retry.back])
        self.producer: Producer | None = None

    def get_consumers(self, consumer_cls: type[Consumer], channel) -> list[Consumer]:
        exchange(channel).declare()
        self.retry.declare(channel)
        self.producer = Producer(channel)
        return [consumer_cls(queues=[self.queue], on_message=self.pending.append, prefetch_count=self.prefetch)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        self.consuming = connection  # the mixin consumes on a clone of self.connection

    def on_iteration(self) -> None:
        """Between two waits for the broker: move due retries back (embedded bus), then take what
        else has already arrived and handle it all."""
        if self.producer is not None:
            self.retry.pump(self.producer)
        if not self.pending:
            return
        while len(self.pending) < self.batch:
            try:
                self.consuming.drain_events(timeout=0)
            except TimeoutError:
                break
        messages, self.pending[:] = list(self.pending), []
        self.on_messages(messages)

    def on_messages(self, messages: list) -> None:
        batch = []
        for message in messages:
            try:
                env, evt = parse(message.body)
            except InvalidEvent as exc:
                log.error("poison message on %s: %s", self.queue.name, exc)
                metrics.dead_lettered(self.settings.service, "invalid")
                self.retry.dead_letter(self.producer, message, f"invalid event: {exc}")
                message.ack()
                continue
            if env["type"] not in self.handlers:
                message.ack()  # a binding we no longer handle; nothing to do
                continue
            batch.append((message, env, evt))
        if len(batch) > 1:
            try:
                handle_batch(self.db, self.handlers, [(env, evt) for _, env, evt in batch])
            except Exception as exc:
                log.warning("a batch of %d events failed (%r); handling each on its own", len(batch), exc)
            else:
                for message, _, _ in batch:
                    message.ack()
                return
        for message, env, evt in batch:
            with logs.event_context(env):
                self.on_message(message, env, evt)

    def on_message(self, message, env: dict, evt: Any) -> None:
        try:
            handle(self.db, self.handlers, env, evt)  # logs and counts it, duplicate or not
        except Exception as exc:
            outcome = self.retry.failed(self.producer, message, exc)
            if outcome == "dead-lettered":
                metrics.dead_lettered(self.settings.service, env["type"])
            else:
                metrics.retried(self.settings.service, env["type"])
            log.warning("handling %s %s failed (%r): %s", env["type"], env["id"], exc, outcome,
                        exc_info=outcome == "dead-lettered")
        message.ack()  # only once it is handled, parked for a retry or dead-lettered


def _run_periodic(db: Database, interval: float, job: Callable[[Session], Any], stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            with db.transaction() as session:
                job(session)
        except Exception:
            log.exception("periodic job %s failed", getattr(job, "__name__", job))


def run_worker(service: str, metadata, handlers: dict[str, Handler], periodic: Iterable[Periodic] = ()) -> None:
    """The worker process: the outbox relay, the periodic jobs and the event consumer."""
    logs.setup(service)
    tracing.setup(service)
    settings = Settings.load(service)
    db = Database(service, settings.database_url, metadata)
    stop = threading.Event()
    threads = [threading.Thread(target=Relay(db, settings).run, args=(stop,), name="relay", daemon=True)]
    periodic = [*periodic, (prune_interval(), pruning_job(db))]
    threads += [
        threading.Thread(target=_run_periodic, args=(db, interval, job, stop), name=job.__name__, daemon=True)
        for interval, job in periodic
    ]
    for t in threads:
        t.start()
    worker = Worker(db, settings, handlers) if handlers else None
    metrics.serve_worker(db, settings, threads)

    def _stop(*_):
        stop.set()
        if worker:
            worker.should_stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("%s worker started (%d handlers)", service, len(handlers))
    if worker:
        worker.run()
    else:
        stop.wait()
    stop.set()
    for t in threads:
        t.join(timeout=5)
    tracing.shutdown()
