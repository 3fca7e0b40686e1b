"""An outside subscriber that times orders' decisions: it binds its own queue to
OrderStatusChanged on `mall.events`, as any other system would, and notes when each order
reaches AWAITING_PAYMENT or CANCELLED (on the benchmark's perf_counter clock)."""
from __future__ import annotations

import json
import threading
import time

from kombu import Connection, Consumer, Exchange, Queue

DECIDED = {"AWAITING_PAYMENT", "CANCELLED"}


class OrderWatcher:
    def __init__(self, broker_url: str):
        self.broker_url = broker_url
        self.decided: dict[str, tuple[float, str]] = {}
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> OrderWatcher:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the order watcher could not subscribe")
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _on_message(self, body, message) -> None:
        at = time.perf_counter()
        data = (json.loads(body) if isinstance(body, str | bytes) else body)["data"]
        if data["status"] in DECIDED:
            with self.changed:
                self.decided.setdefault(data["order_id"], (at, data["status"]))
                self.changed.notify_all()
        message.ack()

    def _run(self) -> None:
        exchange = Exchange("mall.events", "topic", durable=True)
        queue = Queue(f"bench.watcher.{id(self)}", exchange, routing_key="OrderStatusChanged",
                      exclusive=True, auto_delete=True)
        with Connection(self.broker_url) as conn:
            with Consumer(conn.channel(), [queue], callbacks=[self._on_message], accept=None, prefetch_count=500):
                self._ready.set()
                while not self._stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    def wait(self, order_ids: list[str], timeout: float) -> dict[str, tuple[float, str]]:
        """{order_id: (decided at, status)} once every order is decided."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not all(o in self.decided for o in order_ids):
                left = deadline - time.monotonic()
                missing = sum(1 for o in order_ids if o not in self.decided)
                if left <= 0:
                    raise TimeoutError(f"{missing} of {len(order_ids)} orders undecided after {timeout}s")
                self.changed.wait(min(left, 1))
            return {o: self.decided[o] for o in order_ids}
