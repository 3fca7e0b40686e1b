"""Metrics, JSON logs and trace propagation of the shared library, in one process (the e2e tests in
tests/e2e/test_observability.py prove them across real processes)."""
import io
import json
import logging
import uuid
from types import SimpleNamespace

import pytest
import requests
from flask import Flask, g
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from sqlalchemy import MetaData, update
from sqlalchemy.exc import OperationalError

from mall_shared import logs, metrics, tracing
from mall_shared.config import Settings, broker_options
from mall_shared.consumer import Worker, handle
from mall_shared.db import Database, bus_tables, utcnow
from mall_shared.events import (
    Line,
    OrderPlaced,
    OrderStatusChanged,
    PaymentConfirmed,
    correlation_id,
    envelope,
    parse,
)
from mall_shared.outbox import emit

metadata = MetaData()
bus_tables(metadata)


@pytest.fixture
def db(tmp_path):
    database = Database("probe", f"sqlite:///{tmp_path / 'probe.db'}", metadata)
    metadata.create_all(database.engine)
    yield database
    database.dispose()


def placed(order_id: str, total: int = 100) -> OrderPlaced:
    return OrderPlaced(order_id=order_id, customer_id="c1", lines=[Line(sku_id="s1", quantity=1, unit_price=total)],
                       total=total)


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---- logs ------------------------------------------------------------------------------------
@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logs._handler()
    handler.setStream(stream)
    logger = logging.getLogger(f"test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_in_a_request_is_one_json_line_with_the_service_request_and_correlation_ids(captured):
    logger, lines = captured
    app = Flask("probe")
    with app.test_request_context("/"):
        g.request_id = "req-1"
        token = correlation_id.set("order-1")
        try:
            logger.warning("stock low: %d left\nsecond line", 2)
        finally:
            correlation_id.reset(token)
    [line] = lines()
    assert line["level"] == "WARNING" and line["message"] == "stock low: 2 left\nsecond line"
    assert line["request_id"] == "req-1" and line["correlationid"] == "order-1"
    assert "service" in line and line["time"].endswith("+00:00")


def test_inside_a_consumer_every_line_names_the_event_and_its_correlation_id(captured):
    logger, lines = captured
    with logs.event_context({"id": "e-1", "type": "OrderPlaced", "correlationid": "order-2"}):
        logger.info("handled")
    logger.info("idle")
    handled, idle = lines()
    assert (handled["event_id"], handled["event_type"], handled["correlationid"]) == ("e-1", "OrderPlaced", "order-2")
    assert "event_id" not in idle and idle["correlationid"] is None


def test_a_gunicorn_access_record_carries_method_path_status_duration_and_request_id(captured):
    logger, lines = captured
    atoms = {"h": "10.0.0.9", "m": "POST", "U": "/api/orders", "s": "201", "M": 12, "r": "POST /api/orders HTTP/1.1",
             "b": "512", "{x-request-id}o": "req-9"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', (atoms,), None)
    logger.handle(record)
    [line] = lines()
    assert line["message"] == '10.0.0.9 "POST /api/orders HTTP/1.1" 201'
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == ("POST", "/api/orders", 201, 12)
    assert line["request_id"] == "req-9" and line["remote_addr"] == "10.0.0.9"


def test_a_gunicorn_command_line_names_its_service():
    assert logs.service_from_argv(["gunicorn", "-c", "x", "order.app:create_app()"]) == "order"
    assert logs.service_from_argv(["gunicorn", "gateway.app:create_app()"]) == "gateway"


# ---- metrics ---------------------------------------------------------------------------------
def test_business_counters_count_what_the_relay_published():
    counted = [("mall_orders_total", {"status": "placed"}), ("mall_orders_total", {"status": "paid"}),
               ("mall_orders_total", {"status": "cancelled"}), ("mall_gmv_fen_total", {"currency": "CNY"}),
               ("mall_paid_fen_total", {"currency": "CNY"})]
    before = [sample(name, **labels) for name, labels in counted]

    def row(evt):
        return SimpleNamespace(type=type(evt).__name__, envelope=json.dumps(envelope(evt, "probe")))

    def status(order_id, new, old):
        return OrderStatusChanged(order_id=order_id, customer_id="c1", status=new, previous_status=old,
                                  at=utcnow().isoformat())
    metrics.published("probe", [
        row(placed("o1", 300)), row(placed("o2", 200)), row(status("o1", "PAID", "AWAITING_PAYMENT")),
        row(status("o1", "PROCESSING", "PAID")),
        row(PaymentConfirmed(payment_id="p1", order_id="o1", method="alipay", amount=300, currency="CNY")),
    ])
    after = [sample(name, **labels) for name, labels in counted]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 0, 500, 300]
    assert sample("mall_events_published_total", service="probe", type="OrderStatusChanged") >= 2


def test_the_outbox_collector_reports_the_backlog_and_the_oldest_unsent_age(db):
    with db.transaction() as session:
        emit(session, placed("o1"))
        emit(session, placed("o2"))
    found = {m.name: m.samples[0].value for m in metrics.OutboxCollector(db, "probe").collect()}
    assert found["mall_outbox_backlog"] == 2 and found["mall_outbox_oldest_unsent_age_seconds"] > 0
    with db.transaction() as session:
        session.execute(update(db.outbox).values(published_at=utcnow()))
    found = {m.name: m.samples[0].value for m in metrics.OutboxCollector(db, "probe").collect()}
    assert found == {"mall_outbox_backlog": 0, "mall_outbox_oldest_unsent_age_seconds": 0}


class Message:
    """What the worker reads of a kombu message."""

    def __init__(self, env: dict):
        self.body, self.headers, self.content_type, self.content_encoding = json.dumps(env), {}, "json", "utf-8"
        self.acked = False

    def ack(self):
        self.acked = True


def test_a_failing_handler_counts_a_retry_or_a_dead_letter_and_a_good_one_its_latency(db, tmp_path):
    url = f"filesystem://{tmp_path / 'bus'}"
    settings = Settings(service="probe", database_url="", broker_url=url, broker_options=broker_options(url, None),
                        retry_delays=(0.01, 0.01))

    def on_order_placed(evt, session):
        if evt.order_id == "bad":
            raise RuntimeError("boom")  # a bug: dead-lettered at once
        if evt.order_id == "flaky":
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))  # retried later
    worker = Worker(db, settings, {"OrderPlaced": on_order_placed})
    worker.producer = SimpleNamespace(publish=lambda *a, **kw: None)
    labels = {"service": "probe", "type": "OrderPlaced"}
    before = [sample(n, **labels) for n in ("mall_events_retried_total", "mall_events_dead_lettered_total",
                                            "mall_event_handler_duration_seconds_count")]
    bad, flaky = Message(envelope(placed("bad"), "probe")), Message(envelope(placed("flaky"), "probe"))
    good = Message(envelope(placed("good"), "probe"))
    worker.on_messages([bad, flaky, good])  # the batch fails, then each is handled on its own
    worker.on_messages([good])  # redelivered: a duplicate, not a second handling
    after = [sample(n, **labels) for n in ("mall_events_retried_total", "mall_events_dead_lettered_total",
                                           "mall_event_handler_duration_seconds_count")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert sample("mall_events_handled_total", **labels, outcome="duplicate") >= 1
    assert bad.acked and flaky.acked and good.acked  # parked for a retry or dead-lettered: never left


def test_a_workers_port_answers_metrics_and_its_health_checks():
    healthy = {"ok": True}
    server = metrics.serve(0, {"healthz": lambda: (healthy["ok"], {"service": "probe"})}, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert requests.get(base + "/healthz", timeout=5).json() == {"status": "ok", "service": "probe"}
        healthy["ok"] = False
        assert requests.get(base + "/healthz", timeout=5).status_code == 503
        res = requests.get(base + "/metrics", timeout=5)
        assert res.status_code == 200 and "mall_events_handled_total" in res.text
        assert requests.get(base + "/nope", timeout=5).status_code == 404
    finally:
        server.shutdown()


# ---- traces ----------------------------------------------------------------------------------
@pytest.fixture
def spans(monkeypatch) -> InMemorySpanExporter:
    """Tracing on in this process, spans kept in memory (the global provider can be set once)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    exporter = InMemorySpanExporter()
    trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_enabled", True)
    return exporter


def test_with_tracing_off_the_envelope_carries_no_traceparent(db):
    with db.transaction() as session:
        env = emit(session, placed("o1"))
    assert "traceparent" not in env


def test_a_consumer_continues_the_trace_of_the_request_that_emitted_the_event(db, spans):
    with trace.get_tracer("test").start_as_current_span("POST /api/orders") as request_span:
        with db.transaction() as session:
            env = emit(session, placed("o3"))
    assert env["traceparent"].split("-")[1] == format(request_span.get_span_context().trace_id, "032x")
    env, evt = parse(json.loads(json.dumps(env)))  # as it arrives off the bus
    assert handle(db, {"OrderPlaced": lambda e, s: None}, env, evt)
    [consumer] = [s for s in spans.get_finished_spans() if s.name == "OrderPlaced process"]
    assert consumer.kind == trace.SpanKind.CONSUMER
    assert consumer.context.trace_id == request_span.get_span_context().trace_id
    assert consumer.parent.span_id == request_span.get_span_context().span_id
    assert consumer.attributes["mall.correlationid"] == "o3"
