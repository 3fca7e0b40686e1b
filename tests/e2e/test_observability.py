"""Operations on real processes: Prometheus metrics moved by exactly the story's orders, one trace
per order across the gateway, the services and the bus (exported over OTLP to a collector held
in this test), JSON log lines carrying the order's correlation id, worker health ports, /docs."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families

from harness import running
from mall_shared.config import SERVICES
from mall_shared.testing import eventually
from scenarios import new_customer, new_product


class Collector:
    """An OTLP/HTTP trace receiver in the test process: the spans every process exported."""

    def __init__(self):
        self.spans: list[dict] = []
        lock = threading.Lock()
        spans = self.spans

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportTraceServiceRequest.FromString(body)
                with lock:
                    for rs in req.resource_spans:
                        service = next(a.value.string_value for a in rs.resource.attributes
                                       if a.key == "service.name")
                        for ss in rs.scope_spans:
                            for s in ss.spans:
                                spans.append({"service": service, "name": s.name, "kind": s.kind,
                                              "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                                              "parent": s.parent_span_id.hex(),
                                              "attributes": {a.key: a.value.string_value for a in s.attributes}})
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def collector():
    c = Collector()
    yield c
    c.server.shutdown()


@pytest.fixture(scope="module")
def observed(tmp_path_factory, collector):
    """A platform of its own, tracing on (batches flushed every 100 ms), so its counters are the story's."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    with running(tmp_path_factory.mktemp("observed"), extra_env=env) as p:
        yield p


def scrape(url: str) -> dict[tuple, float]:
    res = requests.get(url + "/metrics", timeout=5)
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/plain")
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(res.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, *sorted(labels.items())), 0.0)


def urls(p) -> dict[str, str]:
    out = {s: f"http://127.0.0.1:{p.ports[s]}" for s in ("order", "catalog", "payment")}
    return out | {f"{s}-worker": f"http://127.0.0.1:{p.worker_ports[f'{s}-worker-0']}"
                  for s in ("order", "catalog", "payment")}


def test_metrics_of_order_and_catalog_move_by_exactly_the_storys_orders(observed, demo):
    where = urls(observed)
    before = {name: scrape(url) for name, url in where.items()}
    out = demo.run_story(observed.gateway, *observed.admin, say=lambda *_: None)
    placed = [out["order"], out["second"]]

    def delta(proc: str, name: str, **labels) -> float:
        return value(scrape(where[proc]), name, **labels) - value(before[proc], name, **labels)

    # Business counters come from the relay, after commit: wait until they have all arrived.
    eventually(lambda: delta("order-worker", "mall_orders_total", status="paid") == 1, timeout=10)
    assert delta("order-worker", "mall_orders_total", status="placed") == 2
    assert delta("order-worker", "mall_orders_total", status="cancelled") == 0
    assert delta("order-worker", "mall_gmv_fen_total", currency="CNY") == sum(o["total"] for o in placed)
    eventually(lambda: delta("payment-worker", "mall_paid_fen_total", currency="CNY") == out["order"]["total"])

    # The saga's steps: each placed order reserved once, one order paid.
    assert delta("catalog-worker", "mall_saga_step_duration_seconds_count", step="order_placed_to_stock_reserved") == 2
    assert delta("order-worker", "mall_saga_step_duration_seconds_count",
                 step="stock_reserved_to_awaiting_payment") == 2
    assert delta("order-worker", "mall_saga_step_duration_seconds_count", step="payment_confirmed_to_paid") == 1
    assert delta("catalog-worker", "mall_events_handled_total", service="catalog", type="OrderPlaced",
                  outcome="handled") == 2
    assert delta("catalog-worker", "mall_event_handler_duration_seconds_count", service="catalog",
                 type="OrderPlaced") == 2
    assert delta("order-worker", "mall_events_published_total", service="order", type="OrderPlaced") == 2
    assert delta("catalog-worker", "mall_events_dead_lettered_total", service="catalog", type="OrderPlaced") == 0

    # HTTP: two checkouts accepted and one refused, each timed, in the order web process.
    checkout = {"service": "order", "method": "POST", "route": "/api/orders"}
    assert delta("order", "mall_http_requests_total", **checkout, status="201") == 2
    assert delta("order", "mall_http_requests_total", **checkout, status="409") == 1
    assert delta("order", "mall_http_request_duration_seconds_count", **checkout) == 3
    assert delta("catalog", "mall_http_requests_total", service="catalog", method="POST",
                 route="/api/catalog/products", status="201") == 1

    # The outbox is drained: backlog 0 and no unsent age.
    after = scrape(where["order-worker"])
    assert value(after, "mall_outbox_backlog", service="order") == 0
    assert value(after, "mall_outbox_oldest_unsent_age_seconds", service="order") == 0


def test_one_order_is_one_trace_from_the_gateway_through_order_catalog_and_back(observed, demo, collector):
    admin = demo.login(observed.gateway, *observed.admin)
    sku = new_product(observed, demo, admin)["skus"][0]
    customer = new_customer(observed, demo)
    order = demo.place_order(customer, sku["id"], 1)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(customer, order["id"], "AWAITING_PAYMENT"))

    reserving, reserved = ("mall-catalog", "OrderPlaced process"), ("mall-order", "StockReserved process")

    def the_trace():
        consumed = {(s["service"], s["name"]): s for s in collector.spans
                    if s["attributes"].get("mall.correlationid") == order["id"]}
        if {reserving, reserved} - set(consumed):
            return None
        trace_id = consumed[reserving]["trace_id"]
        spans = [s for s in collector.spans if s["trace_id"] == trace_id]
        roots = [s for s in spans if not s["parent"]]
        return roots and roots[0]["service"] == "mall-gateway" and (spans, consumed)
    spans, consumed = eventually(the_trace, timeout=15)

    services = {s["service"] for s in spans}
    assert {"mall-gateway", "mall-order", "mall-catalog"} <= services
    # gateway → order (HTTP) → bus → catalog → bus → order, one trace id throughout.
    assert consumed[reserved]["trace_id"] == consumed[reserving]["trace_id"]
    by_id = {s["span_id"]: s for s in spans}
    chain, span = [], consumed[reserved]
    while span:
        chain.append(span["service"])
        span = by_id.get(span["parent"])
    # Walking up from order's StockReserved consumer: catalog's OrderPlaced consumer, order's request, the gateway.
    assert chain[0] == "mall-order" and chain[-1] == "mall-gateway"
    assert chain.index("mall-catalog") < len(chain) - 1 - chain[::-1].index("mall-order"), chain
    assert any(s["service"] == "mall-order" and s["attributes"].get("db.system") for s in spans)  # SQL traced


def test_every_log_line_is_json_with_the_orders_correlation_id_in_its_consumers(observed, demo):
    admin = demo.login(observed.gateway, *observed.admin)
    sku = new_product(observed, demo, admin)["skus"][0]
    customer = new_customer(observed, demo)
    order = demo.place_order(customer, sku["id"], 1)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(customer, order["id"], "AWAITING_PAYMENT"))

    def lines() -> list[dict]:
        records = []
        for path in sorted((observed.workdir / "logs").glob("*.log")):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                try:
                    records.append(json.loads(line) | {"_file": path.stem})
                except ValueError:
                    pytest.fail(f"{path.name}:{n} is not JSON: {line[:300]}")
        return records

    def handled_by_both():
        records = [r for r in lines() if r.get("correlationid") == order["id"] and r.get("event_type")]
        files = {r["_file"] for r in records}
        return {"catalog-worker-0", "order-worker-0"} <= files and records
    for r in eventually(handled_by_both, timeout=10):
        assert r["event_id"] and r["_file"] == f"{r['service']}-worker-0", r
    records = lines()
    for r in records:
        assert r["service"] and r["level"] and "message" in r, r
    access = [r for r in records if r.get("logger") == "gunicorn.access" and r["_file"] == "gateway"
              and r.get("path") == "/api/orders" and r.get("method") == "POST"]
    assert access and all(r["request_id"] and r["status"] in (201, 409) for r in access)
    order_access = [r for r in records if r.get("logger") == "gunicorn.access" and r["_file"] == "order"
                    and r.get("request_id") == access[-1]["request_id"]]
    assert order_access, "the gateway's request id reaches the order service's access log"


def test_each_worker_answers_health_and_the_gateway_serves_swagger_ui_without_a_cdn(observed):
    for name, port in observed.worker_ports.items():
        base = f"http://127.0.0.1:{port}"
        assert requests.get(base + "/healthz", timeout=5).json()["status"] == "ok", name
        ready = requests.get(base + "/readyz", timeout=5).json()
        assert ready["checks"] == {"database": "ok", "broker": "ok"}, (name, ready)
    page = requests.get(observed.gateway + "/docs", timeout=5)
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text and "://" not in page.text
    config = requests.get(observed.gateway + "/docs/swagger-config.json", timeout=5).json()
    assert {u["name"] for u in config["urls"]} == set(SERVICES)
    for entry in config["urls"]:
        doc = requests.get(observed.gateway + entry["url"], timeout=5)
        assert doc.status_code == 200 and doc.json()["openapi"].startswith("3."), entry
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "docs.js"):
        assert requests.get(f"{observed.gateway}/docs/static/{asset}", timeout=5).status_code == 200
