"""Product-page views: counted in memory by each web process and published as one ProductViewed
per period (`CATALOG_VIEWS_FLUSH_INTERVAL` seconds, default 30), never one event or one database
write per view — a page view stays a read."""
from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import Counter

from mall_shared.db import Database, utcnow
from mall_shared.events import ProductViewed, ProductViews
from mall_shared.outbox import emit

log = logging.getLogger(__name__)


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class ViewCounter:
    def __init__(self, db: Database, interval: float | None = None):
        self.db = db
        self.interval = interval or float(os.environ.get("CATALOG_VIEWS_FLUSH_INTERVAL") or 30)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.since = utcnow()
        self.stop = threading.Event()

    def count(self, product_id: str) -> None:
        with self.lock:
            self.counts[product_id] += 1

    def flush(self) -> None:
        """Publish what was counted since the last flush (kept for the next one if that fails)."""
        with self.lock:
            counts, since, self.counts, self.since = self.counts, self.since, Counter(), utcnow()
        if not counts:
            return
        views = [ProductViews(product_id=p, count=n) for p, n in sorted(counts.items())]
        try:
            with self.db.transaction() as session:
                emit(session, ProductViewed(period_start=_iso(since), period_end=_iso(utcnow()), views=views))
        except Exception:
            log.exception("publishing %d products' views failed; kept for the next period", len(counts))
            with self.lock:
                self.counts.update(counts)
                self.since = min(self.since, since)

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self.flush()

    def start(self) -> ViewCounter:
        threading.Thread(target=self._run, name="product-views", daemon=True).start()
        atexit.register(self.flush)  # a web process that stops publishes what it counted
        return self
