"""Retrying a failed event without blocking the queue, and dead letters.

A handler that fails for a transient reason (the database restarting, a deadlock, a service
down) is retried after each delay of `MALL_RETRY_DELAYS` (seconds; minutes in all by default)
without the consumer sleeping: the message is acked and parked in a wait queue of its own
delay, from which it comes back to the service's queue when the delay is over. A permanent
failure (a bug, a message the handler can never accept) and a message whose retries are spent
go to the dead-letter queue at once, for `mall-dlq` to show, replay or purge.

Per service, one direct exchange `<service>.retry` joins them (so a service's bus user needs
rights to nothing but `mall.events` and `<service>.*`):
  `wait.<ms>` → `<queue>.wait.<ms>`   parked for <ms>, then dead-lettered by RabbitMQ to …
  `back`      → `<queue>`             the service's own queue (retries and replays)
  `dead`      → `<queue>.dead`        dead letters, headers x-dead-reason, x-original-queue
The embedded filesystem transport has no message TTL: there the consumer moves due messages
back itself (`pump`), as STYLE.md has it: the same topology, the missing feature done by hand.
"""
from __future__ import annotations

import logging
import time

from kombu import Exchange, Queue, binding
from sqlalchemy.exc import DBAPIError, OperationalError

from .api import Unavailable

log = logging.getLogger(__name__)

# SQLSTATE classes worth retrying: connection exceptions, transaction rollbacks (deadlocks,
# serialization failures), insufficient resources, operator intervention (shutdown, restart).
TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")
TRANSIENT_SQLSTATES = ("55P03",)  # lock not available


def is_transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed (else the message is dead-lettered at once)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES:
            return True
        return isinstance(exc, OperationalError)  # SQLite's "database is locked", a lost connection
    return isinstance(exc, (ConnectionError, TimeoutError, Unavailable))


class Retry:
    """The retry and dead-letter topology of one service's queue, and the moves between them."""

    def __init__(self, service: str, queue_name: str, delays: tuple[float, ...], embedded: bool):
        self.queue_name = queue_name
        self.delays_ms = [max(1, int(d * 1000)) for d in delays]
        self.embedded = embedded
        self.exchange = Exchange(f"{service}.retry", type="direct", durable=True)
        self.dead_queue = Queue(f"{queue_name}.dead", self.exchange, routing_key="dead", durable=True)
        self.wait_queues = [self._wait_queue(ms) for ms in sorted(set(self.delays_ms))]
        self.back = binding(self.exchange, routing_key="back")
        self._pumped = 0.0

    def _wait_queue(self, ms: int) -> Queue:
        args = {} if self.embedded else {
            "x-message-ttl": ms, "x-dead-letter-exchange": self.exchange.name, "x-dead-letter-routing-key": "back"}
        return Queue(f"{self.queue_name}.wait.{ms}", self.exchange, routing_key=f"wait.{ms}", durable=True,
                     queue_arguments=args)

    def declare(self, channel) -> None:
        for queue in (self.dead_queue, *self.wait_queues):
            queue(channel).declare()

    def failed(self, producer, message, exc: BaseException) -> str:
        """Park a message whose handler raised `exc`, or dead-letter it. Returns what was done."""
        attempt = int((message.headers or {}).get("x-retry-count", 0))
        if is_transient(exc) and attempt < len(self.delays_ms):
            ms = self.delays_ms[attempt]
            self._publish(producer, message, f"wait.{ms}", {
                "x-retry-count": attempt + 1, "x-retry-at": time.time() + ms / 1000, "x-last-error": repr(exc)[:500]})
            return f"retry {attempt + 1} in {ms} ms"
        reason = repr(exc) if is_transient(exc) else f"permanent: {exc!r}"
        self.dead_letter(producer, message, reason)
        return "dead-lettered"

    def dead_letter(self, producer, message, reason: str) -> None:
        self._publish(producer, message, "dead", {"x-dead-reason": reason[:1000], "x-dead-at": time.time()})

    def _publish(self, producer, message, routing_key: str, headers: dict) -> None:
        producer.publish(
            message.body, exchange=self.exchange, routing_key=routing_key,
            headers={**(message.headers or {}), "x-original-queue": self.queue_name, **headers},
            content_type=message.content_type, content_encoding=message.content_encoding, delivery_mode=2,
            retry=True,
        )

    def pump(self, producer, every: float = 0.2) -> int:
        """Embedded bus only: move every wait queue's due messages back to the service's queue."""
        now = time.time()
        if not self.embedded or now - self._pumped < every:
            return 0
        self._pumped, moved = now, 0
        for queue in self.wait_queues:
            bound = queue(producer.channel)
            for _ in range(bound.queue_declare(passive=True).message_count):
                message = bound.get(no_ack=False)
                if message is None:
                    break
                if float((message.headers or {}).get("x-retry-at", 0)) <= now:
                    self._publish(producer, message, "back", {})
                    message.ack()
                    moved += 1
                else:
                    message.requeue()
        return moved
