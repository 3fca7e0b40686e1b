"""Prometheus metrics of every web process, worker and the gateway (prometheus_client).

- Web processes run under gunicorn with several processes: prometheus_client's multiprocess
  mode (PROMETHEUS_MULTIPROC_DIR, set up by gunicorn_conf) sums them on `/metrics`.
- A worker is one process: its own HTTP server (`serve()`) answers `/metrics`, `/healthz` and
  `/readyz` on MALL_WORKER_PORT (default: the web port + 100, e.g. order-worker on 8102).
- The hot path only bumps in-memory (mmap'd) values; anything that needs a query (the outbox
  backlog) is computed when Prometheus scrapes.
- Business counters count what the relay published, so they move after commit, once per fact.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from wsgiref.simple_server import WSGIRequestHandler, make_server

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from .config import DEFAULT_PORTS
from .db import Database, utcnow

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter("mall_http_requests_total", "HTTP requests answered",
                        ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("mall_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["service", "method", "route"], buckets=LATENCY_BUCKETS)
EVENTS_HANDLED = Counter("mall_events_handled_total", "Events a consumer took (outcome: handled, duplicate)",
                         ["service", "type", "outcome"])
EVENTS_RETRIED = Counter("mall_events_retried_total", "Handler failures retried", ["service", "type"])
EVENTS_DEAD = Counter("mall_events_dead_lettered_total", "Messages sent to the dead-letter queue",
                      ["service", "type"])
HANDLER_LATENCY = Histogram("mall_event_handler_duration_seconds", "Time to handle an event and commit",
                            ["service", "type"], buckets=LATENCY_BUCKETS)
EVENTS_PUBLISHED = Counter("mall_events_published_total", "Events the outbox relay published",
                           ["service", "type"])
SAGA_STEP = Histogram("mall_saga_step_duration_seconds",
                      "From an event of the order saga being recorded to its effect being committed", ["step"],
                      buckets=LATENCY_BUCKETS)
ORDERS = Counter("mall_orders_total", "Orders by what happened to them (placed, paid, cancelled)", ["status"])
GMV = Counter("mall_gmv_fen_total", "Gross merchandise value: the total of orders placed, in fen", ["currency"])
PAID = Counter("mall_paid_fen_total", "Payments confirmed, in fen", ["currency"])

# (consuming service, event type) → the saga step its handling completes.
SAGA_STEPS = {
    ("catalog", "OrderPlaced"): "order_placed_to_stock_reserved",
    ("order", "StockReserved"): "stock_reserved_to_awaiting_payment",
    ("order", "PaymentConfirmed"): "payment_confirmed_to_paid",
}


# ---- web processes ---------------------------------------------------------------------------
def registry() -> CollectorRegistry:
    """What /metrics shows: every gunicorn process's values in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        reg = CollectorRegistry()
        MultiProcessCollector(reg)
        return reg
    return REGISTRY


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def init_app(app: Flask, service: str, route: Callable[[], str | None] | None = None) -> None:
    """Count and time every request by its route: the URL rule, so ids do not explode the labels,
    unless `route()` names it better (the gateway: the API area it forwards to)."""

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            label = (route and route()) or (request.url_rule.rule if request.url_rule else "unmatched")
            HTTP_LATENCY.labels(service, request.method, label).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(service, request.method, label, str(response.status_code)).inc()
        return response

    @app.get("/metrics")
    def metrics():
        body, content_type = exposition()
        return Response(body, content_type=content_type)


# ---- workers ---------------------------------------------------------------------------------
def handled(service: str, env: dict, seconds: float, duplicate: bool) -> None:
    event_type = env["type"]
    EVENTS_HANDLED.labels(service, event_type, "duplicate" if duplicate else "handled").inc()
    if duplicate:
        return
    HANDLER_LATENCY.labels(service, event_type).observe(seconds)
    step = SAGA_STEPS.get((service, event_type))
    if step and env.get("time"):
        recorded = datetime.fromisoformat(env["time"].replace("Z", "+00:00"))
        SAGA_STEP.labels(step).observe(max(0.0, (utcnow() - recorded).total_seconds()))


def retried(service: str, event_type: str) -> None:
    EVENTS_RETRIED.labels(service, event_type).inc()


def dead_lettered(service: str, event_type: str) -> None:
    EVENTS_DEAD.labels(service, event_type).inc()


def published(service: str, rows) -> None:
    """After the relay marked `rows` (with .type and .envelope) sent: count them and the business facts."""
    for row in rows:
        EVENTS_PUBLISHED.labels(service, row.type).inc()
        if row.type in ("OrderPlaced", "OrderStatusChanged", "OrderCancelled", "PaymentConfirmed"):
            _business(row.type, json.loads(row.envelope)["data"])


def _business(event_type: str, data: dict) -> None:
    if event_type == "OrderPlaced":
        ORDERS.labels("placed").inc()
        GMV.labels(data.get("currency", "CNY")).inc(data["total"])
    elif event_type == "OrderStatusChanged" and data.get("status") == "PAID":
        ORDERS.labels("paid").inc()
    elif event_type == "OrderCancelled":
        ORDERS.labels("cancelled").inc()
    elif event_type == "PaymentConfirmed":
        PAID.labels(data.get("currency", "CNY")).inc(data["amount"])


class OutboxCollector:
    """The outbox backlog and the age of its oldest unsent event, queried at scrape time."""

    def __init__(self, db: Database, service: str):
        self.db = db
        self.service = service

    def collect(self):
        outbox = self.db.outbox
        with self.db.transaction() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
            ).one()
        backlog = GaugeMetricFamily("mall_outbox_backlog", "Events recorded but not yet published",
                                    labels=["service"])
        backlog.add_metric([self.service], count)
        age = GaugeMetricFamily("mall_outbox_oldest_unsent_age_seconds",
                                "Age of the oldest event not yet published (0 when none)", labels=["service"])
        if oldest is not None and oldest.tzinfo is None:  # SQLite returns it naive (it is UTC)
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        age.add_metric([self.service], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield backlog
        yield age


def worker_port(service: str) -> int:
    port = os.environ.get("MALL_WORKER_PORT", "").strip()
    return int(port) if port else DEFAULT_PORTS[service] + 100


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass  # scrapes and probes every few seconds would drown the worker's own log


def serve(port: int, checks: dict[str, Callable[[], tuple[bool, dict]]], host: str = "0.0.0.0"):
    """The worker's own port: /metrics, and /healthz, /readyz answered by `checks`."""

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body, content_type = exposition()
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if path.strip("/") in checks:
            ok, detail = checks[path.strip("/")]()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
            return [json.dumps({"status": "ok" if ok else "unavailable", **detail}).encode()]
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"error": {"code": "not_found", "message": "Not found", "details": {}}}']

    try:
        server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    except OSError as exc:
        raise SystemExit(f"cannot serve metrics and health on port {port} ({exc}): give this process its own "
                         "MALL_WORKER_PORT (0 picks a free one)") from exc
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics and health on port %d", server.server_port)
    return server


def serve_worker(db: Database, settings, threads: list[threading.Thread]):
    """A worker's own port: /metrics (with its outbox backlog), /healthz (its loops still run),
    /readyz (its database and the broker answer)."""
    from .outbox import connection  # outbox counts what it publishes here: import it late

    REGISTRY.register(OutboxCollector(db, settings.service))

    def ping_broker() -> None:
        with connection(settings, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)

    def alive() -> tuple[bool, dict]:
        stopped = [t.name for t in threads if not t.is_alive()]
        return not stopped, {"service": settings.service, "stopped": stopped}

    def ready() -> tuple[bool, dict]:
        checks = {}
        for name, check in (("database", db.ping), ("broker", ping_broker)):
            try:
                check()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"error: {exc.__class__.__name__}: {exc}"[:300]
        return all(v == "ok" for v in checks.values()), {"service": settings.service, "checks": checks}

    return serve(worker_port(settings.service), {"healthz": alive, "readyz": ready})
